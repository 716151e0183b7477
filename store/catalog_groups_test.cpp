// Near-duplicate grouping in the catalog (founder-only joining, orientation probes, the
// founder index across reopen) and regrouping a store (store/regroup.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "store/catalog.h"
#include "store/regroup.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

// Undoes the migration to schema 10 (frames_unsigned names phash_rule, so it goes first): the
// start of every downgrade below it.
const std::string kUndoSchema10 =
    "DROP INDEX frames_unsigned; ALTER TABLE frames DROP COLUMN phash_rule; ";

// A 12×12 RGB thumbnail of "picture" p: a pattern of its own per picture; `shift` brightens it
// (a colour-corrected copy).
std::vector<uint8_t> PictureThumb(int p, int shift = 0) {
  std::vector<uint8_t> thumb(kThumbBytes);
  for (size_t i = 0; i < kThumbBytes; ++i) {
    const int value = static_cast<int>((i * (7 + 13 * p) + 31 * p) % 200) + 20 + shift;
    thumb[i] = static_cast<uint8_t>(std::min(value, 255));
  }
  return thumb;
}

class CatalogGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("memes-groups-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
    Reopen(8);
  }
  void TearDown() override {
    catalog_.reset();
    fs::remove_all(path_);
  }
  void Reopen(int distance, int representatives = 1) {
    catalog_.reset();
    CatalogOptions options;
    options.rule.distance = distance;
    options.rule.representatives = representatives;
    auto catalog = Catalog::Open(path_ / "catalog.sqlite", options);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  }
  // Closes the catalog and runs `sql` on its file: a store of an older schema for the migration
  // tests.
  void Downgrade(const std::string& sql) {
    catalog_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((path_ / "catalog.sqlite").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  static std::string Hash(char c) { return std::string(64, c); }
  int64_t Add(char c, uint64_t phash, std::vector<uint64_t> probes = {}) {
    const FrameRecord frames[] = {{0, 0, phash}};
    auto added = catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr, frames,
                                   "cat", probes);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->group : -1;
  }
  // Adds item `c` with one frame carrying every signature (content hash 0x1234 with its
  // thumbnail, a band hash with its own): where the migration tests start. Returns its group.
  int64_t AddSigned(char c) {
    const FrameRecord frame{0, 0, 0x1234, PictureThumb(1), 0xF0F0F0F0F0F0F0F0ull, PictureThumb(2)};
    auto added = catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                                   std::span(&frame, 1), "cat");
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->group : -1;
  }
  // Catalog::CountFramesWithoutSignatures (-1 on an error, which fails the test).
  int64_t StaleFrames() {
    auto stale = catalog_->CountFramesWithoutSignatures();
    EXPECT_TRUE(stale.ok()) << stale.status().ToString();
    return stale.ok() ? *stale : -1;
  }
  // Item `c`'s frame after a migration that drops band hashes: no band hash or band thumbnail,
  // and AddSigned's content hash and thumbnail.
  void ExpectBandDroppedContentKept(char c) {
    auto frames = catalog_->Frames(Hash(c));
    ASSERT_TRUE(frames.ok()) << frames.status().ToString();
    EXPECT_FALSE(frames->at(0).phash2.has_value());
    EXPECT_TRUE(frames->at(0).thumb2.empty());
    EXPECT_EQ(frames->at(0).phash, 0x1234u);
    EXPECT_EQ(frames->at(0).thumb, PictureThumb(1));
  }
  std::string KeyOf(char c) {
    auto index = catalog_->PackIndex();
    EXPECT_TRUE(index.ok());
    for (const PackEntry& entry : *index) {
      if (entry.blob == Hash(c)) return entry.group_key;
    }
    return "";
  }

  fs::path path_;
  std::unique_ptr<Catalog> catalog_;
};

// Bits 0..k-1 set.
uint64_t Low(int k) { return k == 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1; }

TEST_F(CatalogGroupsTest, OnlyTheFounderAttractsSoAChainDoesNotGrowOneGroup) {
  // A, B 7 bits apart; B, C 7 bits apart; A, C 14 bits apart (threshold 8).
  const int64_t a = Add('a', 0);
  const int64_t b = Add('b', Low(7));
  const int64_t c = Add('c', Low(14));
  EXPECT_EQ(b, a) << "B is near the founder A";
  EXPECT_NE(c, a) << "C is near B but far from the founder A: a group of its own";
  // D is near C's founder C (and near B): it joins C, the nearer founder.
  EXPECT_EQ(Add('d', Low(14) ^ 1), c);
}

