// End-to-end: `memes train`, `memes eval` and `memes predict` on tiny shards made here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/harness/run_memes.h"
#include "train/test_shards.h"
#include "transform/test_util.h"

namespace memes {
namespace {

namespace fs = std::filesystem;
using memes::testing::RunMemes;

// A BGR cv::Mat of a planar RGB record.
cv::Mat ToMat(const std::vector<uint8_t>& planar, int size) {
  cv::Mat image(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      for (int c = 0; c < 3; ++c) {
        image.at<cv::Vec3b>(y, x)[2 - c] = planar[c * size * size + y * size + x];
      }
    }
  }
  return image;
}

class TrainE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_train_e2e_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    train::testing::ShardFolderSpec spec;
    spec.classes = {"kumamon", "shiba"};
    spec.train_shards = {train::testing::SyntheticImages(48, 2, 32, 1),
                         train::testing::SyntheticImages(48, 2, 32, 500)};
    spec.test = train::testing::SyntheticImages(32, 2, 32, 9000);
    ASSERT_TRUE(train::testing::WriteShardFolder(root_ / "shards", spec));
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
};

TEST_F(TrainE2eTest, TrainEvalPredict) {
  const fs::path shards = root_ / "shards", run = root_ / "run";
  auto trained =
      RunMemes({"train", shards.string(), "-o", run.string(), "--preset", "tiny", "--epochs", "4",
                "--batch-size", "16", "--threads", "1", "--lr", "0.05", "--seed", "3"});
  ASSERT_EQ(trained.exit_code, 0) << trained.Describe();
  EXPECT_NE(trained.err.find("parameters"), std::string::npos) << trained.err;
  EXPECT_NE(trained.err.find("MFLOPs per image"), std::string::npos) << trained.err;
  for (const char* file : {"last.pt", "best.pt", "metrics.jsonl", "curves.png", "run.json"}) {
    EXPECT_TRUE(fs::exists(run / file)) << file;
  }
  std::ifstream metrics(run / "metrics.jsonl");
  std::string line, last;
  int lines = 0;
  while (std::getline(metrics, line)) ++lines, last = line;
  EXPECT_EQ(lines, 4);
  const auto final_epoch = nlohmann::json::parse(last);
  EXPECT_GE(final_epoch["test_acc"].get<double>(), 0.9) << last;
  EXPECT_FALSE(cv::imread((run / "curves.png").string()).empty());

  // Resume of a finished run: nothing left to do, succeeds, keeps the metrics.
  auto resumed = RunMemes({"train", shards.string(), "-o", run.string(), "--preset", "tiny",
                           "--epochs", "4", "--batch-size", "16", "--threads", "1", "--resume"});
  EXPECT_EQ(resumed.exit_code, 0) << resumed.Describe();

  auto evaluated =
      RunMemes({"eval", (run / "best.pt").string(), shards.string(), "--threads", "1"});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.Describe();
  EXPECT_NE(evaluated.out.find("top-1"), std::string::npos) << evaluated.out;
  EXPECT_NE(evaluated.out.find("confusion matrix"), std::string::npos) << evaluated.out;
  EXPECT_NE(evaluated.out.find("kumamon"), std::string::npos) << evaluated.out;
  EXPECT_TRUE(fs::exists(run / "eval" / "confusion.png"));
  auto eval_json = RunMemes({"eval", (run / "best.pt").string(), shards.string(), "--json"});
  ASSERT_EQ(eval_json.exit_code, 0) << eval_json.Describe();
  const auto report = nlohmann::json::parse(eval_json.out);
  EXPECT_GE(report["top1"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(report["top5"].get<double>(), 1.0);  // 2 classes
  EXPECT_EQ(report["confusion"].size(), 2u);

  // Predict: a PNG of each class, and an animated WebP of both frames (probabilities averaged).
  const auto kumamon = train::testing::SyntheticImage(0, 2, 32, 77);
  const auto shiba = train::testing::SyntheticImage(1, 2, 32, 78);
  const fs::path kumamon_png = root_ / "kumamon.png", shiba_png = root_ / "shiba.png";
  const fs::path both_webp = root_ / "both.webp";
  ASSERT_TRUE(cv::imwrite(kumamon_png.string(), ToMat(kumamon.planar, 32)));
  ASSERT_TRUE(cv::imwrite(shiba_png.string(), ToMat(shiba.planar, 32)));
  std::vector<cv::Mat> frames;
  for (const auto* image : {&kumamon, &shiba}) {
    cv::Mat bgra;
    cv::cvtColor(ToMat(image->planar, 32), bgra, cv::COLOR_BGR2RGBA);
    frames.push_back(bgra);
  }
  const auto webp = transform::testing::EncodeAnimatedWebp(frames, 100);
  std::ofstream(both_webp, std::ios::binary)
      .write(reinterpret_cast<const char*>(webp.data()), static_cast<std::streamsize>(webp.size()));

  auto predicted = RunMemes({"predict", (run / "best.pt").string(), kumamon_png.string(),
                             shiba_png.string(), both_webp.string(), "--json", "-k", "2"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.Describe();
  // JSON Lines: one object per file, in argument order.
  nlohmann::json results = nlohmann::json::array();
  std::istringstream json_lines(predicted.out);
  for (std::string json_line; std::getline(json_lines, json_line);) {
    results.push_back(nlohmann::json::parse(json_line));
  }
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0]["top"][0]["class"], "kumamon") << results.dump();
  EXPECT_EQ(results[1]["top"][0]["class"], "shiba") << results.dump();
  EXPECT_EQ(results[2]["frames"], 2) << results.dump();
  auto probability = [](const nlohmann::json& result, const std::string& name) {
    for (const auto& t : result["top"]) {
      if (t["class"] == name) return t["probability"].get<double>();
    }
    return -1.0;
  };
  for (const std::string name : {"kumamon", "shiba"}) {
    const double mean = (probability(results[0], name) + probability(results[1], name)) / 2;
    EXPECT_NEAR(probability(results[2], name), mean, 0.05) << results.dump();
  }

  auto text = RunMemes({"predict", (run / "best.pt").string(), kumamon_png.string()});
  ASSERT_EQ(text.exit_code, 0) << text.Describe();
  EXPECT_NE(text.out.find("kumamon"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("%"), std::string::npos) << text.out;

  auto missing = RunMemes({"predict", (run / "best.pt").string(), (root_ / "nope.png").string()});
  EXPECT_NE(missing.exit_code, 0);
}

TEST_F(TrainE2eTest, BadShardsStopWithFileAndRecord) {
  const fs::path shards = root_ / "shards";
  {
    std::fstream file(shards / "data_batch_2.bin", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(3073 * 5);
    file.put(static_cast<char>(200));  // label 200 in record 5; the hash no longer matches
  }
  auto hashed = RunMemes({"train", shards.string(), "-o", (root_ / "run").string(), "--preset",
                          "tiny", "--epochs", "1"});
  EXPECT_NE(hashed.exit_code, 0);
  EXPECT_NE(hashed.err.find("data_batch_2.bin"), std::string::npos) << hashed.err;
  EXPECT_NE(hashed.err.find("sha256"), std::string::npos) << hashed.err;
  auto labelled = RunMemes({"train", shards.string(), "-o", (root_ / "run").string(), "--preset",
                            "tiny", "--epochs", "1", "--no-verify"});
  EXPECT_NE(labelled.exit_code, 0);
  EXPECT_NE(labelled.err.find("data_batch_2.bin"), std::string::npos) << labelled.err;
  EXPECT_NE(labelled.err.find("record 5: label 200 out of range"), std::string::npos)
      << labelled.err;
  EXPECT_FALSE(fs::exists(root_ / "run" / "last.pt"));
}

}  // namespace
}  // namespace memes
