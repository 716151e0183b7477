#include "pipelines/pipeline_file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

namespace memes::pipelines {
namespace {

constexpr const char* kGood = R"(store = "out/store"

[image]
size = 32
fit = "crop"
background = "#00ff80"

[politeness]
max_transfers = 16
per_host_rate = 2.5

[classes]
mushroom_head = ["蘑菇头", "蘑菇头表情包"]
kumamon = ["熊本熊"]
panda_head = "熊猫头"

[[sources]]
kind = "search"
url = "http://127.0.0.1:8080/search?q={keyword}&page={page}"
pages = 3
extract = "json:thumb"

[[sources]]
kind = "urls"
file = "urls.tsv"
)";

TEST(PipelineFile, ParsesEverySection) {
  auto config = ParsePipelineText(kGood, "good.toml", "/data");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->store, std::filesystem::path("/data/out/store"));
  EXPECT_EQ(config->image.size, 32);
  EXPECT_EQ(config->image.fit, FitMode::kCrop);
  EXPECT_EQ(config->image.background[1], 255);
  EXPECT_EQ(config->image.background[2], 0x80);
  EXPECT_EQ(config->image.max_frames, 4);  // default kept
  EXPECT_EQ(config->politeness.max_transfers, 16);
  EXPECT_DOUBLE_EQ(config->politeness.per_host_rate, 2.5);
  // Classes keep file order, not toml++'s sorted key order.
  ASSERT_EQ(config->classes.size(), 3u);
  EXPECT_EQ(config->classes[0].name, "mushroom_head");
  EXPECT_EQ(config->classes[0].keywords.at(1), "蘑菇头表情包");
  EXPECT_EQ(config->classes[1].name, "kumamon");
  EXPECT_EQ(config->classes[2].keywords, std::vector<std::string>{"熊猫头"});
  ASSERT_EQ(config->sources.size(), 2u);
  EXPECT_EQ(config->sources[0].kind, SourceKind::kSearch);
  EXPECT_EQ(config->sources[0].pages, 3);
  EXPECT_EQ(config->sources[0].extract, "json:thumb");
  EXPECT_EQ(config->sources[0].line, 17);  // the [[sources]] header
  EXPECT_EQ(config->sources[1].path, std::filesystem::path("/data/urls.tsv"));
}

TEST(PipelineFile, CrawlLimitsPagesInFlightAndMinSide) {
  auto defaults = ParsePipelineText(kGood, "good.toml", "/data");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->politeness.pages_in_flight, 8);
  EXPECT_EQ(defaults->image.min_side, 16);
  auto set = ParsePipelineText(
      "[image]\nmin_side = 4\n[politeness]\npages_in_flight = 3\n[classes]\na = \"b\"\n",
      "set.toml", ".");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->politeness.pages_in_flight, 3);
  EXPECT_EQ(set->image.min_side, 4);
  auto bad = ParsePipelineText("[politeness]\npages_in_flight = 0\n[classes]\na = \"b\"\n",
                               "bad.toml", ".");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("pages_in_flight"), std::string::npos);
}

TEST(PipelineFile, SyntaxErrorNamesFileAndLine) {
  const std::string text = "store = \"s\"\n[classes]\na = [\"x\"\n\n";
  auto config = ParsePipelineText(text, "broken.toml", ".");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("broken.toml:"), std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find("TOML syntax"), std::string::npos);
}

