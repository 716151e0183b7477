// End-to-end: the train/eval/predict command line people trust with their work (#16, #10):
// run folders are never silently replaced, resume remembers the run, class names are checked,
// bad numbers are usage errors, predict reads folders, and `memes` starts without LibTorch.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "tests/harness/run_memes.h"
#include "train/test_shards.h"

namespace memes {
namespace {

namespace fs = std::filesystem;
using memes::testing::RunMemes;
using memes::testing::RunResult;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

class TrainCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_train_cli_e2e_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    ASSERT_TRUE(WriteShards(root_ / "shards", {"kumamon", "shiba"}));
  }
  void TearDown() override { fs::remove_all(root_); }

  static bool WriteShards(const fs::path& folder, std::vector<std::string> classes) {
    train::testing::ShardFolderSpec spec;
    spec.classes = std::move(classes);
    spec.train_shards = {train::testing::SyntheticImages(32, 2, 32, 1),
                         train::testing::SyntheticImages(32, 2, 32, 500)};
    spec.test = train::testing::SyntheticImages(16, 2, 32, 9000);
    return train::testing::WriteShardFolder(folder, spec);
  }

  // `memes train SHARDS -o RUN --preset tiny …` with small, fast settings plus `extra`.
  RunResult Train(const std::vector<std::string>& extra, bool with_shards = true) const {
    std::vector<std::string> args = {"train"};
    if (with_shards) args.push_back((root_ / "shards").string());
    for (const char* a : {"-o", "", "--batch-size", "16", "--threads", "1"}) args.push_back(a);
    args[with_shards ? 3 : 2] = run().string();
    args.insert(args.end(), extra.begin(), extra.end());
    return RunMemes(args);
  }
  fs::path run() const { return root_ / "run"; }

  fs::path root_;
};

