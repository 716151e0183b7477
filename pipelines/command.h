// How a `memes` subcommand plugs into the CLI: it declares its options on a CLI11 sub-app and
// registers the action that runs after parsing succeeded.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

#include <CLI/CLI.hpp>

#include "core/status.h"

namespace memes::pipelines {

// Exit statuses of every subcommand.
inline constexpr int kExitOk = 0;           // the job ran and every item succeeded
inline constexpr int kExitItemsFailed = 1;  // the job ran; some items failed (summary printed)
inline constexpr int kExitUsage = 2;        // usage or configuration error; nothing ran

using CommandAction = std::function<int()>;

class CommandRegistry {
 public:
  // `needs_model`: the action calls train/ (LibTorch) through Train() (pipelines/cli.h), so in
  // `memes` the command runs in memes-train instead.
  void Add(CLI::App* command, CommandAction action, bool needs_model = false);
  bool NeedsModel(CLI::App* command) const { return needs_model_.count(command) > 0; }
  // Runs the action of the parsed subcommand. Requires: exactly one subcommand was parsed.
  int Run(CLI::App* command) const;

 private:
  std::map<CLI::App*, CommandAction> actions_;
  std::set<CLI::App*> needs_model_;
};

// A parse-time check that a numeric option is a finite number in [low, high] (or (low, high] when
// `low_open`). CLI::Range lets NaN and inf through; a bad value is a usage error naming the option.
CLI::Validator FiniteRange(double low, double high, bool low_open = false);
// The same for whole numbers: an int64 in [low, high].
CLI::Validator IntegerRange(int64_t low, int64_t high);

// The long names ("--epochs") of the options of `command` given on the command line.
std::set<std::string> GivenOptions(const CLI::App& command);

// The exit status for a train/eval/predict result, after printing a failure as
// "memes COMMAND: where: message": 2 for usage/configuration errors and internal errors, 130 after
// Ctrl-C, 1 for everything else that failed.
int ExitCodeFor(const Status& status, const char* command);

// Each Add*Command declares a subcommand on `app` and registers its action. They live in
// pipelines/cmd_<name>.cpp, one file per subcommand.
void AddPendingCommand(CLI::App& app, CommandRegistry& registry, const char* name,
                       const char* description, const char* built_by);
void AddDemoCommand(CLI::App& app, CommandRegistry& registry);
void AddTrainCommand(CLI::App& app, CommandRegistry& registry);
void AddEvalCommand(CLI::App& app, CommandRegistry& registry);
void AddPredictCommand(CLI::App& app, CommandRegistry& registry);
void AddInspectCommand(CLI::App& app, CommandRegistry& registry);
void AddPackCommand(CLI::App& app, CommandRegistry& registry);
void AddLabelCommand(CLI::App& app, CommandRegistry& registry);
void AddPreviewCommand(CLI::App& app, CommandRegistry& registry);
void AddVerifyCommand(CLI::App& app, CommandRegistry& registry);
void AddErrorsCommand(CLI::App& app, CommandRegistry& registry);
void AddDedupeCommand(CLI::App& app, CommandRegistry& registry);
void AddServeCommand(CLI::App& app, CommandRegistry& registry);
// `memes store`: created on first use, so each `store` subcommand can add itself from its own
// file (cmd_store.cpp).
CLI::App* StoreCommandGroup(CLI::App& app, CommandRegistry& registry);
void AddStoreMergeCommand(CLI::App& app, CommandRegistry& registry);
void AddStoreCompactCommand(CLI::App& app, CommandRegistry& registry);  // cmd_store_compact.cpp
void AddReviewCommand(CLI::App& app, CommandRegistry& registry);

}  // namespace memes::pipelines
