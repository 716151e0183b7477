// Tests of the store folder: blobs, frames cache, image settings, health check.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "core/sha256.h"
#include "store/frame_segments.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes-store-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

std::vector<uint8_t> Pixels(int size, uint8_t seed) {
  std::vector<uint8_t> pixels(3u * size * size);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7 + seed);
  return pixels;
}

TEST(Store, PutBlobIsContentAddressedAndDeduplicates) {
  const fs::path dir = TempDir("blob");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  const std::string text = "hello sticker";
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  auto hash = (*store)->PutBlob(bytes);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(*hash, ToHex(Sha256Of(std::string_view(text))));
  EXPECT_TRUE((*store)->HasBlob(*hash));
  EXPECT_EQ((*store)->BlobPath(*hash), dir / "blobs" / hash->substr(0, 2) / hash->substr(2));
  auto again = (*store)->PutBlob(bytes);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *hash);
  auto read = (*store)->ReadBlob(*hash);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(std::string(read->begin(), read->end()), text);
  EXPECT_FALSE((*store)->ReadBlob(std::string(64, 'a')).ok());
  fs::remove_all(dir);
}

TEST(Store, FramesRoundTripAndSizeIsChecked) {
  const fs::path dir = TempDir("frames");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  const std::string blob(64, 'b');
  const auto a = Pixels(32, 1), b = Pixels(32, 2);
  const FrameData frames[] = {{{0, 0, 1}, a}, {{5, 500, 2}, b}};
  ItemRecord item{blob, 10, "gif", 64, 64, 9, kItemOk, ""};
  auto added = (*store)->AddItem(item, nullptr, frames, "cat");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  auto read = (*store)->ReadFrames(blob);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->count, 2);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), read->Frame(0).begin()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), read->Frame(1).begin()));
  auto records = (*store)->catalog().Frames(blob);
  ASSERT_TRUE(records.ok());
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[1].index, 5);
  EXPECT_EQ((*records)[1].timestamp_ms, 500);

  const auto wrong = Pixels(16, 3);
  const FrameData bad[] = {{{0, 0, 1}, wrong}};
  EXPECT_FALSE((*store)->AppendFrames(std::string(64, 'c'), bad).ok());
  fs::remove_all(dir);
}

ImageSettings Settings(int size, FitMode fit, uint8_t grey, int max_frames) {
  ImageSettings settings;
  settings.size = size;
  settings.fit = fit;
  settings.background[0] = settings.background[1] = settings.background[2] = grey;
  settings.max_frames = max_frames;
  return settings;
}

TEST(Store, ImageSettingsAreRecordedAndAChangeIsDetectable) {
  const fs::path dir = TempDir("settings");
  {
    StoreOptions options;
    options.image_settings = Settings(32, FitMode::kCrop, 0, 7);
    auto store = Store::Open(dir, options);
    ASSERT_TRUE(store.ok());
  }
  auto store = Store::Open(dir);  // default options: the recorded settings win
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->image_settings(), Settings(32, FitMode::kCrop, 0, 7));
  EXPECT_NE((*store)->image_settings(), ImageSettings{});

  const auto pixels = Pixels(32, 4);
  const FrameData frames[] = {{{0, 0, 7}, pixels}};
  ASSERT_TRUE(
      (*store)
          ->AddItem({std::string(64, 'd'), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr, frames, "x")
          .ok());
  ASSERT_TRUE((*store)->ResetFrames(Settings(16, FitMode::kPad, 255, 4)).ok());
  EXPECT_EQ((*store)->image_settings().size, 16);
  auto index = (*store)->catalog().PackIndex();
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index->empty()) << "items without frames are not packable";
  auto stale = (*store)->catalog().ItemsWithoutFrames();
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(*stale, std::vector<std::string>{std::string(64, 'd')});
  const auto small = Pixels(16, 5);
  const FrameData rebuilt[] = {{{0, 0, 7}, small}};
  ASSERT_TRUE((*store)->AddFrames(std::string(64, 'd'), rebuilt).ok());
  index = (*store)->catalog().PackIndex();
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->size(), 1u);
  fs::remove_all(dir);
}