// Hash only (no thumbnails), 8 bits, two representatives: B, accepted by the founder A,
// represents the group, so C (near B only) joins it; C does not represent, so D (near C only)
// founds a group. The representatives persist: after a reopen E (near B only) still joins, the
// set stays capped at two, and a regroup with the same rule changes nothing.
TEST_F(CatalogGroupsTest, RepresentativesAttractPersistAndStayCapped) {
  Reopen(8, 2);
  const int64_t a = Add('a', 0);
  EXPECT_EQ(Add('b', Low(7)), a);
  EXPECT_EQ(Add('c', Low(14)), a) << "7 bits from the representative B";
  const int64_t d = Add('d', Low(21));
  EXPECT_NE(d, a) << "7 bits from C, which does not represent";
  Reopen(8, 2);
  EXPECT_EQ(Add('e', Low(7) | (Low(7) << 40)), a) << "7 bits from B, 14 from A";
  // F: 7 bits from A, accepted, but the set (A, B) is full; G near F only founds a group.
  EXPECT_EQ(Add('f', Low(7) << 50), a);
  EXPECT_NE(Add('g', Low(14) << 50), a);
  MatchRule rule;
  rule.verify = false;
  rule.distance = 8;
  rule.representatives = 2;
  auto regrouped = RegroupStore(
      *catalog_, rule, [](const GroupingItem&) { return Result<ItemHashes>(ItemHashes{}); });
  ASSERT_TRUE(regrouped.ok()) << regrouped.status().ToString();
  EXPECT_EQ(regrouped->changed, 0);
  EXPECT_EQ(regrouped->representatives, 1);
  // Founder alone: regrouping moves C and E out of A's group.
  rule.representatives = 1;
  regrouped = RegroupStore(*catalog_, rule,
                           [](const GroupingItem&) { return Result<ItemHashes>(ItemHashes{}); });
  ASSERT_TRUE(regrouped.ok());
  EXPECT_EQ(regrouped->representatives, 0);
  EXPECT_NE(KeyOf('c'), Hash('a'));
  EXPECT_NE(KeyOf('e'), Hash('a'));
  EXPECT_EQ(KeyOf('b'), Hash('a'));
  // The marks went with the regroup: with two representatives again, B no longer attracts.
  Reopen(8, 2);
  EXPECT_NE(Add('h', Low(7) | (Low(7) << 30)), a);
}

// A store from schema 5 has no representative marks: it migrates with every item marked 0,
// which is the founder-only grouping it was made with.
TEST_F(CatalogGroupsTest, TheMigrationToRepresentativesKeepsFounderOnlyGroups) {
  const int64_t a = Add('a', 0);
  EXPECT_EQ(Add('b', Low(7)), a);
  ASSERT_NO_FATAL_FAILURE(
      Downgrade(kUndoSchema10 + "ALTER TABLE items DROP COLUMN representative; "
                                "ALTER TABLE frames DROP COLUMN thumb2; "
                                "ALTER TABLE groups DROP COLUMN absorbed; PRAGMA user_version=5"));
  Reopen(8, 4);
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  EXPECT_NE(Add('c', Low(14)), a) << "B was not marked a representative by the old grouping";
  EXPECT_EQ(Add('d', Low(6) << 20), a) << "a new member the founder accepts represents";
  EXPECT_EQ(Add('e', Low(12) << 20), a) << "6 bits from D, 12 from A";
}

TEST_F(CatalogGroupsTest, NearestFounderWinsAndTiesGoToTheOlderGroup) {
  const int64_t a = Add('a', 0);
  const int64_t b = Add('b', Low(16));
  EXPECT_NE(a, b);
  EXPECT_EQ(Add('c', Low(9)), b) << "7 bits from B, 9 from A";
  EXPECT_EQ(Add('d', Low(8)), a) << "8 bits from each: the older group";
}

TEST_F(CatalogGroupsTest, RotatedOrMirroredProbesJoinTheFoundersGroup) {
  const uint64_t picture = 0x123456789ABCDEF0ULL;
  const int64_t a = Add('a', picture);
  // A re-upload turned a quarter: its own hash is far, but one of its orientations' hashes
  // (here the fourth) is within 2 bits of the picture.
  const uint64_t turned = ~picture;
  EXPECT_EQ(Add('b', turned, {turned, 0x0F0F0F0F0F0F0F0FULL, 0xFF, picture ^ 3}), a);
  // Without orientation probes the same hash founds a group of its own.
  EXPECT_NE(Add('c', turned ^ (1ULL << 60)), a);
}

