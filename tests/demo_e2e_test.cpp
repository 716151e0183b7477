// A shortened `memes demo` end to end: the real binary crawls its own sticker site, packs,
// verifies, previews, trains, evaluates, predicts and repacks; then the outputs are checked
// independently of the code that wrote them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/harness/run_memes.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

TEST(DemoE2e, ShortDemoProducesVerifiedShardsAModelAndAPreview) {
  const fs::path dir = fs::path(::testing::TempDir()) / "memes-demo-e2e";
  fs::remove_all(dir);
  // The same port for both runs, so the second sees the same URLs; away from the default so a
  // demo a person is running does not collide.
  const std::string port = std::to_string(30000 + ::getpid() % 20000);
  // One LibTorch thread: ctest runs other suites beside this one, and OpenMP threads that spin at
  // barriers on an oversubscribed 2-core machine make training tens of times slower.
  const std::vector<std::string> args = {
      "demo", dir.string(), "--stickers", "24", "--epochs", "8", "--port", port, "--threads", "1"};
  std::vector<std::string> with_dir = args;
  with_dir.insert(with_dir.begin() + 1, "--dir");
  RunOptions options;
  options.timeout = std::chrono::seconds(600);
  const RunResult run = RunMemes(with_dir, options);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();

  // Every step ran and said where its output is.
  for (const char* step : {"1. crawl", "2. pack", "3. verify", "4. preview", "5. train",
                           "6. evaluate", "7. predict", "8. relabel", "9. repack"}) {
    EXPECT_NE(run.out.find(step), std::string::npos) << step << "\n" << run.Describe();
  }
  EXPECT_TRUE(fs::exists(dir / "pipeline.toml"));
  EXPECT_TRUE(fs::exists(dir / "store" / "stats.json"));
  EXPECT_GT(fs::file_size(dir / "preview.png"), 1000u);

  // The shards verify with a separate process, and hold whole 3073-byte records.
  const fs::path shards = dir / "store" / "shards";
  const RunResult verify = RunMemes({"verify", shards.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();
  for (const char* file : {"data_batch_1.bin", "test_batch.bin"}) {
    ASSERT_TRUE(fs::exists(shards / file)) << file;
    EXPECT_EQ(fs::file_size(shards / file) % 3073, 0u) << file;
    EXPECT_GT(fs::file_size(shards / file), 0u) << file;
  }
  std::ifstream meta(shards / "batches.meta.txt");
  int classes = 0;
  for (std::string line; std::getline(meta, line);) classes += !line.empty();
  EXPECT_EQ(classes, 6);

  // Accuracy well above chance (1/6) on the held-out groups.
  std::ifstream eval_file(dir / "run" / "eval" / "eval.json");
  ASSERT_TRUE(eval_file) << "no eval.json\n" << run.Describe();
  const auto eval = nlohmann::json::parse(eval_file);
  const double top1 = eval.at("top1").get<double>();
  EXPECT_GT(top1, 0.5) << eval.dump(2);

  // The relabelled class name reached the repacked shards.
  std::ifstream relabelled(shards / "batches.meta.txt");
  std::string all((std::istreambuf_iterator<char>(relabelled)), {});
  EXPECT_NE(all.find("frog_relabelled"), std::string::npos) << all;

  EXPECT_NE(run.out.find(", 0 already read"), std::string::npos) << run.Describe();

  // A second run resumes: every search page was read by the first one.
  const RunResult again = RunMemes(with_dir, options);
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
  EXPECT_NE(again.out.find("pages: 0 read,"), std::string::npos) << again.Describe();
}

}  // namespace
}  // namespace memes::testing