TEST(Store, ABadRecordedSettingIsCorruptAndNamesTheCatalog) {
  for (const auto& [key, value] : {std::pair<const char*, const char*>{"fit", "squash"},
                                   {"background", "#12"},
                                   {"max_frames", "0"},
                                   {"image_size", "32px"}}) {
    const fs::path dir = TempDir("bad-settings");
    {
      auto store = Store::Open(dir);
      ASSERT_TRUE(store.ok());
      ASSERT_TRUE((*store)->catalog().SetMeta(key, value).ok());
    }
    auto store = Store::Open(dir);
    ASSERT_FALSE(store.ok()) << key;
    EXPECT_EQ(store.status().code(), StatusCode::kCorrupt) << key;
    EXPECT_NE(store.status().message().find(key), std::string::npos) << store.status().ToString();
    EXPECT_NE(store.status().where().find("catalog.sqlite"), std::string::npos);
    fs::remove_all(dir);
  }
}

TEST(Store, CheckFindsADamagedFramesRecord) {
  const fs::path dir = TempDir("check");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  const std::string text = "blob";
  auto hash = (*store)->PutBlob(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  ASSERT_TRUE(hash.ok());
  const auto pixels = Pixels(32, 6);
  const FrameData frames[] = {{{0, 0, 7}, pixels}};
  ASSERT_TRUE(
      (*store)->AddItem({*hash, 4, "png", 8, 8, 1, kItemOk, ""}, nullptr, frames, "x").ok());
  auto check = (*store)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->faults.empty());
  auto location = (*store)->catalog().FramesLocationOf(*hash);
  ASSERT_TRUE(location.ok() && location->in_segment());
  ASSERT_TRUE(DamageFramesForTesting(dir / "frames", *hash, *location).ok());
  check = (*store)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->frames_missing, 1);
  ASSERT_EQ(check->faults.size(), 1u);
  EXPECT_NE(check->faults[0].find(hash->substr(2)), std::string::npos);
  fs::remove_all(dir);
}

ItemRecord Item(const std::string& blob) { return {blob, 10, "png", 32, 32, 1, kItemOk, ""}; }

TEST(Store, ABatchSyncsItsFramesOnceAndAFailedSyncCommitsNothing) {
  const fs::path dir = TempDir("batch");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  std::vector<std::vector<uint8_t>> pixels;
  for (int i = 0; i < 6; ++i) pixels.push_back(Pixels(32, static_cast<uint8_t>(i)));
  auto add_batch = [&](int first, int count) {
    return (*store)->CommitBatch([&]() -> Status {
      for (int i = first; i < first + count; ++i) {
        // Distinct hashes far apart: each item founds its own group.
        const FrameData frames[] = {{{0, 0, 0x0101010101010101ull * uint64_t(i)}, pixels[i]}};
        MEMES_RETURN_IF_ERROR(
            (*store)->AddItem(Item(std::string(64, "abcdef"[i])), nullptr, frames, "x").status());
      }
      return Status::Ok();
    });
  };
  FailFrameSyncsForTesting(1);
  const Status failed = add_batch(0, 3);
  FailFrameSyncsForTesting(0);
  EXPECT_EQ(failed.code(), StatusCode::kIoError) << failed.ToString();
  EXPECT_EQ(*(*store)->catalog().CountItems(), 0) << "a batch whose frames are not durable";
  ASSERT_TRUE(add_batch(0, 3).ok());
  ASSERT_TRUE(add_batch(3, 3).ok());
  EXPECT_EQ(*(*store)->catalog().CountItems(), 6);
  auto segments = ListSegments(dir / "frames");
  ASSERT_TRUE(segments.ok());
  // The failed sync closed its segment (after an fsync error the kernel may have dropped its
  // pages): the next batches went into a second one, and both share it.
  EXPECT_EQ(segments->size(), 2u);
  for (int i = 0; i < 6; ++i) {
    auto read = (*store)->ReadFrames(std::string(64, "abcdef"[i]));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(std::equal(pixels[i].begin(), pixels[i].end(), read->Frame(0).begin()));
  }
  // The failed batch's records are in the segment but named by nothing: compaction drops them.
  auto compacted = (*store)->CompactFrames();
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(compacted->records, 6);
  EXPECT_LT(compacted->bytes_after, compacted->bytes_before);
  for (int i = 0; i < 6; ++i) {
    auto read = (*store)->ReadFrames(std::string(64, "abcdef"[i]));
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_TRUE(std::equal(pixels[i].begin(), pixels[i].end(), read->Frame(0).begin()));
  }
  auto check = (*store)->Check();  // (these items have no blob files: frames alone count here)
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->frames_missing, 0);
  fs::remove_all(dir);
}