TEST(PipelineFile, EveryMistakeReportedWithLineAndKey) {
  const std::string text =
      "stor = \"typo\"\n"               // line 1: unknown key
      "[image]\n"                       // 2
      "size = 4\n"                      // 3: out of range
      "fit = \"zoom\"\n"                // 4: bad enum
      "[classes]\n"                     // 5
      "a = [\"x\", 3]\n"                // 6: keyword not a string
      "[[sources]]\n"                   // 7
      "kind = \"search\"\n"             // 8
      "url = \"http://h/s?q=cats\"\n";  // 9: no {keyword}
  auto config = ParsePipelineText(text, "bad.toml", ".");
  ASSERT_FALSE(config.ok());
  const std::string message = config.status().message();
  EXPECT_NE(message.find("bad.toml:1: stor: unknown key"), std::string::npos) << message;
  EXPECT_NE(message.find("bad.toml:3: image.size: must be between 8 and 256, got 4"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("bad.toml:4: image.fit:"), std::string::npos) << message;
  EXPECT_NE(message.find("bad.toml:6: classes.a: keywords must be non-empty strings"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("bad.toml:9: sources[0].url: the template has no {keyword}"),
            std::string::npos)
      << message;
}

TEST(PipelineFile, DedupeTableSetsThresholdAndOrientations) {
  auto defaults = ParsePipelineText(kGood, "good.toml", "/data");
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->dedupe.threshold, store::kDefaultNearDuplicateDistance);
  EXPECT_TRUE(defaults->dedupe.orientations);
  auto set =
      ParsePipelineText(std::string(kGood) + "\n[dedupe]\nthreshold = 5\norientations = false\n",
                        "good.toml", "/data");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->dedupe.threshold, 5);
  EXPECT_FALSE(set->dedupe.orientations);
  EXPECT_TRUE(defaults->dedupe.verify);
  EXPECT_EQ(defaults->dedupe.candidate_threshold, store::kDefaultCandidateDistance);
  EXPECT_EQ(defaults->dedupe.thumb_threshold, store::kDefaultThumbDistance);
  auto hash = ParsePipelineText(std::string(kGood) +
                                    "\n[dedupe]\nmethod = \"hash\"\ncandidate_threshold = 12\n"
                                    "thumb_threshold = 20.5\nsecond_threshold = 7\n"
                                    "representatives = 1\ncolour_threshold = -1\n"
                                    "peak_threshold = 55.5\nbridge_threshold = -1\n"
                                    "turned_threshold = 9\nsecond_near_threshold = 4\n"
                                    "second_far_thumb_threshold = -1\n",
                                "good.toml", "/data");
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_FALSE(hash->dedupe.verify);
  EXPECT_EQ(hash->dedupe.candidate_threshold, 12);
  EXPECT_EQ(hash->dedupe.thumb_threshold, 20.5);
  EXPECT_EQ(hash->dedupe.second_threshold, 7);
  EXPECT_EQ(defaults->dedupe.second_threshold, store::kDefaultSecondDistance);
  EXPECT_EQ(hash->dedupe.representatives, 1);
  EXPECT_EQ(hash->dedupe.colour_threshold, -1);
  EXPECT_EQ(hash->dedupe.peak_threshold, 55.5);
  EXPECT_EQ(hash->dedupe.bridge_threshold, -1);
  EXPECT_EQ(hash->dedupe.turned_threshold, 9);
  EXPECT_EQ(hash->dedupe.Rule().turned_distance, 9);
  EXPECT_EQ(hash->dedupe.Rule().second_near_distance, 4);
  EXPECT_EQ(hash->dedupe.Rule().second_far_thumb_distance, -1);
  EXPECT_EQ(defaults->dedupe.Rule().second_near_distance, store::kDefaultSecondNearDistance);
  EXPECT_EQ(defaults->dedupe.Rule().second_far_thumb_distance,
            store::kDefaultSecondFarThumbDistance);
  EXPECT_EQ(defaults->dedupe.bridge_threshold, store::kDefaultBridgeDistance);
  EXPECT_EQ(defaults->dedupe.turned_threshold, store::kDefaultTurnedDistance);
  EXPECT_EQ(defaults->dedupe.representatives, store::kDefaultRepresentatives);
  EXPECT_EQ(defaults->dedupe.colour_threshold, store::kDefaultColourDistance);
  EXPECT_EQ(defaults->dedupe.peak_threshold, store::kDefaultPeakDistance);
  auto bad = ParsePipelineText(
      "[classes]\na = [\"x\"]\n[dedupe]\nthreshold = 16\nmethod = \"cnn\"\nwindow = 3\n"
      "turned_threshold = 16\n",
      "d.toml", ".");
  ASSERT_FALSE(bad.ok());
  const std::string message = bad.status().message();
  EXPECT_NE(message.find("d.toml:4: dedupe.threshold: must be between 0 and 15"), std::string::npos)
      << message;
  EXPECT_NE(message.find("d.toml:5: dedupe.method: expected \"verified\" or \"hash\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("d.toml:6: dedupe.window: unknown key"), std::string::npos) << message;
  EXPECT_NE(message.find("d.toml:7: dedupe.turned_threshold: must be between -1 and 15"),
            std::string::npos)
      << message;
}

TEST(PipelineFile, MissingClassesAndMissingFile) {
  auto config = ParsePipelineText("store = \"s\"\n", "empty.toml", ".");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("empty.toml:1: classes: missing"), std::string::npos);
  auto missing = LoadPipelineFile("/nonexistent/pipeline.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().where(), "/nonexistent/pipeline.toml");
}

TEST(PipelineFile, SafetyKeysAllowPrivateHostsAndMaxUrlsPerPage) {
  const std::string text =
      "[politeness]\n"
      "allow_private_hosts = [\"nas.local\", \"10.0.0.5\", \"[fd00::1]\"]\n"
      "[classes]\n"
      "a = [\"x\"]\n"
      "[[sources]]\n"
      "kind = \"search\"\n"
      "url = \"http://example.org/?q={keyword}\"\n"
      "max_urls_per_page = 50\n";
  auto config = ParsePipelineText(text, "safe.toml", ".");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const std::vector<std::string> hosts = {"nas.local", "10.0.0.5", "[fd00::1]"};
  EXPECT_EQ(config->politeness.allow_private_hosts, hosts);
  EXPECT_EQ(config->sources[0].max_urls_per_page, 50);
  EXPECT_EQ(Source().max_urls_per_page, 1000);
  EXPECT_TRUE(ingest::FetchSettings().allow_private_hosts.empty());

  const std::string bad =
      "[politeness]\n"
      "allow_private_hosts = [\"http://nas.local/\", \"10.0.0.5:8080\", 3]\n"  // line 2
      "[classes]\n"
      "a = [\"x\"]\n"
      "[[sources]]\n"
      "kind = \"search\"\n"
      "url = \"http://example.org/?q={keyword}\"\n"
      "max_urls_per_page = 0\n";  // line 8
  auto refused = ParsePipelineText(bad, "bad.toml", ".");
  ASSERT_FALSE(refused.ok());
  const std::string message = refused.status().message();
  EXPECT_NE(message.find("bad.toml:2: politeness.allow_private_hosts"), std::string::npos)
      << message;
  EXPECT_NE(message.find("bad.toml:8: sources[0].max_urls_per_page"), std::string::npos) << message;
}

TEST(PipelineFile, FolderSourcesAloneNameTheClassesBySubfolder) {
  const std::filesystem::path base = std::filesystem::temp_directory_path() /
                                     ("memes-pipeline-folders-" + std::to_string(getpid()));
  std::filesystem::remove_all(base);
  for (const char* sub : {"a/shiba", "a/kumamon", "b/kumamon", "b/panda"}) {
    std::filesystem::create_directories(base / sub);
  }
  std::ofstream(base / "a" / "not-a-class.txt") << "x";
  const char* text = R"(
[[sources]]
kind = "folder"
path = "a"

[[sources]]
kind = "folder"
path = "b"
)";
  auto config = ParsePipelineText(text, "folders.toml", base);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::vector<std::string> names;
  for (const ClassSpec& spec : config->classes) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"kumamon", "shiba", "panda"}));

  // A search source still needs [classes] (its keywords come from there); so does a folder
  // with no subfolders.
  auto mixed = ParsePipelineText(std::string(text) +
                                     "[[sources]]\nkind = \"search\"\n"
                                     "url = \"http://127.0.0.1/?q={keyword}\"\n",
                                 "mixed.toml", base);
  ASSERT_FALSE(mixed.ok());
  EXPECT_NE(mixed.status().message().find("classes"), std::string::npos);
  std::filesystem::create_directories(base / "empty");
  auto empty =
      ParsePipelineText("[[sources]]\nkind = \"folder\"\npath = \"empty\"\n", "empty.toml", base);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("no subfolders"), std::string::npos);
  std::filesystem::remove_all(base);
}

