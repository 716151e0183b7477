// End-to-end: `memes crawl --partition K/N` and `memes store merge` through the real binary
// against a loopback site. A site crawled as one store and as 3 partitions + merge gives the
// same items, labels, first sources and near-duplicate groups, and byte-identical shards after
// `memes pack`; merging again changes nothing; a merge killed halfway completes on a rerun.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "store/store.h"
#include "tests/harness/loopback_server.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

// A distinct 40×40 PNG; `nudge` moves one pixel, giving a near-duplicate (other bytes, same
// perceptual hash within a bit or two).
std::string Png(int seed, int nudge = 0) {
  cv::Mat image(40, 40, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::rectangle(image, {(seed * 7) % 20, (seed * 11) % 20}, {20 + (seed * 3) % 19, 39},
                cv::Scalar((seed * 60) % 256, (seed * 110) % 256, (seed * 170) % 256), cv::FILLED);
  cv::circle(image, {8 + (seed * 13) % 24, 8 + (seed * 5) % 24}, 4 + seed % 7,
             cv::Scalar((seed * 90) % 256, (seed * 30) % 256, (seed * 200) % 256), cv::FILLED);
  if (nudge != 0) image.at<cv::Vec3b>(nudge % 40, 0) = cv::Vec3b(1, 2, 3);
  std::vector<uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return std::string(bytes.begin(), bytes.end());
}

// What must agree between the single crawl and the merge.
struct StoreView {
  std::map<std::string, std::string> label_of;   // blob -> label name
  std::map<std::string, std::string> first_url;  // blob -> first source URL
  std::map<std::string, std::string> group_of;   // blob -> founder blob
  std::vector<std::string> labels;               // label names in id order
  std::set<std::string> pages;
  int64_t sources = 0;
  bool operator==(const StoreView&) const = default;
};

StoreView View(const fs::path& dir) {
  StoreView view;
  store::StoreOptions options;
  options.access = store::StoreAccess::kRead;
  auto opened = store::Store::Open(dir, options);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return view;
  store::Catalog& catalog = (*opened)->catalog();
  EXPECT_TRUE(catalog
                  .ForEachLabelRow([&](const store::LabelRow& row) {
                    view.label_of[row.blob] = row.label;
                    view.first_url[row.blob] = row.url;
                    return Status::Ok();
                  })
                  .ok());
  auto grouped = catalog.GroupingItems();
  EXPECT_TRUE(grouped.ok());
  if (grouped.ok()) {
    for (const auto& item : *grouped) view.group_of[item.blob] = item.group_key;
  }
  auto labels = catalog.Labels();
  if (labels.ok()) {
    for (const auto& label : *labels) view.labels.push_back(label.name);
  }
  EXPECT_TRUE(catalog
                  .ForEachSource([&](int64_t, const std::string&, const store::SourceRecord&) {
                    ++view.sources;
                    return Status::Ok();
                  })
                  .ok());
  return view;
}

std::string Describe(const StoreView& view) {
  std::string text = std::to_string(view.label_of.size()) + " items, " +
                     std::to_string(view.group_of.size()) + " grouped, " +
                     std::to_string(view.sources) + " sources, labels:";
  for (const auto& name : view.labels) text += " " + name;
  return text;
}

int64_t Groups(const StoreView& view) {
  std::set<std::string> founders;
  for (const auto& [blob, founder] : view.group_of) founders.insert(founder);
  return static_cast<int64_t>(founders.size());
}

class PartitionMerge : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-partition-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    BuildSite();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 4 classes × 3 keywords × 2 pages of 4 images, and a URL list of 70 entries (two slices).
  // Across keywords (so across partitions, whichever they land in): near-duplicates of
  // earlier pictures, the same URL listed under a keyword of another class, and the same
  // bytes at another URL. Their labels and group founders depend on the crawl order.
  void BuildSite() {
    const char* classes[] = {"frog", "shiba", "kumamon", "doge"};
    std::string toml =
        "store = \"store\"\n[politeness]\nobey_robots = false\nretries = 0\n"
        // Loopback: no rate limit worth the name (partitions divide it by 3).
        "per_host_rate = 3000.0\nper_host_burst = 300\n"
        "[classes]\n";
    int seed = 1;
    for (int c = 0; c < 4; ++c) {
      toml += std::string(classes[c]) + " = [";
      for (int k = 0; k < 3; ++k) {
        const std::string keyword = std::string(classes[c]) + "-" + std::to_string(k);
        toml += (k ? ", \"" : "\"") + keyword + "\"";
        for (int page = 1; page <= 2; ++page) {
          std::string html = "<html><body>";
          for (int i = 0; i < 4; ++i, ++seed) {
            std::string path = "/img/" + std::to_string(seed) + ".png";
            if (i == 3 && seed > 20) {
              // A near-duplicate of a picture met earlier (another keyword).
              server_.ServeBytes(path, Png(seed - 17, seed), "image/png");
            } else if (i == 2 && seed > 30 && seed % 3 == 0) {
              path = "/img/" + std::to_string(seed - 25) + ".png";  // a URL listed before
            } else if (i == 1 && seed % 5 == 0) {
              server_.ServeBytes(path, Png(seed - 9), "image/png");  // bytes seen before
            } else {
              server_.ServeBytes(path, Png(seed), "image/png");
            }
            html += "<img src=\"" + path + "\">";
          }
          server_.ServeBytes("/search/" + keyword + "/" + std::to_string(page), html + "</body>",
                             "text/html");
        }
      }
      toml += "]\n";
    }
    std::ofstream list(dir_ / "urls.tsv");
    for (int i = 0; i < 70; ++i) {
      const std::string path = "/list/" + std::to_string(i) + ".png";
      // Some list entries are near-duplicates of search results: the list comes first in a
      // crawl, so they found those groups.
      server_.ServeBytes(path, i % 10 == 0 ? Png(i + 3, 7) : Png(1000 + i), "image/png");
      list << classes[i % 4] << "\t" << server_.Url(path) << "\n";
    }
    toml += "[[sources]]\nkind = \"search\"\npages = 2\nurl = \"" +
            server_.Url("/search/{keyword}/{page}") + "\"\n";
    toml += "[[sources]]\nkind = \"urls\"\nfile = \"urls.tsv\"\n";
    std::ofstream(dir_ / "crawl.toml") << toml;
  }

  RunResult Crawl(const std::string& store, const std::string& partition = {}) {
    // The single crawl's order (hence the label and first URL of a duplicate) is the responses'
    // order only while no item is later than the reorder deadline; under a loaded ctest -j a
    // late item would be placed on arrival, so the comparison waits as long as it takes.
    std::vector<std::string> args = {"-q",
                                     "crawl",
                                     (dir_ / "crawl.toml").string(),
                                     "--store",
                                     (dir_ / store).string(),
                                     "--reorder-deadline-ms",
                                     "60000"};
    if (!partition.empty()) {
      args.push_back("--partition");
      args.push_back(partition);
    }
    return RunMemes(args);
  }

  RunResult Merge(const std::vector<std::string>& inputs, const std::string& into,
                  std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"store", "merge"};
    for (const auto& input : inputs) args.push_back((dir_ / input).string());
    args.push_back("--into");
    args.push_back((dir_ / into).string());
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMemes(args);
  }

  // Packs `store` and returns every shard file's bytes by name (dataset.json included).
  std::map<std::string, std::string> Pack(const std::string& store) {
    RunResult run = RunMemes({"-q", "pack", "--store", (dir_ / store).string()});
    EXPECT_EQ(run.exit_code, 0) << run.Describe();
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::directory_iterator(dir_ / store / "shards")) {
      files[entry.path().filename().string()] = Slurp(entry.path());
    }
    return files;
  }

  fs::path dir_;
  LoopbackServer server_;
};