TEST_F(CatalogGroupsTest, FounderIndexIsRebuiltFromTheCatalogOnOpen) {
  const int64_t a = Add('a', 0);
  const int64_t b = Add('b', ~uint64_t{0});
  Reopen(8);
  EXPECT_EQ(Add('c', Low(5)), a);
  EXPECT_EQ(Add('d', ~Low(5)), b);
  EXPECT_NE(Add('e', Low(32)), a);
}

TEST_F(CatalogGroupsTest, RegroupAppliesANewThresholdAndKeepsLabelGroupMerges) {
  Reopen(15);
  // A chain at threshold 15 in one group (founder A): B 8 bits from A, C 12 from A.
  Add('a', 0);
  Add('b', Low(8));
  Add('c', Low(12));
  // A far picture F with a near copy G, and H: F and H merged by hand (`label group`).
  Add('f', ~uint64_t{0});
  Add('g', ~Low(3));
  Add('h', 0xAAAAAAAAAAAAAAAAULL);
  const GroupMerge merge{"fh", {Hash('f'), Hash('h')}};
  ASSERT_TRUE(catalog_->MergeGroups(std::span(&merge, 1)).ok());
  EXPECT_EQ(KeyOf('c'), Hash('a'));
  EXPECT_EQ(KeyOf('h'), Hash('f'));

  const HashesOf stored = [](const GroupingItem&) { return Result<ItemHashes>(ItemHashes{}); };
  auto report = RegroupStore(*catalog_, 6, stored);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->items, 6);
  EXPECT_EQ(report->groups_before, 2);
  // At 6 bits: A alone… B (8 from A) founds, C (4 from B) joins B; F, G, H stay one group.
  EXPECT_EQ(report->groups_after, 3);
  EXPECT_EQ(report->changed, 2);  // B and C
  EXPECT_EQ(report->merged_groups, 1);
  EXPECT_EQ(report->largest_after, 3);
  EXPECT_EQ(report->sizes_after, (std::map<int64_t, int64_t>{{1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(KeyOf('a'), Hash('a'));
  EXPECT_EQ(KeyOf('b'), Hash('b'));
  EXPECT_EQ(KeyOf('c'), Hash('b'));
  EXPECT_EQ(KeyOf('g'), Hash('f'));
  EXPECT_EQ(KeyOf('h'), Hash('f')) << "the hand-made merge survives";

  // The catalog's own lookups follow the new groups: B is a founder now.
  Reopen(6);
  EXPECT_EQ(KeyOf('b'), Hash('b'));
  Add('x', Low(8) ^ (1ULL << 40));
  EXPECT_EQ(KeyOf('x'), Hash('b'));
  // Regrouping again with the same threshold changes nothing.
  auto again = RegroupStore(*catalog_, 6, stored);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->changed, 0);
  EXPECT_FALSE(RegroupStore(*catalog_, 16, stored).ok());
}

TEST_F(CatalogGroupsTest, RegroupStoresRecomputedHashesSoLaterLookupsProbeLikeWithLike) {
  Reopen(6);
  // Stored under an older signature: A and B far apart. Recomputed (a new signature), B's
  // hash is 2 bits from A's: the regroup joins them and stores the new hashes, so a later item
  // near the new hash of A joins A's group through the catalog's own founder index.
  Add('a', 0x1111111111111111ULL);
  Add('b', 0x2222222222222222ULL);
  const std::map<std::string, uint64_t> recomputed = {{Hash('a'), Low(20)}, {Hash('b'), Low(22)}};
  const HashesOf fresh = [&](const GroupingItem& item) {
    const auto it = recomputed.find(item.blob);  // others: their stored hashes
    return Result<ItemHashes>(
        it == recomputed.end() ? ItemHashes{} : ItemHashes{{it->second}, {}, {}, {}, {}, {}});
  };
  auto report = RegroupStore(*catalog_, 6, fresh);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->groups_after, 1);
  EXPECT_EQ(report->rehashed_frames, 2);
  auto items = catalog_->GroupingItems();
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].phashes, std::vector<uint64_t>{Low(20)});
  EXPECT_EQ((*items)[1].phashes, std::vector<uint64_t>{Low(22)});
  Add('x', Low(21));
  EXPECT_EQ(KeyOf('x'), Hash('a'));
  // A dry run stores nothing; a wrong count of hashes is refused whole.
  auto again = RegroupStore(*catalog_, 6, fresh, /*dry_run=*/true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rehashed_frames, 0);
  const std::pair<std::string, std::vector<uint64_t>> wrong[] = {{Hash('a'), {1, 2}}};
  EXPECT_EQ(catalog_->RewriteFrameHashes(wrong).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(CatalogGroupsTest, VerifiedMatchingUsesStoredThumbnailsAfterReopenAndInRegroup) {
  Reopen(6);  // verified defaults: candidates within 8 bits, thumbnails within 30
  auto add = [&](char c, uint64_t phash, std::vector<uint8_t> thumb) {
    FrameRecord frame{0, 0, phash, std::move(thumb), {}};
    auto added = catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                                   std::span(&frame, 1), "cat");
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->group : -1;
  };
  const int64_t a = add('a', 0, PictureThumb(1));
  // B: 2 bits from A's hash but another picture (a look-alike): a group of its own.
  const int64_t b = add('b', Low(2), PictureThumb(2));
  EXPECT_NE(b, a);
  // C: 7 bits from A (past 6, within the candidate radius; 7 and more from every other hash
  // below) and A's picture brightened: joins A.
  static_assert(kDefaultCandidateDistance >= 7);
  const uint64_t c = Low(9) & ~Low(2);
  EXPECT_EQ(add('c', c, PictureThumb(1, 12)), a);
  // The founders' thumbnails come back from the catalog after a reopen.
  Reopen(6);
  EXPECT_EQ(add('d', Low(3), PictureThumb(2, 5)), b);
  EXPECT_EQ(add('e', Low(4), PictureThumb(1)), a);
  // A frame without a thumbnail (a caller from before schema 4) is matched by hash alone.
  EXPECT_EQ(Add('f', Low(1)), a) << "1 bit from A, the nearer founder by hash";

  // Regrouping with thumbnails recomputed keeps these groups; by hash alone B and D join A
  // (2 and 3 bits) and C (7 bits) leaves it.
  std::map<std::string, std::vector<uint8_t>> thumbs = {{Hash('a'), PictureThumb(1)},
                                                        {Hash('b'), PictureThumb(2)},
                                                        {Hash('c'), PictureThumb(1, 12)},
                                                        {Hash('d'), PictureThumb(2, 5)},
                                                        {Hash('e'), PictureThumb(1)}};
  const HashesOf with_thumbs = [&](const GroupingItem& item) {
    ItemHashes hashes;
    hashes.own = item.phashes;
    auto it = thumbs.find(item.blob);
    if (it != thumbs.end()) hashes.own_thumbs = it->second;
    return Result<ItemHashes>(hashes);
  };
  auto verified = RegroupStore(*catalog_, MatchRule{}, with_thumbs, /*dry_run=*/true);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->changed, 0);
  EXPECT_EQ(verified->verified_items, 5);
  MatchRule hash_only;
  hash_only.verify = false;
  auto by_hash = RegroupStore(*catalog_, hash_only, with_thumbs);
  ASSERT_TRUE(by_hash.ok()) << by_hash.status().ToString();
  EXPECT_EQ(KeyOf('b'), Hash('a'));
  EXPECT_EQ(KeyOf('d'), Hash('a'));
  EXPECT_EQ(KeyOf('c'), Hash('c'));
  // Back to verified: the regroup also stored the thumbnails of every item that had one.
  auto back = RegroupStore(*catalog_, MatchRule{}, with_thumbs);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(KeyOf('b'), Hash('b'));
  EXPECT_EQ(KeyOf('c'), Hash('a'));
  auto frames = catalog_->Frames(Hash('c'));
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames->at(0).thumb, PictureThumb(1, 12));
}

