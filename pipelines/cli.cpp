#include "pipelines/cli.h"

#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <oneapi/tbb/version.h>

#include "core/log.h"
#include "core/version.h"
#include "ingest/library_versions.h"
#include "pipelines/command.h"
#include "pipelines/crawl.h"
#include "store/library_versions.h"
#include "transform/library_versions.h"

namespace memes::pipelines {

namespace {
// Set once by memes-train's main() before RunCli; never in `memes`.
bool g_train_installed = false;
TrainEntryPoints g_train;
}  // namespace

void InstallTrainEntryPoints(const TrainEntryPoints& entry_points) {
  assert(entry_points.train && entry_points.eval && entry_points.predict && entry_points.versions);
  g_train = entry_points;
  g_train_installed = true;
}

const TrainEntryPoints& Train() {
  assert(g_train_installed && "a command that needs LibTorch ran outside memes-train");
  return g_train;
}

void CommandRegistry::Add(CLI::App* command, CommandAction action, bool needs_model) {
  actions_[command] = std::move(action);
  if (needs_model) needs_model_.insert(command);
}

int CommandRegistry::Run(CLI::App* command) const {
  auto it = actions_.find(command);
  assert(it != actions_.end() && "subcommand without an action");
  return it->second();
}

CLI::Validator FiniteRange(double low, double high, bool low_open) {
  char description[96];
  std::snprintf(description, sizeof description, "NUMBER in %s%g, %g]", low_open ? "(" : "[", low,
                high);
  return CLI::Validator(
      [low, high, low_open](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value) || !std::isfinite(value)) {
          return "'" + text + "' is not a finite number";
        }
        if (value < low || value > high || (low_open && value == low)) {
          char range[96];
          std::snprintf(range, sizeof range, "%s%g, %g]", low_open ? "(" : "[", low, high);
          return text + " is out of range " + range;
        }
        return {};
      },
      description);
}

CLI::Validator IntegerRange(int64_t low, int64_t high) {
  const std::string range =
      "[" + std::to_string(low) + ", " + (high == INT64_MAX ? "..." : std::to_string(high)) + "]";
  return CLI::Validator(
      [low, high, range](std::string& text) -> std::string {
        int64_t value = 0;
        if (!CLI::detail::lexical_cast(text, value)) return "'" + text + "' is not a whole number";
        if (value < low || value > high) return text + " is out of range " + range;
        return {};
      },
      "INT in " + range);
}

std::set<std::string> GivenOptions(const CLI::App& command) {
  std::set<std::string> given;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() > 0) given.insert(option->get_name());
  }
  return given;
}

int ExitCodeFor(const Status& status, const char* command) {
  if (status.ok()) return kExitOk;
  std::cerr << "memes " << command << ": " << status.ToString() << "\n";
  if (status.code() == StatusCode::kCancelled) return 130;
  if (status.code() == StatusCode::kInvalidArgument) return kExitUsage;
  if (status.code() == StatusCode::kInternal) return kExitUsage;
  return kExitItemsFailed;
}


void AddPendingCommand(CLI::App& app, CommandRegistry& registry, const char* name,
                       const char* description, const char* built_by) {
  CLI::App* command = app.add_subcommand(name, description);
  command->allow_extras();
  const std::string message = std::string("memes ") + name + ": not built yet (" + built_by + ")";
  registry.Add(command, [message] {
    std::cerr << message << "\n";
    return kExitUsage;
  });
}

