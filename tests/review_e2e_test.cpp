// End-to-end: `memes review` through the real binary on a store this test makes (solid-colour
// items, a few deliberately mislabelled), and `memes label import` of review's suspects.csv.
#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "store/store.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"
#include "tests/store_fixture.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kClasses = 3;
const char* const kNames[kClasses] = {"red", "green", "blue"};

std::vector<std::vector<std::string>> ReadCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    rows.push_back(fields);
  }
  return rows;
}

class ReviewCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-review-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    store_ = (dir_ / "store").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `per_class` items of each colour (each its own near-duplicate group; with `animations` every
  // third one a two-frame animation); the first `mislabelled` items get the next colour's label.
  // Returns blob -> true class.
  std::map<std::string, std::string> MakeStore(int per_class, int mislabelled,
                                               bool animations = true) {
    std::map<std::string, std::string> truth;
    auto opened = store::Store::Open(store_);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    if (!opened.ok()) return truth;
    store::Store& store = **opened;
    const int s = store.image_settings().size;
    for (int item = 0; item < kClasses * per_class; ++item) {
      const int colour = item % kClasses;
      const std::string bytes = "review-test item " + std::to_string(item);
      auto blob = store.PutBlob(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
      EXPECT_TRUE(blob.ok());
      const int kept = animations && item % 3 == 2 ? 2 : 1;
      std::vector<std::vector<uint8_t>> pixels(kept, std::vector<uint8_t>(3u * s * s));
      std::vector<store::FrameData> frames;
      for (int k = 0; k < kept; ++k) {
        for (int c = 0; c < 3; ++c) {
          for (int p = 0; p < s * s; ++p) {
            const uint64_t jitter = FixtureMix(item * 7919 + k * 131 + c * 17 + p) % 40;
            pixels[k][c * s * s + p] = static_cast<uint8_t>((c == colour ? 190 : 20) + jitter);
          }
        }
        frames.push_back({{2 * k, 40 * k, FixtureMix(1000 + item)}, pixels[k]});
      }
      const store::SourceRecord source{"http://review.test/" + std::to_string(item) + ".gif",
                                       "",
                                       "colours",
                                       "test",
                                       1700000000,
                                       200};
      const store::ItemRecord record{*blob, bytes.size(), "gif", 32, 32, kept, store::kItemOk, ""};
      const bool wrong = item < mislabelled;
      const std::string label = kNames[wrong ? (colour + 1) % kClasses : colour];
      auto added = store.AddItem(record, &source, frames, label);
      EXPECT_TRUE(added.ok()) << added.status().ToString();
      truth[*blob] = kNames[colour];
    }
    return truth;
  }

  std::map<std::string, std::string> LabelsNow() {
    const std::string csv = (dir_ / "export.csv").string();
    const RunResult run = RunMemes({"label", "--store", store_, "export", csv});
    EXPECT_EQ(run.exit_code, 0) << run.Describe();
    std::map<std::string, std::string> labels;
    const auto rows = ReadCsv(Slurp(csv));
    for (size_t r = 1; r < rows.size(); ++r) labels[rows[r][0]] = rows[r][1];
    return labels;
  }

  fs::path dir_;
  std::string store_;
};

TEST_F(ReviewCli, FlagsTheMislabelledItemsFirstWithTheirTrueClass) {
  const auto truth = MakeStore(/*per_class=*/12, /*mislabelled=*/3);
  const fs::path out = dir_ / "review";
  RunOptions options;
  options.timeout = std::chrono::seconds(240);
  // One thread: LibTorch's OpenMP pool crawls on a loaded machine with more.
  const RunResult run =
      RunMemes({"review", "--store", store_, "--out", out.string(), "--folds", "2", "--preset",
                "tiny", "--epochs", "12", "--batch-size", "8", "--no-rot4", "--threads", "1", "-q"},
               options);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("suspects"), std::string::npos) << run.out;

  const auto rows = ReadCsv(Slurp(out / "suspects.csv"));
  ASSERT_GE(rows.size(), 4u) << Slurp(out / "suspects.csv");
  const std::vector<std::string> header(rows[0].begin(), rows[0].begin() + 6);
  EXPECT_EQ(header,
            (std::vector<std::string>{"hash", "label", "suggested", "score", "url", "action"}));
  const auto labels = LabelsNow();
  double last_score = -1;
  for (size_t r = 1; r < rows.size(); ++r) {
    const double score = std::stod(rows[r][3]);
    EXPECT_GE(score, last_score) << "worst first";
    EXPECT_TRUE(score >= 0 && score <= 1);
    last_score = score;
    EXPECT_TRUE(rows[r][5].empty()) << "the action column is for a person";
  }
  for (size_t r = 1; r <= 3; ++r) {
    const std::string& blob = rows[r][0];
    EXPECT_NE(labels.at(blob), truth.at(blob)) << "row " << r << " is not a mislabelled item";
    EXPECT_EQ(rows[r][2], truth.at(blob)) << "suggested class of row " << r;
  }
  EXPECT_LE(rows.size(), 1u + 3 + 2) << "few clean items flagged:\n" << Slurp(out / "suspects.csv");

  // The raw probabilities: .npy v1.0, float32 (N, 3) and int64 (N,), rows named by hashes.txt.
  const std::string npy = Slurp(out / "pred_probs.npy");
  ASSERT_GT(npy.size(), 10u);
  EXPECT_EQ(npy.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_NE(npy.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(npy.find("'shape': (36, 3)"), std::string::npos);
  const size_t header_end = npy.find('\n') + 1;
  EXPECT_EQ(header_end % 64, 0u);
  EXPECT_EQ(npy.size() - header_end, 36u * 3 * sizeof(float));
  EXPECT_NE(Slurp(out / "labels.npy").find("'shape': (36,)"), std::string::npos);
  EXPECT_EQ(ReadCsv(Slurp(out / "hashes.txt")).size(), 36u);
  EXPECT_GT(fs::file_size(out / "suspects.png"), 100u);

  // Accept the suggestions: relabel every suspect, then the catalog holds the true labels.
  std::string edited = "hash,label,suggested,score,url,action\n";
  for (size_t r = 1; r < rows.size(); ++r) {
    edited += rows[r][0] + "," + rows[r][1] + "," + rows[r][2] + ",0,," +
              (truth.at(rows[r][0]) == rows[r][1] ? "keep" : "relabel") + "\n";
  }
  std::ofstream(out / "decided.csv") << edited;
  const RunResult imported =
      RunMemes({"label", "--store", store_, "import", (out / "decided.csv").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.Describe();
  EXPECT_EQ(LabelsNow(), truth);

  // A second review into the same folder replaces it; a folder with other files is refused.
  fs::create_directories(dir_ / "precious");
  std::ofstream(dir_ / "precious" / "keep.txt") << "mine";
  const RunResult refused =
      RunMemes({"review", "--store", store_, "--out", (dir_ / "precious").string(), "--folds", "2",
                "--preset", "tiny", "--epochs", "1"});
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  EXPECT_EQ(Slurp(dir_ / "precious" / "keep.txt"), "mine");
}

// The default preset is fast, and the options left out take the fast recipe's values
// (train/recipe.h), as in memes train: review's own defaults (batch 128, lr 0.1: the classic
// recipe's) must not reach the folds as if given, where lr 0.1 on the fast recipe's summed loss
// diverges.
TEST_F(ReviewCli, FastPresetKeepsTheFastRecipesDefaults) {
  MakeStore(/*per_class=*/12, /*mislabelled=*/0);
  const fs::path out = dir_ / "review";
  RunOptions options;
  options.timeout = std::chrono::seconds(240);
  const RunResult run = RunMemes({"review", "--store", store_, "--out", out.string(), "--folds",
                                  "2", "--epochs", "1", "--no-rot4", "--threads", "1", "-q"},
                                 options);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  for (const char* fold : {"fold-0", "fold-1"}) {
    const auto record = nlohmann::json::parse(Slurp(out / "folds" / fold / "run" / "run.json"));
    const auto& recipe = record.at("recipe");
    EXPECT_EQ(record.at("preset"), "fast") << fold << ": the default preset";
    EXPECT_EQ(record.at("model").at("recipe"), "fast") << fold;
    EXPECT_EQ(recipe.at("epochs"), 1) << fold << ": --epochs was given";
    EXPECT_EQ(recipe.at("batch_size"), 64) << fold << ": the fast recipe's batch for ~18 images";
    EXPECT_LT(recipe.at("learning_rate").get<double>(), 0.01) << fold << ": fast's summed-loss lr";
    EXPECT_EQ(recipe.at("schedule"), "triangular") << fold;
  }
}

// The body of an .npy v1.0 file (its bytes after the header), as T.
template <typename T>
std::vector<T> NpyValues(const fs::path& path) {
  const std::string npy = Slurp(path);
  const size_t body = npy.find('\n') + 1;
  std::vector<T> values((npy.size() - body) / sizeof(T));
  std::memcpy(values.data(), npy.data() + body, values.size() * sizeof(T));
  return values;
}

// Held-out items are scored on the probabilities `memes eval` gives the fold's model (the fast
// recipe's 6-view test-time augmentation), not on a cheaper set of views: eval's loss on a
// fold's held-out shards is the mean of -log p(given label) over review's rows of that fold.
TEST_F(ReviewCli, HeldOutProbabilitiesAreEvalsTtaProbabilities) {
  MakeStore(/*per_class=*/12, /*mislabelled=*/2, /*animations=*/false);
  const fs::path out = dir_ / "review";
  RunOptions options;
  options.timeout = std::chrono::seconds(240);
  const RunResult run = RunMemes({"review", "--store", store_, "--out", out.string(), "--folds",
                                  "2", "--epochs", "2", "--no-rot4", "--threads", "1", "-q"},
                                 options);
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_NE(run.out.find("on 6 views"), std::string::npos) << run.out;

  const auto probs = NpyValues<float>(out / "pred_probs.npy");
  const auto labels = NpyValues<int64_t>(out / "labels.npy");
  std::map<std::string, size_t> row_of;
  std::istringstream hashes(Slurp(out / "hashes.txt"));
  for (std::string hash; std::getline(hashes, hash);) row_of.emplace(hash, row_of.size());
  ASSERT_EQ(row_of.size(), 36u);
  ASSERT_EQ(probs.size(), 36u * kClasses);
  size_t scored = 0;
  for (const char* fold : {"fold-0", "fold-1"}) {
    const fs::path shards = out / "folds" / fold / "shards";
    const RunResult eval =
        RunMemes({"eval", (out / "folds" / fold / "run" / "last.pt").string(), shards.string(),
                  "--out", (dir_ / fold).string(), "--threads", "1", "--json"},
                 options);
    ASSERT_EQ(eval.exit_code, 0) << eval.Describe();
    const auto report = nlohmann::json::parse(eval.out);
    EXPECT_EQ(report.at("tta_views"), 6) << fold;
    double loss = 0;
    int records = 0;
    std::istringstream index(Slurp(shards / "index.tsv"));
    for (std::string line; std::getline(index, line);) {
      std::istringstream fields(line);
      std::string file, record, blob;
      std::getline(fields, file, '\t');
      std::getline(fields, record, '\t');
      std::getline(fields, blob, '\t');
      if (file != "test_batch.bin") continue;
      const size_t row = row_of.at(blob);
      loss -= std::log(static_cast<double>(probs[row * kClasses + labels[row]]));
      ++records;
    }
    ASSERT_EQ(records, report.at("images").get<int>()) << fold;
    scored += records;
    const double eval_loss = report.at("loss").get<double>();
    EXPECT_NEAR(loss / records, eval_loss, 1e-5 * std::max(1.0, eval_loss)) << fold;
  }
  EXPECT_EQ(scored, 36u) << "every item is held out once";
}

TEST_F(ReviewCli, LabelImportAppliesTheActionColumnAllOrNothing) {
  const auto truth = MakeStore(/*per_class=*/2, /*mislabelled=*/0);
  std::vector<std::string> blobs;
  for (const auto& [blob, colour] : truth) blobs.push_back(blob);
  const auto before = LabelsNow();
  const fs::path csv = dir_ / "suspects.csv";
  auto write = [&](const std::string& last_action) {
    std::ofstream(csv) << "hash,label,suggested,score,url,action,margin\n"
                       << blobs[0] << "," << before.at(blobs[0]) << ",green,0.1,,relabel,0.2\n"
                       << blobs[1] << "," << before.at(blobs[1]) << ",red,0.2,,drop,0.3\n"
                       << blobs[2] << "," << before.at(blobs[2]) << ",red,0.3,,,0.4\n"
                       << blobs[3] << ",blue,red,0.4,," << last_action << ",0.5\n";
  };
  // An edited label with the action keep: an error naming the line, nothing changes.
  write("keep");
  RunResult run = RunMemes({"label", "--store", store_, "import", csv.string()});
  EXPECT_EQ(run.exit_code, 2) << run.Describe();
  EXPECT_NE(run.err.find("suspects.csv:5"), std::string::npos) << run.Describe();
  EXPECT_EQ(LabelsNow(), before);

  write("relabel");
  run = RunMemes({"label", "--store", store_, "import", csv.string(), "--dry-run"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  EXPECT_EQ(LabelsNow(), before) << "a dry run changes nothing";
  run = RunMemes({"label", "--store", store_, "import", csv.string()});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const auto after = LabelsNow();
  EXPECT_EQ(after.at(blobs[0]), "green") << "relabel takes suggested";
  EXPECT_EQ(after.at(blobs[2]), before.at(blobs[2])) << "empty action: no change";
  EXPECT_EQ(after.at(blobs[3]), "blue") << "relabel takes an edited label over suggested";
  const std::string exported = Slurp(dir_ / "export.csv");
  EXPECT_NE(exported.find(blobs[1] + "," + before.at(blobs[1]) + ",http://review.test/"),
            std::string::npos);
  EXPECT_NE(exported.find(blobs[1]), std::string::npos);
  const RunResult log = RunMemes({"label", "--store", store_, "log"});
  EXPECT_NE(log.out.find("import review"), std::string::npos) << log.Describe();
  EXPECT_NE(log.out.find("drop"), std::string::npos) << log.Describe();
}

}  // namespace
}  // namespace memes::testing