// Online bridging (MatchRule::bridge_distance): A and C, two copies out of each other's
// reach, found groups; B, which both founders accept, merges C's group into A's. The merge is
// in the catalog: C represents A's group after a reopen (C's copy D joins A), A's group is marked
// as having absorbed one, and regrouping the store the same way changes nothing.
TEST_F(CatalogGroupsTest, AnItemBothFoundersAcceptMergesTheirGroupsAndTheMergeIsStored) {
  const std::vector<uint8_t> a_thumb = PictureThumb(1);
  std::vector<uint8_t> b_thumb(a_thumb), c_thumb(a_thumb);
  for (size_t i = 0; i < kThumbBytes; ++i) {
    const int step = a_thumb[i] > 128 ? -30 : 30;
    if (i % 4 == 0) b_thumb[i] = c_thumb[i] = static_cast<uint8_t>(a_thumb[i] + step);
    if (i % 4 == 1) c_thumb[i] = static_cast<uint8_t>(a_thumb[i] + step);
  }
  CatalogOptions options;
  options.rule.representatives = 1;
  const MatchRule& rule = options.rule;
  ASSERT_GT(ThumbDistance(a_thumb, c_thumb, rule.trim, rule.contrast), rule.thumb_distance);
  options.rule.bridge_distance =
      std::max(ThumbDistance(a_thumb, b_thumb, rule.trim, rule.contrast),
               ThumbDistance(b_thumb, c_thumb, rule.trim, rule.contrast));
  ASSERT_LE(rule.bridge_distance, rule.thumb_distance);
  auto open = [&] {
    catalog_.reset();
    auto catalog = Catalog::Open(path_ / "catalog.sqlite", options);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  };
  auto add = [&](char c, uint64_t phash, const std::vector<uint8_t>& thumb) {
    FrameRecord frame{0, 0, phash, thumb, {}};
    auto added = catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                                   std::span(&frame, 1), "cat");
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->group : -1;
  };
  ASSERT_NO_FATAL_FAILURE(open());
  const int64_t a = add('a', 0, a_thumb);
  const int64_t c = add('c', Low(6), c_thumb);
  EXPECT_NE(c, a);
  EXPECT_EQ(add('b', Low(3), b_thumb), a);
  EXPECT_EQ(KeyOf('c'), Hash('a'));
  // Another picture founds a group, which SQLite gives the deleted group's id: its copy joins
  // it, not A's group (the index relabels a merged group's frames instead of aliasing its id).
  const int64_t x = add('x', ~uint64_t{0}, PictureThumb(5));
  EXPECT_NE(x, a);
  EXPECT_EQ(add('y', ~uint64_t{0} ^ 1, PictureThumb(5)), x);
  EXPECT_EQ(KeyOf('y'), Hash('x'));
  ASSERT_NO_FATAL_FAILURE(open());
  EXPECT_EQ(add('d', Low(6) ^ (Low(2) << 40), c_thumb), a) << "through C, now A's representative";
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((path_ / "catalog.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT COUNT(*), SUM(absorbed) FROM groups", -1, &stmt, nullptr),
        SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(stmt, 0), 2) << "C's group is gone, X's is there";
    EXPECT_EQ(sqlite3_column_int(stmt, 1), 1) << "A's group absorbed one";
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  const std::map<std::string, std::vector<uint8_t>> thumbs = {
      {Hash('a'), a_thumb}, {Hash('b'), b_thumb},         {Hash('c'), c_thumb},
      {Hash('d'), c_thumb}, {Hash('x'), PictureThumb(5)}, {Hash('y'), PictureThumb(5)}};
  const HashesOf stored = [&](const GroupingItem& item) {
    ItemHashes hashes;
    hashes.own = item.phashes;
    hashes.own_thumbs = thumbs.at(item.blob);
    return Result<ItemHashes>(hashes);
  };
  auto regrouped = RegroupStore(*catalog_, rule, stored);
  ASSERT_TRUE(regrouped.ok()) << regrouped.status().ToString();
  EXPECT_EQ(regrouped->changed, 0);
  EXPECT_EQ(regrouped->groups_after, 2);
  EXPECT_EQ(regrouped->bridged, 1);
  // Without bridging the regroup splits C and its copy D off again.
  MatchRule apart = rule;
  apart.bridge_distance = -1;
  regrouped = RegroupStore(*catalog_, apart, stored);
  ASSERT_TRUE(regrouped.ok()) << regrouped.status().ToString();
  EXPECT_EQ(regrouped->groups_after, 3);
  EXPECT_EQ(KeyOf('d'), Hash('c'));
}