// A store from before schema 3: one frames file per item (frames/ab/cdef….bin), no location in
// the catalog. It still reads, packs and checks; compaction moves it into a segment.
TEST(Store, OldLayoutFramesFilesStillReadAndCompactionMigratesThem) {
  const fs::path dir = TempDir("legacy");
  const std::string blob(64, 'e');
  const auto a = Pixels(32, 9), b = Pixels(32, 10);
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok());
    std::vector<uint8_t> both(a);
    both.insert(both.end(), b.begin(), b.end());
    ASSERT_TRUE(WriteLegacyFramesFile((*store)->FramesPath(blob), 32, 2, both).ok());
    const FrameRecord records[] = {{0, 0, 1}, {3, 300, 2}};
    ASSERT_TRUE((*store)->catalog().AddItem(Item(blob), nullptr, records, "cat").ok());
  }
  {
    // Make the catalog a schema-2 one: without the location columns, the thumbnails and the
    // second hashes.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "catalog.sqlite").c_str(), &db), SQLITE_OK);
    for (const char* sql :
         {"DROP INDEX frames_unsigned", "ALTER TABLE frames DROP COLUMN phash_rule",
          "ALTER TABLE items DROP COLUMN frames_segment",
          "ALTER TABLE items DROP COLUMN frames_offset",
          "ALTER TABLE items DROP COLUMN frames_length", "ALTER TABLE frames DROP COLUMN thumb",
          "ALTER TABLE frames DROP COLUMN phash2", "ALTER TABLE items DROP COLUMN representative",
          "ALTER TABLE frames DROP COLUMN thumb2", "ALTER TABLE groups DROP COLUMN absorbed",
          "PRAGMA user_version=2"}) {
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    }
    sqlite3_close(db);
  }
  auto store =
      Store::Open(dir);  // migrates to 3, 4 (frames.thumb), 5 (frames.phash2), 6, 7 (thumb2)
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->catalog().schema_version(), kCatalogSchemaVersion);
  auto index = (*store)->catalog().PackIndex();
  ASSERT_TRUE(index.ok());
  ASSERT_EQ(index->size(), 1u);
  EXPECT_FALSE((*index)[0].frames_at.in_segment());
  auto read = (*store)->ReadFrames(blob, (*index)[0].frames_at);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->count, 2);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), read->Frame(1).begin()));
  auto check = (*store)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->frames_missing, 0);

  auto compacted = (*store)->CompactFrames();
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_EQ(compacted->legacy_files, 1);
  EXPECT_FALSE(fs::exists((*store)->FramesPath(blob)));
  auto location = (*store)->catalog().FramesLocationOf(blob);
  ASSERT_TRUE(location.ok());
  EXPECT_TRUE(location->in_segment());
  read = (*store)->ReadFrames(blob);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->count, 2);
  EXPECT_TRUE(std::equal(a.begin(), a.end(), read->Frame(0).begin()));
  EXPECT_TRUE(std::equal(b.begin(), b.end(), read->Frame(1).begin()));
  fs::remove_all(dir);
}

TEST(Store, ARecordOfAnotherBlobOrATornRecordIsRefusedWithItsPlace) {
  const fs::path dir = TempDir("torn");
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  const auto pixels = Pixels(32, 11);
  const FrameData frames[] = {{{0, 0, 7}, pixels}};
  ASSERT_TRUE((*store)->AddItem(Item(std::string(64, 'a')), nullptr, frames, "x").ok());
  auto location = (*store)->catalog().FramesLocationOf(std::string(64, 'a'));
  ASSERT_TRUE(location.ok());
  auto other = (*store)->ReadFrames(std::string(64, 'b'), *location);
  EXPECT_EQ(other.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(other.status().ToString().find("seg-000001.bin @16"), std::string::npos)
      << other.status().ToString();
  FramesLocation past_end = *location;
  past_end.offset += 8;
  auto torn = (*store)->ReadFrames(std::string(64, 'a'), past_end);
  EXPECT_EQ(torn.status().code(), StatusCode::kCorrupt) << torn.status().ToString();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::store