TEST_F(PartitionMerge, ThreePartitionsMergedEqualOneCrawlAndPackTheSameBytes) {
  RunResult run = Crawl("single");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  std::vector<std::string> parts;
  std::set<std::string> seen_blobs;
  for (int k = 1; k <= 3; ++k) {
    const std::string part = "part" + std::to_string(k);
    run = Crawl(part, std::to_string(k) + "/3");
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
    const StoreView view = View(dir_ / part);
    EXPECT_GT(view.label_of.size(), 0u) << part << " took no work unit";
    parts.push_back(part);
  }
  const StoreView single = View(dir_ / "single");
  // The site is built so that order matters: shared URLs, shared bytes, near-duplicates.
  ASSERT_GT(single.sources, static_cast<int64_t>(single.label_of.size())) << Describe(single);
  ASSERT_LT(Groups(single), static_cast<int64_t>(single.group_of.size())) << Describe(single);

  // Merged in an order other than 1, 2, 3: the result must not depend on it.
  run = Merge({"part3", "part1", "part2"}, "merged");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("3 of 3 partitions (complete)"), std::string::npos) << run.Describe();
  const StoreView merged = View(dir_ / "merged");
  EXPECT_EQ(merged.label_of, single.label_of);
  EXPECT_EQ(merged.first_url, single.first_url);
  EXPECT_EQ(merged.group_of, single.group_of);
  EXPECT_EQ(merged.labels, single.labels);
  EXPECT_EQ(merged.sources, single.sources) << Describe(merged) << " vs " << Describe(single);
  EXPECT_EQ(Pack("merged"), Pack("single")) << "shards differ";

  // Merging a partition (or all of them) again changes nothing.
  run = Merge({"part2"}, "merged");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find(" 0 items added"), std::string::npos) << run.Describe();
  run = Merge({"part1", "part2", "part3"}, "merged");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(View(dir_ / "merged") == merged);
  EXPECT_EQ(Pack("merged"), Pack("single"));
}