// #16.1: a finished model is never silently replaced; --force moves it aside.
TEST_F(TrainCliTest, ARunFolderIsNeverSilentlyReplaced) {
  const RunResult first = Train({"--preset", "tiny", "--epochs", "1"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  const std::string model = ReadText(run() / "last.pt");

  const RunResult again = Train({"--preset", "tiny", "--epochs", "1", "--seed", "9"});
  EXPECT_EQ(again.exit_code, 2) << again.Describe();
  EXPECT_NE(again.err.find(run().string()), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("last.pt"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  EXPECT_EQ(ReadText(run() / "last.pt"), model) << "the refused run touched the model";

  const RunResult both = Train({"--preset", "tiny", "--resume", "--force"});
  EXPECT_EQ(both.exit_code, 2) << both.Describe();

  const RunResult forced = Train({"--preset", "tiny", "--epochs", "1", "--seed", "9", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.Describe();
  std::vector<fs::path> aside;
  for (const auto& entry : fs::directory_iterator(root_)) {
    if (entry.path().filename().string().starts_with("run.old-")) aside.push_back(entry.path());
  }
  ASSERT_EQ(aside.size(), 1u) << forced.Describe();
  EXPECT_EQ(ReadText(aside[0] / "last.pt"), model) << "the old run was not kept as it was";
  EXPECT_TRUE(fs::exists(aside[0] / "metrics.jsonl"));
  EXPECT_TRUE(fs::exists(run() / "last.pt"));
  EXPECT_NE(forced.err.find(aside[0].filename().string()), std::string::npos) << forced.err;
}

// #16.2: --resume takes preset, recipe, schedule and shards from run.json.
TEST_F(TrainCliTest, ResumeRemembersTheRun) {
  const RunResult first = Train({"--preset", "tiny", "--epochs", "1", "--lr", "0.05"});
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  const auto record = nlohmann::json::parse(ReadText(run() / "run.json"));
  EXPECT_EQ(record.at("preset"), "tiny");
  EXPECT_EQ(record.at("recipe").at("epochs"), 1);
  EXPECT_EQ(record.at("classes"), nlohmann::json({"kumamon", "shiba"}));

  // Finished: nothing to do, without repeating the preset or the shards.
  const RunResult finished = Train({"--resume"}, /*with_shards=*/false);
  EXPECT_EQ(finished.exit_code, 0) << finished.Describe();
  EXPECT_NE(finished.err.find("nothing to do"), std::string::npos) << finished.err;
  EXPECT_EQ(CountLines(ReadText(run() / "metrics.jsonl")), 1);

  // An option given again with another value is named with both values.
  const RunResult other_lr = Train({"--resume", "--lr", "0.2", "--epochs", "2"}, false);
  EXPECT_EQ(other_lr.exit_code, 2) << other_lr.Describe();
  EXPECT_NE(other_lr.err.find("--lr 0.2 differs from the run's 0.05"), std::string::npos)
      << other_lr.err;
  const RunResult other_preset = Train({"--resume", "--preset", "small", "--epochs", "2"}, false);
  EXPECT_EQ(other_preset.exit_code, 2) << other_preset.Describe();
  EXPECT_NE(other_preset.err.find("--preset small differs from the run's tiny"), std::string::npos)
      << other_preset.err;

  // More epochs extend the run and say how the schedule changes; the learning rate continues
  // from the run's 0.05 peak, not the default 0.1.
  const RunResult extended = Train({"--resume", "--epochs", "2"}, false);
  ASSERT_EQ(extended.exit_code, 0) << extended.Describe();
  EXPECT_NE(extended.err.find("from 1 to 2 epochs"), std::string::npos) << extended.err;
  std::istringstream metrics(ReadText(run() / "metrics.jsonl"));
  std::vector<nlohmann::json> epochs;
  for (std::string line; std::getline(metrics, line);)
    epochs.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_LE(epochs[1].at("lr").get<double>(), 0.05) << epochs[1].dump();
  EXPECT_EQ(nlohmann::json::parse(ReadText(run() / "run.json")).at("recipe").at("epochs"), 2);
}

// A stop mid-epoch and a resume: the progress bar counts only this process's batches.
TEST_F(TrainCliTest, ResumeMidEpochShowsWhereItContinues) {
  const RunResult stopped =
      Train({"--preset", "tiny", "--epochs", "1", "--no-augment", "--stop-after-steps", "2"});
  ASSERT_EQ(stopped.exit_code, 130) << stopped.Describe();
  const RunResult resumed = Train({"--resume"}, false);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.Describe();
  EXPECT_NE(resumed.err.find("epoch 1/1 from batch 3"), std::string::npos) << resumed.err;
  // 64 images in batches of 16: 4 batches, 2 of them done before the stop.
  EXPECT_NE(resumed.err.find(" 2/2 "), std::string::npos) << resumed.err;
  // Rounded numbers in the epoch summary; "1 thread", not "1 threads".
  EXPECT_TRUE(
      std::regex_search(resumed.err, std::regex(R"(train loss \d+\.\d{4} acc \d+\.\d{2}%)")))
      << resumed.err;
  EXPECT_NE(resumed.err.find(", 1 thread;"), std::string::npos) << resumed.err;
}

// #10.9: a relabel that changed the class list is refused on resume and by eval.
TEST_F(TrainCliTest, ResumeAndEvalCheckClassNames) {
  ASSERT_EQ(Train({"--preset", "tiny", "--epochs", "1"}).exit_code, 0);
  const fs::path relabelled = root_ / "relabelled";
  ASSERT_TRUE(WriteShards(relabelled, {"kumamon", "柴犬"}));

  const RunResult resumed = RunMemes({"train", relabelled.string(), "-o", run().string(),
                                      "--resume", "--epochs", "2", "--threads", "1"});
  EXPECT_EQ(resumed.exit_code, 2) << resumed.Describe();
  EXPECT_NE(resumed.err.find("[kumamon, shiba]"), std::string::npos) << resumed.err;
  EXPECT_NE(resumed.err.find("[kumamon, 柴犬]"), std::string::npos) << resumed.err;
  EXPECT_EQ(CountLines(ReadText(run() / "metrics.jsonl")), 1);

  const std::string model = (run() / "best.pt").string();
  const RunResult eval = RunMemes({"eval", model, relabelled.string(), "--threads", "1"});
  EXPECT_EQ(eval.exit_code, 2) << eval.Describe();
  EXPECT_NE(eval.err.find("--allow-class-mismatch"), std::string::npos) << eval.err;
  EXPECT_NE(eval.err.find("柴犬"), std::string::npos) << eval.err;
  const RunResult allowed =
      RunMemes({"eval", model, relabelled.string(), "--threads", "1", "--allow-class-mismatch"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.Describe();
}

// #16.9: eval reads only test_batch.bin, so a damaged training shard does not stop it; the
// confusion matrix has no unlabeled column; eval.json and confusion.png go to RUN/eval/.
TEST_F(TrainCliTest, EvalChecksOnlyWhatItReadsAndPrintsALabelledMatrix) {
  ASSERT_EQ(Train({"--preset", "tiny", "--epochs", "1"}).exit_code, 0);
  {
    std::fstream file(root_ / "shards" / "data_batch_2.bin",
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  const std::string model = (run() / "best.pt").string();
  const RunResult eval = RunMemes({"eval", model, (root_ / "shards").string(), "--threads", "1"});
  ASSERT_EQ(eval.exit_code, 0) << eval.Describe();
  EXPECT_TRUE(fs::exists(run() / "eval" / "eval.json"));
  EXPECT_TRUE(fs::exists(run() / "eval" / "confusion.png"));
  // Matrix rows: number, class name, one count per class — nothing after.
  const size_t matrix = eval.out.find("confusion matrix");
  ASSERT_NE(matrix, std::string::npos) << eval.out;
  std::istringstream lines(eval.out.substr(matrix));
  std::string line;
  std::getline(lines, line);  // title
  std::getline(lines, line);  // column numbers
  std::istringstream header(line);
  EXPECT_EQ(std::distance(std::istream_iterator<std::string>(header), {}), 2) << eval.out;
  for (int row = 0; row < 2 && std::getline(lines, line); ++row) {
    std::istringstream cells(line);
    EXPECT_EQ(std::distance(std::istream_iterator<std::string>(cells), {}), 4) << eval.out;
  }

  // A damaged test shard is still found, and the error says how to check or skip.
  {
    std::fstream file(root_ / "shards" / "test_batch.bin",
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(100);
    file.put('\x7f');
  }
  const RunResult damaged =
      RunMemes({"eval", model, (root_ / "shards").string(), "--threads", "1"});
  EXPECT_NE(damaged.exit_code, 0) << damaged.Describe();
  EXPECT_NE(damaged.err.find("memes verify"), std::string::npos) << damaged.err;
  EXPECT_NE(damaged.err.find("--no-verify"), std::string::npos) << damaged.err;
}

// #10.8: numbers are range-checked at parse time: exit 2 naming the option, never an abort.
TEST_F(TrainCliTest, BadNumbersAreUsageErrorsNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> bad = {{"--label-smoothing", "2"},
                                                                {"--momentum", "-1"},
                                                                {"--lr", "0"},
                                                                {"--lr", "nan"},
                                                                {"--epochs", "0"},
                                                                {"--batch-size", "0"},
                                                                {"--threads", "100000"},
                                                                {"--warmup", "-1"},
                                                                {"--weight-decay", "inf"},
                                                                {"--blocks", "0,1"},
                                                                {"--limit-train", "-5"}};
  for (const auto& [option, value] : bad) {
    const RunResult result = Train({"--preset", "tiny", option, value});
    EXPECT_EQ(result.exit_code, 2) << option << " " << value << "\n" << result.Describe();
    EXPECT_NE(result.err.find(option), std::string::npos) << option << "\n" << result.err;
    EXPECT_FALSE(fs::exists(run() / "last.pt")) << option;
  }
  const std::string model = (root_ / "nope.pt").string();
  std::ofstream(model) << "x";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"eval", model, (root_ / "shards").string(), "--batch-size", "0"},
           {"eval", model, (root_ / "shards").string(), "--threads", "5000"},
           {"predict", model, model, "--top-k", "0"},
           {"predict", model, model, "--threads", "99999999999"}}) {
    const RunResult result = RunMemes(args);
    EXPECT_EQ(result.exit_code, 2) << args[0] << " " << args[3] << "\n" << result.Describe();
    EXPECT_NE(result.err.find(args[3]), std::string::npos) << result.err;
  }
}

// #10.8: an exception from a library inside a command is an error message, never exit 134.
TEST_F(TrainCliTest, AnExceptionInsideACommandIsAnErrorNotAnAbort) {
  // A dataset.json whose record_bytes has the wrong type made the JSON library throw.
  auto manifest = nlohmann::json::parse(ReadText(root_ / "shards" / "dataset.json"));
  manifest["record_bytes"] = "many";
  std::ofstream(root_ / "shards" / "dataset.json") << manifest.dump();
  const RunResult result = Train({"--preset", "tiny", "--epochs", "1"});
  EXPECT_EQ(result.signal, 0) << result.Describe();
  EXPECT_TRUE(result.exit_code == 1 || result.exit_code == 2) << result.Describe();
  EXPECT_NE(result.err.find("memes train:"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("Exception raised from"), std::string::npos) << result.err;
}

// #16.3: predict on a folder: every image below it, sorted; failures reported per file.
TEST_F(TrainCliTest, PredictReadsAFolder) {
  ASSERT_EQ(Train({"--preset", "tiny", "--epochs", "1"}).exit_code, 0);
  const fs::path images = root_ / "images";
  fs::create_directories(images / "sub");
  const cv::Mat red(32, 32, CV_8UC3, cv::Scalar(0, 0, 255));
  ASSERT_TRUE(cv::imwrite((images / "b.png").string(), red));
  ASSERT_TRUE(cv::imwrite((images / "sub" / "a.png").string(), red));
  std::ofstream(images / "notes.txt") << "not an image";
  const std::string model = (run() / "best.pt").string();

  const RunResult good = RunMemes({"predict", model, images.string(), "--json", "--threads", "1"});
  ASSERT_EQ(good.exit_code, 0) << good.Describe();
  std::istringstream lines(good.out);
  std::vector<nlohmann::json> results;
  for (std::string line; std::getline(lines, line);) results.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(results.size(), 2u) << good.out;
  EXPECT_EQ(fs::path(results[0].at("file").get<std::string>()).filename(), "b.png");
  EXPECT_EQ(fs::path(results[1].at("file").get<std::string>()).filename(), "a.png");
  EXPECT_EQ(results[0].at("top").size(), 2u);

  std::ofstream(images / "broken.png") << "\x89PNG\r\n\x1a\n truncated";
  const RunResult some_failed = RunMemes({"predict", model, images.string(), "--threads", "1"});
  EXPECT_EQ(some_failed.exit_code, 1) << some_failed.Describe();
  EXPECT_NE(some_failed.err.find("broken.png"), std::string::npos) << some_failed.err;
  EXPECT_NE(some_failed.err.find("2 predicted, 1 failed"), std::string::npos) << some_failed.err;
  EXPECT_NE(some_failed.out.find("a.png"), std::string::npos) << some_failed.out;
}

// #16.9: a shard folder that does not exist is a usage error (2), not a failed job (1).
TEST_F(TrainCliTest, MissingShardsAreAUsageError) {
  const RunResult train = RunMemes({"train", (root_ / "nosuch").string(), "-o", run().string()});
  EXPECT_EQ(train.exit_code, 2) << train.Describe();
  const RunResult no_shards = RunMemes({"train", "-o", run().string()});
  EXPECT_EQ(no_shards.exit_code, 2) << no_shards.Describe();
  const RunResult nothing_to_resume = RunMemes({"train", "-o", run().string(), "--resume"});
  EXPECT_EQ(nothing_to_resume.exit_code, 2) << nothing_to_resume.Describe();
  EXPECT_NE(nothing_to_resume.err.find("no last.pt"), std::string::npos) << nothing_to_resume.err;
}

// #16.7: global flags after the subcommand.
TEST_F(TrainCliTest, GlobalFlagsWorkAfterTheSubcommand) {
  // It runs (and finds that these test shards have no index.tsv) instead of a usage error.
  const RunResult verbose = RunMemes({"verify", (root_ / "shards").string(), "-v"});
  EXPECT_EQ(verbose.exit_code, 1) << verbose.Describe();
  EXPECT_NE(verbose.out.find("index.tsv"), std::string::npos) << verbose.Describe();
  const RunResult crawl = RunMemes({"crawl", (root_ / "nosuch.toml").string(), "-v"});
  EXPECT_EQ(crawl.err.find("not expected"), std::string::npos) << crawl.Describe();
  const RunResult quiet = Train({"--preset", "tiny", "--epochs", "1", "-q"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.Describe();
  EXPECT_EQ(quiet.err.find("epoch 1/1"), std::string::npos) << quiet.err;
}

// #16.9: the options that had no help text have it now.
TEST(TrainCliHelp, OptionsHaveHelpText) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"train",
       {"Passes over the training split", "Images per optimizer step",
        "Share of the target spread evenly", "Learning-rate schedule", "Move a run already"}},
      {"eval", {"Images per forward pass", "--allow-class-mismatch"}},
      {"predict", {"a folder stands for the image files", "one JSON object per line"}}};
  for (const auto& [command, texts] : expected) {
    const RunResult help = RunMemes({command, "--help"});
    ASSERT_EQ(help.exit_code, 0) << help.Describe();
    for (const auto& text : texts) {
      EXPECT_NE(help.out.find(text), std::string::npos) << command << ": " << text << "\n"
                                                        << help.out;
    }
  }
}

// #16.10: the commands that need no model do not load LibTorch.
TEST(TrainCliStartup, CommandsWithoutAModelDoNotLoadLibTorch) {
  testing::RunOptions options;
  options.extra_env = {"LD_DEBUG=files"};
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"}, {"label", "--help"}, {"verify", "/nonexistent"}, {"train", "--help"}}) {
    const RunResult run = RunMemes(args, options);
    EXPECT_NE(run.err.find("file="), std::string::npos) << "LD_DEBUG had no effect\n"
                                                        << run.err.substr(0, 2000);
    EXPECT_EQ(run.err.find("libtorch"), std::string::npos) << args[0] << " loaded LibTorch";
  }
  const RunResult version = RunMemes({"--version"});
  EXPECT_EQ(version.exit_code, 0) << version.Describe();
  EXPECT_NE(version.out.find("LibTorch"), std::string::npos) << version.out;
}

}  // namespace
}  // namespace memes
