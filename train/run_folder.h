// A training run folder (RUN/): its record `run.json`, what counts as "a run is here", moving an
// old run aside, and the rules that turn `train --resume` plus the options given again into the
// options of the resumed run. LibTorch-free, so the rules are unit-tested without a model.
// Thread-safety: plain values and stateless functions; one process owns a run folder at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "train/train_api.h"

namespace memes::train {

// How the run trains: everything the learning-rate schedule, the loss and the data order depend
// on. Invariant: a resumed run uses exactly these values, except `epochs`, which may grow.
struct RunRecipe {
  int epochs = 0;
  int batch_size = 0;
  double learning_rate = 0;
  double momentum = 0;
  double weight_decay = 0;
  double label_smoothing = 0;
  std::string schedule;
  double warmup_epochs = 0;
  std::vector<int> step_milestones;  // empty: the schedule's default (50% and 75%)
  bool augment = true;
  uint64_t seed = 0;
};

// RUN/run.json. Every key is required when read (a record of another version is refused, not
// filled in with defaults).
struct RunRecord {
  std::string format = "memes-run";
  int format_version = 1;
  std::string preset;
  nlohmann::json model;  // the ModelConfig as ConfigToJson writes it (architecture, classes)
  RunRecipe recipe;
  std::vector<std::string> classes;  // the shards' class names, label i = classes[i]
  std::string shards;                // absolute path of the shard folder the run was started on
  int64_t parameters = 0;
  int64_t macs_per_image = 0;
  int threads = 0;     // as resolved for the last start; not part of the recipe
  std::string device;  // "cpu" or "cuda"; may change between resumes
};

// from_json uses json.at(key) for every member: a missing key throws, it is never defaulted.
// ReadRunRecord checks the layout first (ReadJsonChecked), so an error names the field.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunRecipe, epochs, batch_size, learning_rate, momentum,
                                   weight_decay, label_smoothing, schedule, warmup_epochs,
                                   step_milestones, augment, seed)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RunRecord, format, format_version, preset, model, recipe,
                                   classes, shards, parameters, macs_per_image, threads, device)

// Where a run stands, as a checkpoint carries it beside the weights (the "state" of
// SaveCheckpoint): `train --resume` continues from here, mid-epoch included.
struct TrainingState {
  int epoch = 0;           // epochs completed
  int64_t next_batch = 0;  // first batch of epoch `epoch` still to train (0: at a boundary)
  double best_acc = -1.0;  // best test accuracy so far (-1: none yet)
  // The interrupted epoch's running sums (all 0 at an epoch boundary).
  double partial_loss_sum = 0;
  int64_t partial_correct = 0;
  int64_t partial_seen = 0;
  double partial_seconds = 0;
  double partial_cpu_seconds = 0;
  double loss_scale = 65536.0;  // the CUDA loss scaler's scale
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TrainingState, epoch, next_batch, best_acc,
                                                partial_loss_sum, partial_correct, partial_seen,
                                                partial_seconds, partial_cpu_seconds, loss_scale)

// Reads a checkpoint's state. epoch, next_batch and best_acc are required; the partial sums and
// loss_scale may be absent (checkpoints saved at an epoch boundary by older builds wrote
// only the first three and loss_scale) and then hold the defaults above. A missing required or
// mistyped field is a Corrupt naming `where` and the field.
Result<TrainingState> ParseTrainingState(const nlohmann::json& state, const std::string& where);

// Converts `json` to T (a type with nlohmann to/from_json) after checking it against T's own
// layout, the JSON of a default T: every key of it present (unless listed in `optional_keys`)
// with a value of the same kind (an integer where T writes an integer, a string for a string…),
// nested objects alike. The first fault is a Corrupt naming `where` and the field
// ("field 'recipe.epochs': expected an integer, found \"ten\""). Keys T does not know are ignored.
template <typename T>
Result<T> ReadJsonChecked(const nlohmann::json& json, const std::string& where,
                          const std::vector<std::string>& optional_keys = {});