// The crawl's grouping one item at a time (Catalog::AddItem: the loaded index, merges in the
// item's transaction, representatives counted from the catalog) and a regroup of the same items
// in the same order (AssignFounders) agree, bridges and representatives included: regrouping a
// store with the rule it was crawled with moves nothing.
TEST_F(CatalogGroupsTest, OnlineGroupingWithBridgesEqualsARegroupInTheSameOrder) {
  std::mt19937_64 random(21);
  CatalogOptions options;  // the defaults (verified) but bridges within 25 (the far copies below
  options.rule.bridge_distance = 25;  // are 21 from the original, 32 apart) and 2 representatives
  options.rule.representatives = 2;   // (so that a merged group's count decides)
  auto opened = Catalog::Open(path_ / "bridges.sqlite", options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Catalog& catalog = **opened;
  // Per picture: two copies changed in different quarters of the bytes (out of each other's
  // reach, each within the bridge distance of the original), then the original, then copies
  // changed a little. The two far copies of every picture arrive before the rest, so each
  // founds a group and the original bridges them.
  constexpr int kPictures = 12, kCopies = 8;
  struct Item {
    int picture;
    int kind;  // 0, 1: the far copies; 2: the original; 3: a near copy
  };
  std::vector<Item> order, rest;
  for (int p = 0; p < kPictures; ++p) {
    order.push_back({p, 0});
    order.push_back({p, 1});
    rest.push_back({p, 2});
    for (int k = 0; k < kCopies; ++k) rest.push_back({p, 3});
  }
  std::shuffle(order.begin(), order.end(), random);
  std::shuffle(rest.begin(), rest.end(), random);
  order.insert(order.end(), rest.begin(), rest.end());
  std::vector<uint64_t> centres(kPictures);
  for (uint64_t& centre : centres) centre = random();
  std::map<std::string, std::vector<uint8_t>> thumbs;
  for (size_t i = 0; i < order.size(); ++i) {
    const Item item = order[i];
    uint64_t hash = centres[item.picture];
    for (int flips = static_cast<int>(random() % 4); flips > 0; --flips) {
      hash ^= 1ull << random() % 64;
    }
    std::vector<uint8_t> thumb = PictureThumb(item.picture);
    for (size_t b = 0; b < thumb.size(); ++b) {
      const bool far = item.kind < 2 && static_cast<int>(b % 4) == 2 * item.kind;
      const bool near = item.kind == 3 && random() % 16 == 0;
      if (far || near)
        thumb[b] = static_cast<uint8_t>(thumb[b] > 128 ? thumb[b] - 24 : thumb[b] + 24);
    }
    char name[65];
    std::snprintf(name, sizeof name, "%064zu", i);
    FrameRecord frame{0, 0, hash, thumb, {}};
    auto added = catalog.AddItem({name, 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                                 std::span(&frame, 1), "cat");
    ASSERT_TRUE(added.ok()) << added.status().ToString();
    thumbs[name] = thumb;
  }
  const HashesOf stored = [&](const GroupingItem& item) {
    ItemHashes hashes;
    hashes.own = item.phashes;
    hashes.own_thumbs = thumbs.at(item.blob);
    return Result<ItemHashes>(hashes);
  };
  auto regrouped = RegroupStore(catalog, options.rule, stored, /*dry_run=*/true);
  ASSERT_TRUE(regrouped.ok()) << regrouped.status().ToString();
  EXPECT_EQ(regrouped->changed, 0);
  EXPECT_EQ(regrouped->groups_after, kPictures);
  {
    // The same representatives too (a merged group's founder counted among its new group's).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((path_ / "bridges.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM items WHERE representative=1", -1, &stmt,
                                 nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_EQ(regrouped->representatives, sqlite3_column_int(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  // The same items without bridges: the far copies keep groups of their own.
  MatchRule apart = options.rule;
  apart.bridge_distance = -1;
  auto without = RegroupStore(catalog, apart, stored, /*dry_run=*/true);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_GE(without->groups_after, kPictures + kPictures / 2);
  // One merge per group fewer.
  EXPECT_EQ(regrouped->bridged, without->groups_after - kPictures);
}

// A store from schema 4 has no second hashes: after the migration its founders are candidates
// through their first hash only, and a regroup that recomputes the second hashes and their
// thumbnails stores them, so a later item whose first hash moved but whose band hash is near
// joins.
TEST_F(CatalogGroupsTest, SecondHashesComeFromTheMigrationAsNoneAndFromARegroup) {
  CatalogOptions options;
  options.rule.candidate_distance = 6;
  options.rule.second_distance = 6;
  options.rule.representatives = 1;  // the founder alone: what the second source finds is the point
  auto reopen = [&] {
    catalog_.reset();
    auto catalog = Catalog::Open(path_ / "catalog.sqlite", options);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    catalog_ = std::move(catalog).value();
  };
  reopen();
  auto add = [&](char c, uint64_t phash, std::optional<uint64_t> second) {
    FrameRecord frame{
        0, 0, phash, PictureThumb(1), second, second ? PictureThumb(2) : std::vector<uint8_t>()};
    auto added = catalog_->AddItem({Hash(c), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                                   std::span(&frame, 1), "cat");
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->group : -1;
  };
  const uint64_t second_a = 0xF0F0F0F0F0F0F0F0ull;
  const int64_t a = add('a', 0, std::nullopt);
  // Back to schema 4: no phash2 column.
  ASSERT_NO_FATAL_FAILURE(
      Downgrade(kUndoSchema10 + "ALTER TABLE items DROP COLUMN representative; "
                                "ALTER TABLE frames DROP COLUMN thumb2; "
                                "ALTER TABLE frames DROP COLUMN phash2; "
                                "ALTER TABLE groups DROP COLUMN absorbed; PRAGMA user_version=4"));
  reopen();
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  auto frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_FALSE(frames->at(0).phash2.has_value());
  // B: A's picture, its first hash 12 bits away (no candidate), its second hash 2 bits from
  // what A's would be: A has none yet, so B founds a group.
  const int64_t b = add('b', Low(12), second_a ^ 0x3);
  EXPECT_NE(b, a);
  // Regrouping with the second hashes recomputed (A's = second_a) stores them; B then joins A.
  const HashesOf recomputed = [&](const GroupingItem& item) {
    ItemHashes hashes;
    hashes.own = item.phashes;
    hashes.own_thumbs = PictureThumb(1);
    hashes.own_second = {item.blob == Hash('a') ? second_a : second_a ^ 0x3};
    hashes.own_second_thumbs = PictureThumb(2);
    return Result<ItemHashes>(hashes);
  };
  MatchRule rule = options.rule;
  auto regrouped = RegroupStore(*catalog_, rule, recomputed);
  ASSERT_TRUE(regrouped.ok()) << regrouped.status().ToString();
  EXPECT_EQ(regrouped->changed, 1);
  EXPECT_EQ(KeyOf('b'), Hash('a'));
  frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames->at(0).phash2, second_a);
  EXPECT_EQ(frames->at(0).thumb2, PictureThumb(2));
  // After a reopen the founder index loads A's second hash: C (first hash 13 bits off, second
  // 3 bits) joins; D (both far) founds a group; without the second source C would not join.
  reopen();
  EXPECT_EQ(add('c', Low(13), second_a ^ 0x7), a);
  EXPECT_NE(add('d', Low(13), ~second_a), a);
  options.rule.second_distance = -1;
  reopen();
  EXPECT_NE(add('e', Low(13), second_a ^ 0x7), a);
}

// Schema 7 redefined the second hash (the middle band's, with a thumbnail of its own): the
// whole-frame second hashes a schema-6 store holds are dropped by the migration, not compared
// with band hashes; the first hash and its thumbnail stay. (The migration to 11 drops every
// band hash too, so the drop checked here and in the schema-9 test below is theirs together.)
TEST_F(CatalogGroupsTest, TheMigrationToBandHashesDropsTheOldSecondHashes) {
  FrameRecord frame{0, 0, 0x1234, PictureThumb(1), 0xF0F0F0F0F0F0F0F0ull, PictureThumb(2)};
  ASSERT_TRUE(catalog_
                  ->AddItem({Hash('a'), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                            std::span(&frame, 1), "cat")
                  .ok());
  auto frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_EQ(frames->at(0).phash2, 0xF0F0F0F0F0F0F0F0ull);
  EXPECT_EQ(frames->at(0).thumb2, PictureThumb(2));
  ASSERT_NO_FATAL_FAILURE(
      Downgrade(kUndoSchema10 +
                "ALTER TABLE frames DROP COLUMN thumb2; ALTER TABLE groups DROP COLUMN absorbed; "
                "PRAGMA user_version=6"));
  Reopen(8);
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_FALSE(frames->at(0).phash2.has_value());
  EXPECT_TRUE(frames->at(0).thumb2.empty());
  EXPECT_EQ(frames->at(0).phash, 0x1234u);
  EXPECT_EQ(frames->at(0).thumb, PictureThumb(1));
}

// Schema 9 sets a band hash's bits above a margin: the median-thresholded band hashes (and
// their thumbnails) of a schema-8 store are dropped; the first hash, its thumbnail and every
// group stay.
TEST_F(CatalogGroupsTest, TheMigrationToMarginBandBitsDropsTheOldSecondHashes) {
  const int64_t a = AddSigned('a');
  EXPECT_EQ(Add('b', 0x1234 ^ 0x3), a);
  EXPECT_EQ(StaleFrames(), 1) << "b was added without signatures";
  ASSERT_NO_FATAL_FAILURE(Downgrade(kUndoSchema10 + "PRAGMA user_version=8"));
  Reopen(8);
  EXPECT_EQ(StaleFrames(), 2) << "a's band hash is gone";
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  ExpectBandDroppedContentKept('a');
  EXPECT_EQ(KeyOf('b'), Hash('a'));
  // The first hash still finds the founder after the migration.
  EXPECT_EQ(Add('c', 0x1234 ^ 0x5), a);
}

// Schema 10 sets the content hash's bits above a margin: the hashes of a schema-9 store are kept
// (with their thumbnails and groups; the band hashes go at schema 11, below) but counted as
// lacking a signature until a rewrite by the current rule marks them; a frame added with an
// old-rule hash (as a store merge copies one from an unregrouped store) keeps its mark.
TEST_F(CatalogGroupsTest, TheMigrationToMarginContentBitsMarksOldContentHashesUntilRewritten) {
  AddSigned('a');
  EXPECT_EQ(StaleFrames(), 0);
  ASSERT_NO_FATAL_FAILURE(
      Downgrade(kUndoSchema10 +
                "CREATE INDEX frames_unsigned ON frames(blob) WHERE thumb IS NULL OR phash2 IS "
                "NULL; PRAGMA user_version=9"));
  Reopen(8);
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  EXPECT_EQ(StaleFrames(), 1) << "a's content hash is by the old rule";
  auto frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_FALSE(frames->at(0).phash_current);
  EXPECT_EQ(frames->at(0).phash, 0x1234u);
  EXPECT_EQ(frames->at(0).thumb, PictureThumb(1));
  EXPECT_FALSE(frames->at(0).phash2.has_value()) << "schema 11 drops the band hash";
  // A rewrite marks every frame of the items it names, whether its hash changed or not.
  const std::pair<std::string, std::vector<uint64_t>> same[] = {{Hash('a'), {0x1234}}};
  const std::vector<uint8_t> thumbs[] = {PictureThumb(1)};
  const std::vector<uint64_t> seconds[] = {{0xF0F0F0F0F0F0F0F0ull}};
  const std::vector<uint8_t> second_thumbs[] = {PictureThumb(2)};
  auto rewritten = catalog_->RewriteFrameHashes(same, thumbs, seconds, second_thumbs);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status().ToString();
  EXPECT_EQ(*rewritten, 0);
  EXPECT_EQ(StaleFrames(), 0);
  frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_TRUE(frames->at(0).phash_current);
  FrameRecord old_rule{0, 0, 0x9999};
  old_rule.phash_current = false;
  ASSERT_TRUE(catalog_
                  ->AddItem({Hash('b'), 1, "png", 8, 8, 1, kItemOk, ""}, nullptr,
                            std::span(&old_rule, 1), "cat")
                  .ok());
  frames = catalog_->Frames(Hash('b'));
  ASSERT_TRUE(frames.ok());
  EXPECT_FALSE(frames->at(0).phash_current);
}

// Schema 11 takes the band from rows 9-22, not 8-23: the band hashes and band thumbnails of a
// schema-10 store are dropped (counted as lacking a signature until `memes dedupe` rewrites
// them); the content hash, its thumbnail and mark, and every group stay, and the content hash
// still finds the founder.
TEST_F(CatalogGroupsTest, TheMigrationToBandRowsNineToTwentyTwoDropsTheOldBandHashes) {
  const int64_t a = AddSigned('a');
  EXPECT_EQ(StaleFrames(), 0);
  ASSERT_NO_FATAL_FAILURE(Downgrade("PRAGMA user_version=10"));
  Reopen(8);
  EXPECT_EQ(catalog_->schema_version(), kCatalogSchemaVersion);
  EXPECT_EQ(StaleFrames(), 1) << "a's band hash is by the old rows";
  ExpectBandDroppedContentKept('a');
  auto frames = catalog_->Frames(Hash('a'));
  ASSERT_TRUE(frames.ok());
  EXPECT_TRUE(frames->at(0).phash_current);
  EXPECT_EQ(Add('c', 0x1234 ^ 0x5), a);
}

}  // namespace
}  // namespace memes::store