TEST_F(PartitionMerge, AMergeKilledHalfwayCompletesOnARerun) {
  for (int k = 1; k <= 3; ++k) {
    RunResult run = Crawl("part" + std::to_string(k), std::to_string(k) + "/3");
    ASSERT_EQ(run.exit_code, 0) << run.Describe();
  }
  RunResult run = Merge({"part1", "part2", "part3"}, "whole");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  // Killed (_exit from inside the open transaction) at the 25th item, batches of 8 source
  // rows: the batches before it committed, its own never.
  run = Merge({"part1", "part2", "part3"}, "killed",
              {"--batch-items", "8", "--test-kill-after", "25"});
  ASSERT_EQ(run.exit_code, 137) << run.Describe();
  const StoreView half = View(dir_ / "killed");
  EXPECT_GT(half.label_of.size(), 0u) << "some batches committed";
  EXPECT_LT(half.label_of.size(), 25u) << "the open batch was lost";
  run = Merge({"part1", "part2", "part3"}, "killed", {"--batch-items", "8"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_TRUE(View(dir_ / "killed") == View(dir_ / "whole"));
  EXPECT_EQ(Pack("killed"), Pack("whole"));
  RunResult verify = RunMemes({"verify", "--store", (dir_ / "killed").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
}

TEST_F(PartitionMerge, BadPartitionsAreUsageErrorsAndStoresDoNotMix) {
  for (const std::string bad : {"0/3", "4/3", "3", "a/b", "1/0", "2/3x", "-1/3"}) {
    RunResult run = Crawl("bad", bad);
    EXPECT_EQ(run.exit_code, 2) << bad << run.Describe();
    EXPECT_NE(run.err.find("--partition"), std::string::npos) << run.Describe();
  }
  RunResult run = Crawl("p", "1/2");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  run = Crawl("p", "2/2");  // another partition into the same store
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("holds partition 1/2"), std::string::npos) << run.Describe();
  run = Crawl("p");  // the whole crawl into a partition's store
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  run = Crawl("p", "1/2");  // the same partition again: a resume
  EXPECT_EQ(run.exit_code, 0) << run.Describe();
  run = Merge({"p"}, "p");
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  run = Merge({"nosuch"}, "m");
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  run = Merge({"p"}, "m");
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("missing 2/2"), std::string::npos) << run.Describe();
}

}  // namespace
}  // namespace memes::testing
