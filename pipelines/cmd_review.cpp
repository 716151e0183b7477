// `memes review --store S`: finds items whose label the model doubts. Trains k models on k folds
// of near-duplicate groups (never fold by image: a near-copy in training would vouch for its
// twin), predicts each held-out fold, scores every item (self-confidence, normalized margin) on
// its frame-averaged out-of-fold probabilities and selects suspects with confident learning
// (pipelines/review_scoring.h). Outputs: pipelines/review_outputs.h; docs/review.md.
// Runs in memes-train (needs_model): packing uses store/, training and prediction train/.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "core/log.h"
#include "pipelines/cli.h"
#include "pipelines/command.h"
#include "pipelines/review_outputs.h"
#include "pipelines/review_scoring.h"
#include "store/file_util.h"
#include "store/pack.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenStoreForReading(const fs::path& dir);  // cmd_pack.cpp

namespace {

constexpr const char* kMarker = ".memes-review";  // marks a folder `memes review` may replace
constexpr int64_t kProgressTestRecords = 256;     // held-out records scored after each epoch
constexpr int kClassicEpochs = 15;                // --epochs left out, classic presets

struct ReviewArgs {
  std::string store_dir;
  fs::path out = "review";
  int folds = 4;
  // fast: on 500 Fashion-MNIST images and 10 epochs it reached 75 % where small and tiny with
  // the classic recipe stayed near 50 % (docs/benchmarks.md): out-of-fold probabilities are
  // only as good as the folds' models.
  std::string preset = "fast";
  int epochs = 0;  // 0: the fast recipe's 10 with --preset fast, 15 with the classic presets
  int batch_size = 128;
  double learning_rate = 0.1;
  uint64_t seed = 1;
  bool rot4 = true;
  int per_class = 8;
  std::string device = "auto";
  int threads = 0;
  bool progress = true;
  // The training options the command line set (GivenOptions): only these override the fast
  // recipe's own values (train/recipe.h); review's defaults above are the classic recipe's.
  std::set<std::string> given;
};

// Training options that reach a fold's training as "given": passing review's defaults as given
// would replace the fast recipe's batch, learning rate and epochs with the classic recipe's
// (lr 0.1 on fast's summed loss diverges).
std::set<std::string> GivenTrainingOptions(const std::set<std::string>& given) {
  std::set<std::string> forwarded;
  for (const char* name : {"--preset", "--epochs", "--batch-size", "--lr", "--seed"}) {
    if (given.count(name)) forwarded.insert(name);
  }
  return forwarded;
}

// The out folder must be new, empty, or a previous review's (it holds kMarker): anything else
// is refused, so a typo never deletes a folder's files.
Status PrepareOut(const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error)) {
    if (!fs::is_directory(out, error)) return InvalidArgument("not a folder", out.string());
    const bool empty = fs::directory_iterator(out, error) == fs::directory_iterator();
    if (!empty && !fs::exists(out / kMarker, error)) {
      return InvalidArgument("holds files but no previous review (" + std::string(kMarker) +
                                 "); choose a new or empty folder with --out",
                             out.string());
    }
  }
  fs::create_directories(out, error);
  if (error) return IoError("cannot create: " + error.message(), out.string());
  std::ofstream(out / kMarker) << "memes review output folder\n";
  fs::remove_all(out / "folds", error);
  if (error) return IoError("cannot clear: " + error.message(), (out / "folds").string());
  return Status::Ok();
}

// Test records of a fold's shards: record number -> blob, from index.tsv (store/FORMAT.md).
Result<std::vector<std::string>> TestRecordBlobs(const fs::path& shards) {
  const fs::path index = shards / "index.tsv";
  std::ifstream in(index);
  if (!in) return IoError("cannot read", index.string());
  std::vector<std::string> blobs;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    if (++line_number == 1) continue;  // header
    std::istringstream fields(line);
    std::string file, record, blob;
    std::getline(fields, file, '\t');
    std::getline(fields, record, '\t');
    std::getline(fields, blob, '\t');
    if (file != "test_batch.bin") continue;
    size_t number = 0;
    const auto parsed = std::from_chars(record.data(), record.data() + record.size(), number);
    if (parsed.ec != std::errc() || number != blobs.size()) {
      return Corrupt("test records out of order (record " + record + ")",
                     index.string() + ":" + std::to_string(line_number));
    }
    blobs.push_back(blob);
  }
  return blobs;
}