namespace {

void PrintVersion() {
  std::cout << "memes " << kMemesVersion << "\n";
  std::vector<LibraryVersion> all;
  for (auto&& list : {Train().versions(), transform::LibraryVersions(), ingest::LibraryVersions(),
                      store::LibraryVersions()}) {
    all.insert(all.end(), list.begin(), list.end());
  }
  all.push_back({"oneTBB", TBB_runtime_version()});
  for (const auto& [name, version] : all) {
    std::cout << "  " << name << " " << version << "\n";
  }
}

// Replaces this process with memes-train (beside this executable) and the same arguments. Returns
// only when that fails.
int ExecTrainBinary(int argc, char** argv, const std::string& command) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  std::string binary = (error ? fs::path(argv[0]) : self).parent_path() / "memes-train";
  std::vector<char*> args(argv, argv + argc);
  args[0] = binary.data();
  args.push_back(nullptr);
  std::fflush(nullptr);
  ::execv(binary.c_str(), args.data());
  std::cerr << "memes " << command << ": cannot start " << binary << ": " << std::strerror(errno)
            << " (the commands that need LibTorch run in memes-train, built beside memes)\n";
  return kExitUsage;
}

// The message of an exception that escaped a command, without the C++ stack trace LibTorch
// appends to c10::Error::what().
std::string WithoutBacktrace(std::string message) {
  const size_t trace = message.find("\nException raised from");
  if (trace != std::string::npos) message.resize(trace);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "memes: keyword lists → leak-free 32×32 CIFAR-style sticker datasets → "
      "SE-ResNeXt models",
      "memes"};
  app.require_subcommand(0, 1);
  // Subcommands inherit this: -v and -q after a subcommand (`memes crawl x.toml -v`) fall
  // through to the global flags.
  app.fallthrough();
  bool show_version = false;
  bool verbose = false;
  bool quiet = false;
  app.add_flag("--version", show_version, "Print the version and the library versions");
  app.add_flag("-v,--verbose", verbose, "Log debug detail");
  app.add_flag("-q,--quiet", quiet, "Only warnings and errors; no progress bars");
  app.footer(
      "Exit status: 0 success, 1 the job ran but some items failed, 2 usage or configuration "
      "error.\nRun `memes COMMAND --help` for a command's options.");

  CommandRegistry registry;
  AddCrawlCommand(app, registry);
  AddInspectCommand(app, registry);
  AddPackCommand(app, registry);
  AddLabelCommand(app, registry);
  AddPreviewCommand(app, registry);
  AddVerifyCommand(app, registry);
  AddErrorsCommand(app, registry);
  AddDedupeCommand(app, registry);
  AddServeCommand(app, registry);
  AddStoreMergeCommand(app, registry);
  AddStoreCompactCommand(app, registry);
  AddTrainCommand(app, registry);
  AddEvalCommand(app, registry);
  AddPredictCommand(app, registry);
  AddReviewCommand(app, registry);
  AddDemoCommand(app, registry);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& error) {
    // Help of a subcommand arrives as CallForHelp too; anything else is a usage error.
    if (error.get_exit_code() == 0) return app.exit(error);
    std::cerr << "memes: " << error.what() << "\nRun `memes --help` for usage.\n";
    return kExitUsage;
  }

  if (verbose && quiet) {
    std::cerr << "memes: -v and -q cannot be used together\n";
    return kExitUsage;
  }
  if (verbose) SetLogLevel(LogLevel::kDebug);
  if (quiet) SetLogLevel(LogLevel::kWarning);

  if (show_version) {
    if (!g_train_installed) return ExecTrainBinary(argc, argv, "--version");
    PrintVersion();
    return kExitOk;
  }
  const auto parsed = app.get_subcommands();
  if (parsed.empty()) {
    std::cout << app.help();
    return kExitUsage;
  }
  CLI::App* command = parsed.front();
  if (registry.NeedsModel(command) && !g_train_installed) {
    return ExecTrainBinary(argc, argv, command->get_name());
  }
  // The safety net: an exception that escapes a command (a bug, or a library that throws where
  // a Status was expected) is an error message and exit 2, never an abort.
  try {
    return registry.Run(command);
  } catch (const std::exception& error) {
    std::cerr << "memes " << command->get_name() << ": error: " << WithoutBacktrace(error.what())
              << "\n";
  } catch (...) {
    std::cerr << "memes " << command->get_name() << ": error: unknown exception\n";
  }
  return kExitUsage;
}

}  // namespace memes::pipelines