namespace detail {
// The first fault of `actual` against `layout` under `prefix` ("" when it fits).
std::string FirstLayoutFault(const nlohmann::json& layout, const nlohmann::json& actual,
                             const std::string& prefix,
                             const std::vector<std::string>& optional_keys);
// The leaves of `layout` (values that are not objects) as JSON pointers, in order.
std::vector<nlohmann::json::json_pointer> LayoutLeaves(const nlohmann::json& layout);
// "/recipe/epochs" -> "recipe.epochs".
std::string FieldName(const nlohmann::json::json_pointer& pointer);
}  // namespace detail

template <typename T>
Result<T> ReadJsonChecked(const nlohmann::json& json, const std::string& where,
                          const std::vector<std::string>& optional_keys) {
  if (!json.is_object()) return Corrupt("not a JSON object", where);
  const nlohmann::json layout = T{};
  const std::string fault = detail::FirstLayoutFault(layout, json, "", optional_keys);
  if (!fault.empty()) return Corrupt(fault, where);
  try {
    return json.get<T>();
  } catch (const nlohmann::json::exception& error) {
    // Every field has the right kind, so an element inside an array is at fault (a string in
    // a list of integers): T's own from_json on the layout with one field taken from `json`
    // finds which.
    for (const auto& leaf : detail::LayoutLeaves(layout)) {
      if (!json.contains(leaf)) continue;
      nlohmann::json trial = layout;
      trial[leaf] = json[leaf];
      try {
        (void)trial.get<T>();
      } catch (const nlohmann::json::exception&) {
        return Corrupt("field '" + detail::FieldName(leaf) + "': " + error.what(), where);
      }
    }
    return Corrupt(error.what(), where);
  }
}

inline constexpr const char* kRunRecordName = "run.json";

// Reads RUN/run.json. NotFound when missing; Corrupt (naming the file and the key) when it is not
// a run record of this version.
Result<RunRecord> ReadRunRecord(const std::filesystem::path& run_dir);
// Writes RUN/run.json atomically (store::WriteFileAtomic).
Status WriteRunRecord(const std::filesystem::path& run_dir, const RunRecord& record);

// The files of a trained or interrupted run present in `run_dir` (last.pt, best.pt,
// metrics.jsonl); empty when there is none (a missing folder, an empty one, or one holding only a
// run.json of a start that never finished a step).
std::vector<std::string> RunFilesIn(const std::filesystem::path& run_dir);

// `run_dir` without a trailing separator, so that "run/" and "run" name the same folder.
std::filesystem::path NormalizeRunDir(const std::filesystem::path& run_dir);

// Renames `run_dir` to the sibling "<run_dir>.old-YYYYmmdd-HHMMSS" (UTC; "-2", "-3"… appended if
// taken) and returns the new path. Never deletes anything.
Result<std::filesystem::path> MoveRunAside(const std::filesystem::path& run_dir);

struct ResumePlan {
  TrainOptions options;            // the run's recipe and architecture, epochs possibly extended
  std::vector<std::string> notes;  // what changed, for the log ("extends the run from 4 to 8…")
};

// The options of `train --resume`: recipe and architecture from `record`; an option in
// `given.given_options` whose value differs from the run's is an InvalidArgument naming the option
// and both values, except `--epochs` larger than the run's, which extends it (a note says how the
// schedule changes at `epochs_done`, the progress of the checkpoint in epochs).
// Run-independent options (threads, device, limits, verification, progress) come from `given`.
Result<ResumePlan> PlanResume(const TrainOptions& given, const RunRecord& record,
                              double epochs_done);

// InvalidArgument listing both lists when the shards' classes are not the run's (a relabel
// changed them): a resumed model's outputs would mean other classes.
Status CheckSameClasses(const std::vector<std::string>& run_classes,
                        const std::vector<std::string>& shard_classes, const std::string& run_where,
                        const std::string& shards_where);

}  // namespace memes::train
