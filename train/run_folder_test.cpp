// The rules of a run folder: run.json read strictly, moving a run aside, resume planning, the
// class check, and what a folder argument of predict stands for. LibTorch-free.
#include "train/run_folder.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <fstream>

#include "train/model_config.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

class RunFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_run_folder_test_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "run");
  }
  void TearDown() override { fs::remove_all(root_); }

  // A record as `train --preset tiny --epochs 4 --lr 0.05` writes it.
  static RunRecord TinyRecord() {
    RunRecord record;
    record.preset = "tiny";
    record.model = ConfigToJson(*PresetConfig("tiny", 2));
    record.recipe = {4, 16, 0.05, 0.9, 5e-4, 0.1, "cosine", 1, {}, true, 3};
    record.classes = {"kumamon", "shiba"};
    record.shards = "/data/shards";
    return record;
  }
  TrainOptions Given(std::set<std::string> given) const {
    TrainOptions options;  // the CLI defaults: preset small, 30 epochs, lr 0.1…
    options.run_dir = root_ / "run";
    options.resume = true;
    options.given_options = std::move(given);
    return options;
  }

  fs::path root_;
};

TEST_F(RunFolderTest, RecordRoundTripsAndMissingKeysAreRefused) {
  ASSERT_TRUE(WriteRunRecord(root_ / "run", TinyRecord()).ok());
  auto read = ReadRunRecord(root_ / "run");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->preset, "tiny");
  EXPECT_EQ(read->recipe.epochs, 4);
  EXPECT_EQ(read->classes, (std::vector<std::string>{"kumamon", "shiba"}));

  // The run.json of an older memes (no recipe object) is refused, not read with defaults.
  std::ofstream(root_ / "run" / "run.json") << R"({"epochs": 4, "lr": 0.05, "schedule": "cosine"})";
  auto old = ReadRunRecord(root_ / "run");
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(old.status().ToString().find("run.json"), std::string::npos);
  EXPECT_EQ(ReadRunRecord(root_ / "nowhere").status().code(), StatusCode::kNotFound);
}

TEST_F(RunFolderTest, AMistypedOrMissingFieldIsAnErrorNamingRunJsonAndTheField) {
  const nlohmann::json good = TinyRecord();
  const std::pair<std::string, nlohmann::json> cases[] = {{"/recipe/epochs", "ten"},
                                                          {"/recipe/epochs", 4.5},
                                                          {"/recipe/seed", -3},
                                                          {"/recipe/learning_rate", "0.05"},
                                                          {"/recipe/augment", 1},
                                                          {"/classes", "kumamon"},
                                                          {"/recipe/step_milestones", {1, "two"}},
                                                          {"/classes", {"kumamon", 2}},
                                                          {"/threads", nullptr}};
  for (const auto& [pointer, value] : cases) {
    nlohmann::json bad = good;
    bad[nlohmann::json::json_pointer(pointer)] = value;
    std::ofstream(root_ / "run" / "run.json", std::ios::trunc) << bad.dump();
    auto read = ReadRunRecord(root_ / "run");
    ASSERT_FALSE(read.ok()) << pointer;
    EXPECT_EQ(read.status().code(), StatusCode::kCorrupt) << pointer;
    std::string field = pointer.substr(1);
    std::replace(field.begin(), field.end(), '/', '.');
    EXPECT_NE(read.status().message().find("field '" + field + "'"), std::string::npos)
        << read.status().ToString();
    EXPECT_NE(read.status().where().find("run.json"), std::string::npos);
  }
  nlohmann::json missing = good;
  missing["recipe"].erase("schedule");
  std::ofstream(root_ / "run" / "run.json", std::ios::trunc) << missing.dump();
  auto read = ReadRunRecord(root_ / "run");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("field 'recipe.schedule' is missing"), std::string::npos)
      << read.status().ToString();
}

TEST(TrainingState, RoundTripsAndOlderCheckpointsReadWithDefaults) {
  TrainingState state;
  state.epoch = 3;
  state.next_batch = 17;
  state.best_acc = 0.5;
  state.partial_loss_sum = 12.5;
  state.partial_correct = 40;
  state.partial_seen = 64;
  state.partial_seconds = 2.5;
  state.partial_cpu_seconds = 4;
  state.loss_scale = 1024;
  auto read = ParseTrainingState(nlohmann::json(state), "run/last.pt");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(nlohmann::json(*read), nlohmann::json(state));

  // What a checkpoint saved at an epoch boundary by an older memes holds.
  auto old = ParseTrainingState(nlohmann::json::parse(R"({"epoch": 2, "next_batch": 0,
      "best_acc": 0.75})"),
                                "run/last.pt");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->epoch, 2);
  EXPECT_EQ(old->partial_seen, 0);
  EXPECT_EQ(old->loss_scale, 65536.0);

  for (const char* text : {R"({"epoch": "2", "next_batch": 0, "best_acc": 0.75})",
                           R"({"epoch": 2, "next_batch": 0, "best_acc": 0.75,
                               "partial_seen": 1.5})",
                           R"({"next_batch": 0, "best_acc": 0.75})"}) {
    auto bad = ParseTrainingState(nlohmann::json::parse(text), "run/last.pt");
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_EQ(bad.status().where(), "run/last.pt");
    EXPECT_NE(bad.status().message().find("field '"), std::string::npos) << bad.status().ToString();
  }
}