TEST(KeywordList, ReadsLabelsInOrderAndNamesBadLines) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "keywords.tsv";
  {
    std::ofstream out(path);
    out << "# label<TAB>keyword\nkumamon\t熊本熊\nshiba\t可爱柴犬\nkumamon\t熊本熊表情包\n";
  }
  auto classes = LoadKeywordList(path);
  ASSERT_TRUE(classes.ok()) << classes.status().ToString();
  ASSERT_EQ(classes->size(), 2u);
  EXPECT_EQ((*classes)[0].name, "kumamon");
  EXPECT_EQ((*classes)[0].keywords.size(), 2u);
  EXPECT_EQ((*classes)[1].keywords.at(0), "可爱柴犬");

  {
    std::ofstream out(path);
    out << "kumamon\t熊本熊\nno tab here\n";
  }
  auto bad = LoadKeywordList(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("keywords.tsv:2: expected \"label<TAB>keyword\""),
            std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace memes::pipelines

namespace memes::pipelines {
namespace {

// Label indices follow the file's class order; toml++ iterates keys sorted, so the loader
// recovers the order from source positions, also within one line (an inline table).
TEST(PipelineFile, ClassesKeepFileOrderAlsoInAnInlineTable) {
  for (const std::string classes : {"[classes]\nkumamon = []\nfrog = []\ncat = []\n",
                                    "classes = { kumamon = [], frog = [], cat = [] }\n"}) {
    const std::string text =
        "store = \"s\"\n" + classes + "[[sources]]\nkind = \"folder\"\npath = \"stickers\"\n";
    auto config = ParsePipelineText(text, "order.toml", "/data");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    std::vector<std::string> names;
    for (const ClassSpec& spec : config->classes) names.push_back(spec.name);
    EXPECT_EQ(names, (std::vector<std::string>{"kumamon", "frog", "cat"})) << classes;
  }
}

}  // namespace
}  // namespace memes::pipelines
