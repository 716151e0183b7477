// The one dataset.json / index.tsv reader on hostile input: wrong types, absurd sizes, paths,
// counts whose byte arithmetic overflows. Each gives an error naming the file and the field.
#include "store/dataset_manifest.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace memes::store {
namespace {

using Json = nlohmann::json;

const std::string kSha(64, 'a');

Json Valid() {
  return {{"format", "memes-cifar"},
          {"format_version", 1},
          {"image_size", 32},
          {"channels", 3},
          {"record_bytes", 3073},
          {"classes", {"cat", "dog"}},
          {"files",
           {{"data_batch_1.bin", {{"records", 4}, {"bytes", 4 * 3073}, {"sha256", kSha}}},
            {"test_batch.bin", {{"records", 1}, {"bytes", 3073}, {"sha256", kSha}}},
            {"index.tsv", {{"bytes", 10}, {"sha256", kSha}}}}},
          {"counts", {{"train", {{"cat", 2}, {"dog", 2}}}, {"test", {{"cat", 1}}}}},
          {"mean", {0.5, 0.5, 0.5}},
          {"std", {0.2, 0.2, 0.2}},
          {"augment", "rot4"},
          {"rotate_test", false}};
}

Result<DatasetManifest> Parse(const std::string& text) {
  return ParseManifest(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                       "shards/dataset.json");
}
Result<DatasetManifest> Parse(const Json& json) { return Parse(json.dump()); }

// The error names the file and contains `field`.
void ExpectError(const Result<DatasetManifest>& result, const std::string& field) {
  ASSERT_FALSE(result.ok()) << field;
  EXPECT_NE(result.status().ToString().find("shards/dataset.json"), std::string::npos);
  EXPECT_NE(result.status().ToString().find(field), std::string::npos)
      << result.status().ToString();
}

TEST(DatasetManifest, AValidManifestParses) {
  auto manifest = Parse(Valid());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->record_bytes, 3073);
  EXPECT_EQ(manifest->train_files, std::vector<std::string>{"data_batch_1.bin"});
  EXPECT_EQ(manifest->test_file, "test_batch.bin");
  EXPECT_EQ(manifest->train_counts, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(manifest->test_counts, (std::vector<int64_t>{1, -1}));
}

TEST(DatasetManifest, WrongTypesNameTheField) {
  const std::pair<std::string, Json> cases[] = {
      {"image_size", "32"}, {"image_size", 32.5},     {"channels", Json::array()},
      {"classes", "cat"},   {"classes", {1, 2}},      {"files", Json::array()},
      {"mean", {0.5, 0.5}}, {"std", {"a", "b", "c"}}, {"rotate_test", "yes"},
      {"augment", 4},       {"format_version", "1"},  {"record_bytes", nullptr},
      {"counts", "many"}};
  for (const auto& [field, value] : cases) {
    Json json = Valid();
    json[field] = value;
    ExpectError(Parse(json), field);
  }
  Json json = Valid();
  json["files"]["data_batch_1.bin"]["records"] = "4";
  ExpectError(Parse(json), "files.data_batch_1.bin.records");
  json = Valid();
  json["counts"]["train"]["cat"] = -2;
  ExpectError(Parse(json), "counts.train.cat");
  json = Valid();
  json["counts"]["train"]["bird"] = 1;
  ExpectError(Parse(json), "counts.train.bird");
  ExpectError(Parse(std::string("[1, 2]")), "not a JSON object");
  ExpectError(Parse(std::string("{\"format\": ")), "not valid JSON");
}

TEST(DatasetManifest, ImageSettingsAreReadAndOldFilesGetTheDefaults) {
  // A dataset.json of an older memes records no settings: the documented defaults, flagged.
  auto old = Parse(Valid());
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_FALSE(old->image_settings_recorded);
  EXPECT_EQ(old->image, ImageSettings{});
  EXPECT_EQ(old->image.size, 32);

  Json json = Valid();
  json["fit"] = "crop";
  json["background"] = "000000";
  json["max_frames"] = 2;
  auto recorded = Parse(json);
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_TRUE(recorded->image_settings_recorded);
  EXPECT_EQ(DescribeImageSettings(recorded->image),
            "size 32, fit crop, background 000000, max_frames 2");

  const std::pair<std::string, Json> cases[] = {{"fit", "squash"},        {"fit", 1},
                                                {"background", "#12345"}, {"background", 0},
                                                {"max_frames", 0},        {"max_frames", "4"}};
  for (const auto& [field, value] : cases) {
    Json bad = json;
    bad[field] = value;
    ExpectError(Parse(bad), field);
  }
  // All three or none: one alone is a damaged file, not an old one.
  for (const char* kept : {"fit", "background", "max_frames"}) {
    Json partial = Valid();
    partial[kept] = json[kept];
    auto result = Parse(partial);
    ASSERT_FALSE(result.ok()) << kept;
    EXPECT_NE(result.status().message().find("missing"), std::string::npos)
        << result.status().ToString();
  }
}

TEST(DatasetManifest, AbsurdSizesAreRefused) {
  for (const Json& size : {Json(0), Json(-1), Json(4097), Json(int64_t{1} << 40),
                           Json(uint64_t{18446744073709551615u})}) {
    Json json = Valid();
    json["image_size"] = size;
    ExpectError(Parse(json), "image_size");
  }
  Json json = Valid();
  json["record_bytes"] = 3072;
  ExpectError(Parse(json), "record_bytes");
  json = Valid();
  json["classes"] = Json::array();
  ExpectError(Parse(json), "classes");
  json = Valid();
  json["classes"] = std::vector<std::string>(257, "x");
  ExpectError(Parse(json), "classes");
  json = Valid();
  json["classes"] = {"cat", "cat"};
  ExpectError(Parse(json), "classes");
  json = Valid();
  json["classes"] = {"cat", "dog\nbird"};
  ExpectError(Parse(json), "classes");
}

TEST(DatasetManifest, RecordCountsWhoseByteSizeOverflowsAreRefused) {
  // 6 004 799 503 160 662 × 3073 wraps around 2^64 to a small number: a reader multiplying in
  // 64 bits without a check would accept it and index far outside the file.
  const uint64_t records = 6004799503160662u;
  Json json = Valid();
  json["files"]["data_batch_1.bin"]["records"] = records;
  json["files"]["data_batch_1.bin"]["bytes"] = records * 3073;  // wrapped
  ExpectError(Parse(json), "files.data_batch_1.bin");
  json = Valid();
  json["files"]["data_batch_1.bin"]["records"] = 5;  // 5 × 3073 ≠ 4 × 3073
  ExpectError(Parse(json), "files.data_batch_1.bin");
}

TEST(DatasetManifest, FileNamesThatLeaveTheFolderAreRefused) {
  for (const std::string name : {"../data_batch_1.bin", "/etc/passwd", "a/b.bin", "..", ".hidden",
                                 "x.bin.tmp-1-2\n", "", "data batch.bin"}) {
    Json json = Valid();
    json["files"][name] = {{"bytes", 0}, {"sha256", kSha}, {"records", 0}};
    ExpectError(Parse(json), "files.");
  }
  EXPECT_FALSE(IsSafeShardFileName("a..b"));
  EXPECT_TRUE(IsSafeShardFileName("data_batch_12.bin"));
}

TEST(DatasetManifest, DeepNestingAndHugeFilesAreRefusedBeforeParsing) {
  ExpectError(Parse(std::string(100000, '[') + std::string(100000, ']')), "nested");
  ExpectError(Parse(std::string(17u << 20, ' ')), "MiB");
}

TEST(IndexRow, FieldsAreCheckedAgainstTheManifest) {
  auto manifest = Parse(Valid());
  ASSERT_TRUE(manifest.ok());
  auto row = ParseIndexRow("data_batch_1.bin\t3\t" + kSha + "\t0\t1\t1\tdog\t0000abcd", *manifest,
                           "index.tsv:2");
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->record, 3u);
  EXPECT_EQ(row->crc32, 0xabcdu);
  const std::pair<std::string, std::string> bad[] = {
      {"../data_batch_1.bin\t0\tb\t0\t0\t0\tcat\t00000000", "file"},
      {"/etc/passwd.bin\t0\tb\t0\t0\t0\tcat\t00000000", "file"},
      {"index.tsv\t0\tb\t0\t0\t0\tcat\t00000000", "file"},
      {"data_batch_1.bin\t4\tb\t0\t0\t0\tcat\t00000000", "record"},
      {"data_batch_1.bin\t18446744073709551615\tb\t0\t0\t0\tcat\t00000000", "record"},
      {"data_batch_1.bin\t99999999999999999999999\tb\t0\t0\t0\tcat\t00000000", "record"},
      {"data_batch_1.bin\t-1\tb\t0\t0\t0\tcat\t00000000", "record"},
      {"data_batch_1.bin\t0\tb\t0\t4\t0\tcat\t00000000", "rotation"},
      {"data_batch_1.bin\t0\tb\t0\t0\t2\tcat\t00000000", "label"},
      {"data_batch_1.bin\t0\tb\t0\t0\t0\tcat\tzz", "crc32"},
      {"data_batch_1.bin\t0\tb\t0\t0\t0\tcat", "7 tab-separated fields"},
      {"data_batch_1.bin\t0\tb\t0\t0\t0\tcat\t00000000\textra", "more than 8"},
  };
  for (const auto& [line, field] : bad) {
    auto parsed = ParseIndexRow(line, *manifest, "index.tsv:9");
    ASSERT_FALSE(parsed.ok()) << line;
    EXPECT_NE(parsed.status().ToString().find("index.tsv:9"), std::string::npos);
    EXPECT_NE(parsed.status().ToString().find(field), std::string::npos)
        << line << " -> " << parsed.status().ToString();
  }
}

}  // namespace
}  // namespace memes::store
