// Tests of the store folder: blobs, frames cache, image settings, health check.
#include "store/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/sha256.h"

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
  EXPECT_FALSE((*store)->WriteFrames(std::string(64, 'c'), bad).ok());
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

TEST(Store, CheckFindsAMissingFramesFile) {
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
  fs::remove((*store)->FramesPath(*hash));
  check = (*store)->Check();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->frames_missing, 1);
  ASSERT_EQ(check->faults.size(), 1u);
  EXPECT_NE(check->faults[0].find(hash->substr(2)), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::store
