// Partition selection (crawl_work.h): the N partitions of a crawl are disjoint, cover it, keep
// a keyword's pages together, and their merge records give every unit's global place.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "pipelines/crawl_work.h"

namespace memes::pipelines::crawl {
namespace {

struct Crawl {
  PipelineConfig config;
  std::vector<ingest::UrlExtractor> extractors;
  Crawl() {
    for (int c = 0; c < 3; ++c) {
      ClassSpec spec{"class" + std::to_string(c), {}};
      for (int k = 0; k < 7; ++k) spec.keywords.push_back("kw" + std::to_string(c * 10 + k));
      config.classes.push_back(spec);
    }
    for (int s = 0; s < 2; ++s) {
      Source source;
      source.name = "search-" + std::to_string(s);
      source.url_template = "http://example.com/" + std::to_string(s) + "?q={keyword}&p={page}";
      source.pages = 3;
      config.sources.push_back(source);
    }
    extractors = MakeExtractors(config).value();
  }
  std::vector<PageTask> Tasks() { return ListPageTasks(config, extractors).value(); }
  static std::vector<ImagePtr> Direct(int count) {
    std::vector<ImagePtr> images;
    for (int i = 0; i < count; ++i) {
      auto image = std::make_shared<ImageWork>();
      image->url = "http://example.com/list/" + std::to_string(i);
      image->source_name = "urls-3";
      images.push_back(image);
    }
    return images;
  }
};

TEST(CrawlPartition, ParseTakesKOfNAndRefusesTheRest) {
  EXPECT_EQ(ParsePartition("2/8").value().index, 2);
  EXPECT_EQ(ParsePartition("2/8").value().count, 8);
  EXPECT_TRUE(ParsePartition("1/1").value().whole());
  for (const char* bad : {"", "3", "0/3", "4/3", "1/0", "a/3", "1/b", "2/3x", " 1/3", "-1/3"}) {
    EXPECT_FALSE(ParsePartition(bad).ok()) << bad;
  }
}

TEST(CrawlPartition, PartitionsAreDisjointCoverTheCrawlAndKeepKeywordsWhole) {
  Crawl crawl;
  const std::vector<PageTask> all = crawl.Tasks();
  std::map<std::tuple<std::string, std::string, int>, int> taken;  // (source, keyword, page)
  std::set<std::string> urls_taken;
  std::set<std::string> plans;
  for (int k = 1; k <= 3; ++k) {
    std::vector<PageTask> tasks = crawl.Tasks();
    std::vector<ImagePtr> direct = Crawl::Direct(200);
    const std::string record = SelectPartition({k, 3}, tasks, direct);
    EXPECT_GT(tasks.size(), 0u) << k;
    EXPECT_GT(direct.size(), 0u) << k;
    // Keyword indices dense again, pages of a keyword together and all there.
    size_t expected_index = 0;
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (t > 0 && tasks[t].keyword_index != tasks[t - 1].keyword_index) ++expected_index;
      EXPECT_EQ(tasks[t].keyword_index, expected_index);
      EXPECT_EQ(tasks[t].page, static_cast<int>(t % 3) + 1);
      ++taken[{tasks[t].source->name, tasks[t].keyword, tasks[t].page}];
    }
    // URL-list entries in whole slices of kPartitionSlice.
    for (const ImagePtr& image : direct) EXPECT_TRUE(urls_taken.insert(image->url).second);
    const auto json = nlohmann::json::parse(record);
    EXPECT_EQ(json["partition"], std::to_string(k) + "/3");
    plans.insert(json["plan"].get<std::string>());
    EXPECT_EQ(json["search"].size() * 3, tasks.size());
    ASSERT_EQ(json["direct"].size(), direct.size());
    for (size_t i = 0; i < direct.size(); ++i) {
      const size_t rank = json["direct"][i][0].get<size_t>();
      EXPECT_EQ(direct[i]->url, "http://example.com/list/" + std::to_string(rank));
      // Slices: entries of one slice go together.
      EXPECT_EQ(rank % kPartitionSlice == 0 || (i > 0 && json["direct"][i - 1][0] == rank - 1),
                true)
          << rank;
    }
  }
  EXPECT_EQ(plans.size(), 1u) << "one plan, whatever the partition";
  EXPECT_EQ(taken.size(), all.size());
  for (const auto& [task, count] : taken) EXPECT_EQ(count, 1);
  EXPECT_EQ(urls_taken.size(), 200u);
}

TEST(CrawlPartition, TheWholeCrawlIsLeftAsItIs) {
  Crawl crawl;
  std::vector<PageTask> tasks = crawl.Tasks();
  std::vector<ImagePtr> direct = Crawl::Direct(10);
  EXPECT_EQ(SelectPartition({1, 1}, tasks, direct), "");
  EXPECT_EQ(tasks.size(), crawl.Tasks().size());
  EXPECT_EQ(direct.size(), 10u);
}

TEST(CrawlPartition, SharedPolitenessDividesPerHostLimits) {
  ingest::FetchSettings settings;
  settings.per_host_rate = 12;
  settings.per_host_burst = 10;
  settings.per_host_transfers = 8;
  SharePoliteness(settings, {2, 4});
  EXPECT_DOUBLE_EQ(settings.per_host_rate, 3);
  EXPECT_EQ(settings.per_host_burst, 2);
  EXPECT_EQ(settings.per_host_transfers, 2);
  SharePoliteness(settings, {1, 16});
  EXPECT_EQ(settings.per_host_burst, 1);
  EXPECT_EQ(settings.per_host_transfers, 1);
}

}  // namespace
}  // namespace memes::pipelines::crawl
