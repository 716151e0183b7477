// How a `memes` subcommand plugs into the CLI: it declares its options on a CLI11 sub-app and
// registers the action that runs after parsing succeeded.
#pragma once

#include <functional>
#include <map>

#include <CLI/CLI.hpp>

namespace memes::pipelines {

// Exit statuses of every subcommand.
inline constexpr int kExitOk = 0;           // the job ran and every item succeeded
inline constexpr int kExitItemsFailed = 1;  // the job ran; some items failed (summary printed)
inline constexpr int kExitUsage = 2;        // usage or configuration error; nothing ran

using CommandAction = std::function<int()>;

class CommandRegistry {
 public:
  void Add(CLI::App* command, CommandAction action) { actions_[command] = std::move(action); }
  // Runs the action of the parsed subcommand. Requires: exactly one subcommand was parsed.
  int Run(CLI::App* command) const;

 private:
  std::map<CLI::App*, CommandAction> actions_;
};

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
void AddDedupeCommand(CLI::App& app, CommandRegistry& registry);

}  // namespace memes::pipelines
