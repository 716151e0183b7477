#include "pipelines/cli.h"

#include <cassert>
#include <cstdio>
#include <iostream>

#include <oneapi/tbb/version.h>

#include "core/log.h"
#include "core/version.h"
#include "ingest/library_versions.h"
#include "pipelines/command.h"
#include "pipelines/crawl.h"
#include "store/library_versions.h"
#include "train/library_versions.h"
#include "transform/library_versions.h"

namespace memes::pipelines {

int CommandRegistry::Run(CLI::App* command) const {
  auto it = actions_.find(command);
  assert(it != actions_.end() && "subcommand without an action");
  return it->second();
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
  for (auto&& list : {train::LibraryVersions(), transform::LibraryVersions(),
                      ingest::LibraryVersions(), store::LibraryVersions()}) {
    all.insert(all.end(), list.begin(), list.end());
  }
  all.push_back({"oneTBB", TBB_runtime_version()});
  for (const auto& [name, version] : all) {
    std::cout << "  " << name << " " << version << "\n";
  }
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"memes: keyword lists → leak-free 32×32 CIFAR-style sticker datasets → "
               "SE-ResNeXt models",
               "memes"};
  app.require_subcommand(0, 1);
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
  AddDedupeCommand(app, registry);
  AddTrainCommand(app, registry);
  AddEvalCommand(app, registry);
  AddPredictCommand(app, registry);
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
    PrintVersion();
    return kExitOk;
  }
  const auto parsed = app.get_subcommands();
  if (parsed.empty()) {
    std::cout << app.help();
    return kExitUsage;
  }
  return registry.Run(parsed.front());
}

}  // namespace memes::pipelines