TEST_F(RunFolderTest, ResumeTakesTheRunsRecipeAndArchitecture) {
  auto plan = PlanResume(Given({"--resume", "--out"}), TinyRecord(), 1);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->options.preset, "tiny");
  EXPECT_EQ(plan->options.epochs, 4);
  EXPECT_DOUBLE_EQ(plan->options.learning_rate, 0.05);
  EXPECT_EQ(plan->options.batch_size, 16);
  EXPECT_EQ(plan->options.seed, 3u);
  EXPECT_EQ(plan->options.widths, (std::vector<int>{32, 64}));
  EXPECT_TRUE(plan->notes.empty());
}

TEST_F(RunFolderTest, AnOptionGivenAgainWithAnotherValueIsNamed) {
  TrainOptions given = Given({"--lr"});
  given.learning_rate = 0.2;
  auto plan = PlanResume(given, TinyRecord(), 1);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(plan.status().message().find("--lr 0.2 differs from the run's 0.05"), std::string::npos)
      << plan.status().ToString();

  TrainOptions preset = Given({"--preset"});
  preset.preset = "small";
  auto refused = PlanResume(preset, TinyRecord(), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--preset small differs from the run's tiny"),
            std::string::npos)
      << refused.status().ToString();

  // The same value given again is fine.
  TrainOptions same = Given({"--lr", "--preset"});
  same.learning_rate = 0.05;
  same.preset = "tiny";
  EXPECT_TRUE(PlanResume(same, TinyRecord(), 1).ok());
}

TEST_F(RunFolderTest, MoreEpochsExtendTheRunAndSayHowTheScheduleChanges) {
  TrainOptions given = Given({"--epochs"});
  given.epochs = 8;
  auto plan = PlanResume(given, TinyRecord(), 4);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->options.epochs, 8);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("from 4 to 8 epochs"), std::string::npos) << plan->notes[0];
  EXPECT_NE(plan->notes[0].find("learning rate at epoch 4"), std::string::npos) << plan->notes[0];

  given.epochs = 2;
  auto fewer = PlanResume(given, TinyRecord(), 1);
  ASSERT_FALSE(fewer.ok());
  EXPECT_NE(fewer.status().message().find("--epochs 2 is fewer than the run's 4"),
            std::string::npos);
}

TEST_F(RunFolderTest, ClassesMustMatchAndBothListsAreShown) {
  EXPECT_TRUE(CheckSameClasses({"a", "b"}, {"a", "b"}, "run.json", "shards").ok());
  const Status changed =
      CheckSameClasses({"kumamon", "shiba"}, {"kumamon", "柴犬"}, "run.json", "shards");
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.ToString().find("[kumamon, 柴犬]"), std::string::npos) << changed.ToString();
  EXPECT_NE(changed.ToString().find("[kumamon, shiba]"), std::string::npos) << changed.ToString();
}

TEST_F(RunFolderTest, MovingARunAsideKeepsEveryFile) {
  std::ofstream(root_ / "run" / "last.pt") << "model";
  EXPECT_EQ(RunFilesIn(root_ / "run"), (std::vector<std::string>{"last.pt"}));
  auto moved = MoveRunAside(root_ / "run/");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_FALSE(fs::exists(root_ / "run"));
  EXPECT_NE(moved->filename().string().find("run.old-"), std::string::npos) << moved->string();
  std::ifstream kept(*moved / "last.pt");
  std::string text;
  kept >> text;
  EXPECT_EQ(text, "model");
  // A second move in the same second gets its own name.
  fs::create_directories(root_ / "run");
  auto again = MoveRunAside(root_ / "run");
  ASSERT_TRUE(again.ok());
  EXPECT_NE(*again, *moved);
  EXPECT_TRUE(RunFilesIn(root_ / "nowhere").empty());
}

TEST_F(RunFolderTest, APredictFolderMeansItsImageFilesSorted) {
  const fs::path folder = root_ / "images";
  fs::create_directories(folder / "b" / "deeper");
  fs::create_directories(folder / ".hidden");
  for (const char* name :
       {"b/deeper/x.GIF", "a.png", "notes.txt", "b/c.webp", ".hidden/z.png", ".dot.png"}) {
    std::ofstream(folder / name) << "x";
  }
  auto files = ImageFilesIn(folder);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> names;
  for (const auto& file : *files) names.push_back(file.lexically_relative(folder).string());
  EXPECT_EQ(names, (std::vector<std::string>{"a.png", "b/c.webp", "b/deeper/x.GIF"}));
}

}  // namespace
}  // namespace memes::train