struct ItemPrediction {
  std::vector<double> sum;  // summed probabilities of its frames (C)
  int frames = 0;
  int label = 0;  // label byte
  int fold = 0;
};

Status RunReview(const ReviewArgs& args) {
  MEMES_RETURN_IF_ERROR(PrepareOut(args.out));
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> store, OpenStoreForReading(args.store_dir));
  MEMES_ASSIGN_OR_RETURN(std::vector<store::PackEntry> entries, store->catalog().PackIndex());
  std::map<std::string, int64_t> group_items;
  for (const store::PackEntry& entry : entries) ++group_items[entry.group_key];
  std::vector<FoldGroup> groups;
  for (const auto& [key, items] : group_items) groups.push_back({key, items});
  if (static_cast<int>(groups.size()) < args.folds) {
    return InvalidArgument(std::to_string(groups.size()) + " near-duplicate groups of packable " +
                               "items; --folds " + std::to_string(args.folds) +
                               " needs at least as many",
                           args.store_dir);
  }
  const std::vector<int> fold_of_group = AssignFolds(groups, args.folds, args.seed);
  std::map<std::string, int> fold_of;
  for (size_t g = 0; g < groups.size(); ++g) fold_of[groups[g].key] = fold_of_group[g];

  std::vector<std::string> classes;
  int views = 0;  // views each held-out record was predicted on (the same in every fold)
  std::map<std::string, ItemPrediction> predictions;  // by blob
  for (int fold = 0; fold < args.folds; ++fold) {
    const fs::path scratch = args.out / "folds" / ("fold-" + std::to_string(fold));
    MEMES_LOG(kInfo) << "fold " << fold + 1 << " of " << args.folds << ": pack, train, predict";
    store::PackOptions pack;
    pack.out = scratch / "shards";
    pack.rot4 = args.rot4;
    pack.seed = args.seed;
    pack.progress = false;
    pack.replace_despite_failures = true;  // an unreadable item is left out (and listed)
    // A group catalogued after the review started (a crawl may run meanwhile) is in no fold:
    // it only ever trains.
    pack.test_group = [&](const std::string& key) {
      auto it = fold_of.find(key);
      return it != fold_of.end() && it->second == fold;
    };
    MEMES_ASSIGN_OR_RETURN(store::PackReport packed, store::Pack(*store, pack));
    for (const std::string& failure : packed.failures) {
      MEMES_LOG(kWarning) << "left out of the review: " << failure;
    }

    train::TrainOptions training;
    training.shards = pack.out;
    training.run_dir = scratch / "run";
    training.preset = args.preset;
    training.epochs = args.epochs > 0 ? args.epochs : kClassicEpochs;
    training.batch_size = args.batch_size;
    training.learning_rate = args.learning_rate;
    training.seed = args.seed + fold;
    training.device = args.device;
    training.threads = args.threads;
    training.progress = args.progress;
    // The per-epoch test line scores only the first held-out records: the fold's own (possibly
    // wrong) labels make it a progress sign, not a measure, and in full (six views with the fast
    // recipe) it cost more than the epoch's training. Every held-out record is predicted below.
    training.limit_test = kProgressTestRecords;
    training.given_options = GivenTrainingOptions(args.given);
    MEMES_RETURN_IF_ERROR(Train().train(training));

    train::TestProbabilitiesOptions predict;
    // last.pt, not best.pt: best is chosen on this held-out fold's (possibly wrong) labels.
    predict.model = training.run_dir / "last.pt";
    predict.shards = pack.out;
    predict.device = args.device;
    predict.threads = args.threads;
    MEMES_ASSIGN_OR_RETURN(train::TestProbabilities probs, Train().test_probabilities(predict));
    if (classes.empty()) classes = probs.classes;
    views = probs.views;
    if (probs.classes != classes) {
      return Internal("fold " + std::to_string(fold) + " packed other classes than fold 0",
                      pack.out.string());
    }
    MEMES_ASSIGN_OR_RETURN(std::vector<std::string> blobs, TestRecordBlobs(pack.out));
    if (static_cast<int64_t>(blobs.size()) != probs.records) {
      return Corrupt("index.tsv lists " + std::to_string(blobs.size()) + " test records, " +
                         "test_batch.bin holds " + std::to_string(probs.records),
                     pack.out.string());
    }
    const size_t c = classes.size();
    for (size_t r = 0; r < blobs.size(); ++r) {
      ItemPrediction& item = predictions[blobs[r]];
      if (item.sum.empty()) item.sum.assign(c, 0.0);
      for (size_t k = 0; k < c; ++k) item.sum[k] += probs.probabilities[r * c + k];
      ++item.frames;
      item.fold = fold;
    }
  }
  if (classes.size() < 2) {
    return InvalidArgument("review needs at least two classes with items", args.store_dir);
  }

  // Every item's label byte: the position of its class in the packed class list.
  MEMES_ASSIGN_OR_RETURN(std::vector<store::LabelInfo> labels, store->catalog().Labels());
  std::map<int64_t, int> byte_of_label;
  for (const store::LabelInfo& label : labels) {
    auto it = std::find(classes.begin(), classes.end(), label.name);
    if (it != classes.end() && !label.retired) byte_of_label[label.id] = it - classes.begin();
  }
  for (const store::PackEntry& entry : entries) {
    auto it = predictions.find(entry.blob);
    auto byte = byte_of_label.find(entry.label_id);
    if (it == predictions.end()) continue;
    if (byte == byte_of_label.end()) {
      // Relabelled into a class that was not packed while the review ran: not scored.
      predictions.erase(it);
      continue;
    }
    it->second.label = byte->second;
  }
  std::map<std::string, std::string> url_of;
  MEMES_RETURN_IF_ERROR(store->catalog().ForEachLabelRow([&](const store::LabelRow& row) {
    if (predictions.count(row.blob)) url_of[row.blob] = row.url;
    return Status::Ok();
  }));

  // Rows in blob order: probs (N, C) of the frame-averaged predictions.
  const int c = static_cast<int>(classes.size());
  std::vector<std::string> hashes;
  std::vector<float> probs;
  std::vector<int> given;
  std::vector<int64_t> given64;
  for (const auto& [blob, item] : predictions) {
    hashes.push_back(blob);
    for (double sum : item.sum) probs.push_back(static_cast<float>(sum / item.frames));
    given.push_back(item.label);
    given64.push_back(item.label);
  }
  const LabelScores scores = ScoreLabels(probs, given, c);
  const ConfidentLearning cl = FindLabelIssues(probs, given, c);

  std::vector<SuspectRow> suspects;
  for (int64_t i : cl.flagged) {
    const ItemPrediction& item = predictions.at(hashes[i]);
    suspects.push_back({hashes[i], classes[given[i]], classes[scores.suggested[i]],
                        scores.self_confidence[i], url_of[hashes[i]], scores.normalized_margin[i],
                        item.frames, item.fold});
  }
  std::sort(suspects.begin(), suspects.end(), [](const SuspectRow& a, const SuspectRow& b) {
    return a.score != b.score ? a.score < b.score : a.blob < b.blob;
  });

  std::string hashes_text;
  for (const std::string& hash : hashes) hashes_text += hash + "\n";
  MEMES_RETURN_IF_ERROR(WriteSuspectsCsv(args.out / "suspects.csv", suspects));
  MEMES_RETURN_IF_ERROR(
      WriteNpyFloat32(args.out / "pred_probs.npy", probs, static_cast<int64_t>(hashes.size()), c));
  MEMES_RETURN_IF_ERROR(WriteNpyInt64(args.out / "labels.npy", given64));
  MEMES_RETURN_IF_ERROR(store::WriteFileAtomic(args.out / "hashes.txt", hashes_text));
  std::string classes_text;
  for (const std::string& name : classes) classes_text += name + "\n";
  MEMES_RETURN_IF_ERROR(store::WriteFileAtomic(args.out / "classes.txt", classes_text));
  MEMES_RETURN_IF_ERROR(
      WriteSuspectsMosaic(args.out / "suspects.png", *store, suspects, classes, args.per_class));

  std::vector<int64_t> per_class(c, 0), items(c, 0);
  for (int label : given) ++items[label];
  for (const SuspectRow& row : suspects) {
    ++per_class[std::find(classes.begin(), classes.end(), row.label) - classes.begin()];
  }
  std::printf(
      "reviewed %zu items in %d folds (held-out predictions on %d views, as memes eval "
      "scores the folds' models): %zu suspects\n",
      hashes.size(), args.folds, views, suspects.size());
  for (int k = 0; k < c; ++k) {
    std::printf("  %-20s %6lld of %6lld items\n", classes[k].c_str(),
                static_cast<long long>(per_class[k]), static_cast<long long>(items[k]));
  }
  const fs::path out = args.out;
  std::printf(
      "wrote %s (worst first; fill the action column: keep, relabel or drop), %s,\n"
      "  %s, %s, %s, %s\n"
      "apply with: memes label --store %s import %s   (then memes pack)\n",
      (out / "suspects.csv").string().c_str(), (out / "suspects.png").string().c_str(),
      (out / "pred_probs.npy").string().c_str(), (out / "labels.npy").string().c_str(),
      (out / "hashes.txt").string().c_str(), (out / "classes.txt").string().c_str(),
      args.store_dir.c_str(), (out / "suspects.csv").string().c_str());
  return Status::Ok();
}

}  // namespace

void AddReviewCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "review", "Find items whose label the model doubts (confident learning on k folds)");
  auto args = std::make_shared<ReviewArgs>();
  command->add_option("--store", args->store_dir, "The store to review")
      ->required()
      ->check(CLI::ExistingDirectory);
  command
      ->add_option("-o,--out", args->out,
                   "Output folder: suspects.csv, suspects.png, pred_probs.npy, labels.npy, "
                   "hashes.txt, classes.txt (and folds/, the scratch shards and runs)")
      ->capture_default_str();
  command->add_option("--folds", args->folds, "Folds of near-duplicate groups (k models)")
      ->capture_default_str()
      ->check(IntegerRange(2, 20));
  command->add_option("--preset", args->preset, "Model preset of each fold's training")
      ->capture_default_str();
  command
      ->add_option("--epochs", args->epochs,
                   "Epochs of each fold's training (default: the fast recipe's 10 with --preset "
                   "fast, 15 with the others)")
      ->check(IntegerRange(1, 100000));
  command
      ->add_option("--batch-size", args->batch_size,
                   "Images per optimizer step (--preset fast: the fast recipe's unless given)")
      ->capture_default_str()
      ->check(IntegerRange(2, 65536));
  command
      ->add_option("--lr", args->learning_rate,
                   "Peak learning rate (--preset fast: the fast recipe's unless given)")
      ->capture_default_str()
      ->check(FiniteRange(0, 100, /*low_open=*/true));
  command->add_option("--seed", args->seed, "Folds and training seed")->capture_default_str();
  command->add_flag("!--no-rot4", args->rot4, "Train on the frames as they are (no 4 rotations)");
  command->add_option("--per-class", args->per_class, "Suspects per class in suspects.png")
      ->capture_default_str()
      ->check(IntegerRange(1, 64));
  command->add_option("--device", args->device, "auto | cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  command->add_option("--threads", args->threads, "CPU threads (0: all cores)")
      ->capture_default_str()
      ->check(IntegerRange(0, 1024));
  command->footer(
      "Folds never split a near-duplicate group. Each item is scored on the model that did not\n"
      "see it, animations on the mean over their frames. suspects.csv lists confident\n"
      "learning's selection (prune_by_noise_rate), lowest score (p of the given label) first.");
  registry.Add(
      command,
      [args, command] {
        args->progress = LogEnabled(LogLevel::kInfo);
        args->given = GivenOptions(*command);
        return ExitCodeFor(RunReview(*args), "review");
      },
      /*needs_model=*/true);
}

}  // namespace memes::pipelines
