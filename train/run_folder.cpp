#include "train/run_folder.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <sstream>

#include "store/file_util.h"
#include "train/model_config.h"
#include "train/training_schedule.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

std::string Show(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}
std::string Show(int value) { return std::to_string(value); }
std::string Show(uint64_t value) { return std::to_string(value); }
std::string Show(const std::string& value) { return value; }
std::string Show(const std::vector<int>& values) {
  if (values.empty()) return "(default)";
  std::string out;
  for (int v : values) out += (out.empty() ? "" : ",") + std::to_string(v);
  return out;
}
std::string Show(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return "[" + out + "]";
}

// Takes the run's value unless the option was given again; given with another value, it is an
// error that names the option and both values.
template <typename T>
Status TakeFromRun(const TrainOptions& given, const std::string& option, const T& given_value,
                   const T& run_value, T& out, const std::string& where) {
  if (given.Given(option) && !(given_value == run_value)) {
    return InvalidArgument("--resume: " + option + " " + Show(given_value) +
                               " differs from the run's " + Show(run_value) +
                               " (leave it out to keep the run's, or start a new run with "
                               "another --out or --force)",
                           where);
  }
  out = run_value;
  return Status::Ok();
}

}  // namespace

namespace detail {

namespace {
std::string Kind(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return "a non-negative integer";
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_boolean()) return "true or false";
  if (value.is_array()) return "a list";
  if (value.is_object()) return "an object";
  return "null";
}
std::string Shown(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return text.size() > 40 ? text.substr(0, 37) + "..." : text;
}
bool SameKind(const nlohmann::json& layout, const nlohmann::json& actual) {
  switch (layout.type()) {
    case nlohmann::json::value_t::null:
      return true;  // a free-form member (nlohmann::json): its owner checks it
    case nlohmann::json::value_t::number_unsigned:
      return actual.is_number_unsigned() ||
             (actual.is_number_integer() && actual.get<int64_t>() >= 0);
    case nlohmann::json::value_t::number_integer:
      return actual.is_number_integer();
    case nlohmann::json::value_t::number_float:
      return actual.is_number();
    default:
      return layout.type() == actual.type();
  }
}
}  // namespace

std::string FirstLayoutFault(const nlohmann::json& layout, const nlohmann::json& actual,
                             const std::string& prefix,
                             const std::vector<std::string>& optional_keys) {
  for (const auto& [key, expected] : layout.items()) {
    const std::string field = prefix + key;
    const auto found = actual.find(key);
    if (found == actual.end()) {
      if (std::find(optional_keys.begin(), optional_keys.end(), field) != optional_keys.end()) {
        continue;
      }
      return "field '" + field + "' is missing";
    }
    if (!SameKind(expected, *found)) {
      return "field '" + field + "': expected " + Kind(expected) + ", found " + Shown(*found);
    }
    if (expected.is_object()) {
      std::string inner = FirstLayoutFault(expected, *found, field + ".", optional_keys);
      if (!inner.empty()) return inner;
    }
  }
  return "";
}

namespace {
void CollectLeaves(const nlohmann::json& layout, const nlohmann::json::json_pointer& at,
                   std::vector<nlohmann::json::json_pointer>& leaves) {
  for (const auto& [key, value] : layout.items()) {
    if (value.is_object() && !value.empty()) {
      CollectLeaves(value, at / key, leaves);
    } else {
      leaves.push_back(at / key);
    }
  }
}
}  // namespace

std::vector<nlohmann::json::json_pointer> LayoutLeaves(const nlohmann::json& layout) {
  std::vector<nlohmann::json::json_pointer> leaves;
  CollectLeaves(layout, nlohmann::json::json_pointer(), leaves);
  return leaves;
}

std::string FieldName(const nlohmann::json::json_pointer& pointer) {
  std::string name = pointer.to_string();
  if (!name.empty()) name.erase(0, 1);
  std::replace(name.begin(), name.end(), '/', '.');
  return name;
}

}  // namespace detail

Result<TrainingState> ParseTrainingState(const nlohmann::json& state, const std::string& where) {
  return ReadJsonChecked<TrainingState>(state, where,
                                        {"partial_loss_sum", "partial_correct", "partial_seen",
                                         "partial_seconds", "partial_cpu_seconds", "loss_scale"});
}

Result<RunRecord> ReadRunRecord(const fs::path& run_dir) {
  const fs::path path = run_dir / kRunRecordName;
  auto bytes = store::ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  const auto json =
      nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Corrupt("not valid JSON", path.string());
  auto checked = ReadJsonChecked<RunRecord>(json, path.string());
  if (!checked.ok()) {
    return Corrupt("not a run record of this memes version: " + checked.status().message(),
                   path.string());
  }
  RunRecord record = std::move(*checked);
  if (record.format != "memes-run" || record.format_version != 1) {
    return Unsupported("format " + record.format + " version " +
                           std::to_string(record.format_version) +
                           " (this build reads memes-run 1)",
                       path.string());
  }
  return record;
}

Status WriteRunRecord(const fs::path& run_dir, const RunRecord& record) {
  return store::WriteFileAtomic(run_dir / kRunRecordName, nlohmann::json(record).dump(2) + "\n");
}

std::vector<std::string> RunFilesIn(const fs::path& run_dir) {
  std::vector<std::string> present;
  for (const char* name : {"last.pt", "best.pt", "metrics.jsonl"}) {
    std::error_code error;
    if (fs::exists(run_dir / name, error)) present.push_back(name);
  }
  return present;
}

fs::path NormalizeRunDir(const fs::path& run_dir) {
  fs::path normal = run_dir.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path() && normal != normal.root_path()) {
    normal = normal.parent_path();
  }
  if (normal.empty() || normal == ".") normal = fs::current_path();
  return normal;
}

Result<fs::path> MoveRunAside(const fs::path& run_dir) {
  const fs::path from = NormalizeRunDir(run_dir);
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  const std::string base = from.string() + ".old-" + stamp;
  for (int attempt = 1; attempt < 1000; ++attempt) {
    const fs::path to =
        attempt == 1 ? fs::path(base) : fs::path(base + "-" + std::to_string(attempt));
    std::error_code error;
    if (fs::exists(to, error)) continue;
    fs::rename(from, to, error);
    if (error) {
      return IoError("cannot move the old run aside to " + to.string() + ": " + error.message(),
                     from.string());
    }
    return to;
  }
  return IoError("cannot find a free name to move the old run aside", from.string());
}

Result<ResumePlan> PlanResume(const TrainOptions& given, const RunRecord& record,
                              double epochs_done) {
  const std::string where = (given.run_dir / kRunRecordName).string();
  ResumePlan plan;
  TrainOptions& o = plan.options;
  o = given;
  const RunRecipe& r = record.recipe;
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--batch-size", given.batch_size, r.batch_size, o.batch_size, where));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--lr", given.learning_rate, r.learning_rate, o.learning_rate, where));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--momentum", given.momentum, r.momentum, o.momentum, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--weight-decay", given.weight_decay, r.weight_decay,
                                    o.weight_decay, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--label-smoothing", given.label_smoothing,
                                    r.label_smoothing, o.label_smoothing, where));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--schedule", given.schedule, r.schedule, o.schedule, where));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--warmup", given.warmup_epochs, r.warmup_epochs, o.warmup_epochs, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--milestones", given.step_milestones, r.step_milestones,
                                    o.step_milestones, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--seed", given.seed, r.seed, o.seed, where));
  if (given.Given("--no-augment") && given.augment != r.augment) {
    return InvalidArgument(std::string("--resume: --no-augment differs from the run, which ") +
                               (r.augment ? "augments" : "does not augment") + " its images",
                           where);
  }
  o.augment = r.augment;

  // The architecture: the preset and every override, compared with the run's model.
  MEMES_ASSIGN_OR_RETURN(ModelConfig model, ConfigFromJson(record.model));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--preset", given.preset, record.preset, o.preset, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--blocks", given.blocks_per_stage,
                                    model.blocks_per_stage, o.blocks_per_stage, where));
  MEMES_RETURN_IF_ERROR(
      TakeFromRun(given, "--widths", given.widths, model.widths, o.widths, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--cardinality", given.cardinality, model.cardinality,
                                    o.cardinality, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--group-width", given.group_width, model.group_width,
                                    o.group_width, where));
  MEMES_RETURN_IF_ERROR(TakeFromRun(given, "--stem", given.stem_channels, model.stem_channels,
                                    o.stem_channels, where));

  o.epochs = r.epochs;
  if (given.Given("--epochs") && given.epochs != r.epochs) {
    if (given.epochs < r.epochs) {
      return InvalidArgument("--resume: --epochs " + std::to_string(given.epochs) +
                                 " is fewer than the run's " + std::to_string(r.epochs) +
                                 " (a run can be extended, not shortened: its schedule is "
                                 "planned over all its epochs)",
                             where);
    }
    o.epochs = given.epochs;
    MEMES_ASSIGN_OR_RETURN(Schedule before, Schedule::Make(r.schedule, r.learning_rate, r.epochs,
                                                           r.warmup_epochs, r.step_milestones));
    MEMES_ASSIGN_OR_RETURN(Schedule after, Schedule::Make(r.schedule, r.learning_rate, o.epochs,
                                                          r.warmup_epochs, r.step_milestones));
    const double at = std::min(epochs_done, static_cast<double>(r.epochs) - 1e-9);
    char rates[160];
    std::snprintf(rates, sizeof rates, "the learning rate at epoch %.4g was %.4g and is now %.4g",
                  epochs_done, before.At(std::max(0.0, at)), after.At(epochs_done));
    plan.notes.push_back("extends the run from " + std::to_string(r.epochs) + " to " +
                         std::to_string(o.epochs) + " epochs: the " + r.schedule +
                         " schedule is stretched over " + std::to_string(o.epochs) +
                         " epochs, so " + rates);
  }
  return plan;
}

Status CheckSameClasses(const std::vector<std::string>& run_classes,
                        const std::vector<std::string>& shard_classes, const std::string& run_where,
                        const std::string& shards_where) {
  if (run_classes == shard_classes) return Status::Ok();
  return InvalidArgument("the shards' classes " + Show(shard_classes) + " (" + shards_where +
                             ") are not the run's " + Show(run_classes) + " (" + run_where +
                             "): a relabel changed them; train a new run (another --out, or "
                             "--force to move this one aside)",
                         run_where);
}

}  // namespace memes::train
