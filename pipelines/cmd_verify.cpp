// `memes verify SHARDS_DIR`: checks packed shards against dataset.json and index.tsv
// (store/shard_reader.h); names the file and record of every fault; exit 1 on any.
#include <iostream>
#include <memory>

#include "pipelines/command.h"
#include "store/shard_reader.h"

namespace memes::pipelines {

void AddVerifyCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("verify", "Check packed shards against dataset.json");
  auto dir = std::make_shared<std::string>();
  auto max_faults = std::make_shared<size_t>(50);
  command->add_option("shards", *dir, "The shards folder (holds dataset.json)")->required();
  command->add_option("--max-faults", *max_faults, "Stop listing after this many faults")
      ->capture_default_str();
  registry.Add(command, [dir, max_faults] {
    if (!std::filesystem::is_directory(*dir)) {
      std::cerr << "memes verify: " << *dir << ": not a folder\n";
      return kExitUsage;
    }
    const store::VerifyReport report = store::VerifyShards(*dir, *max_faults);
    for (const store::VerifyFault& fault : report.faults) {
      std::cout << "FAULT " << *dir << "/" << fault.ToString() << "\n";
    }
    if (!report.ok()) {
      std::cout << report.faults.size() << " fault(s) in " << *dir << "\n";
      return kExitItemsFailed;
    }
    std::cout << "ok: " << *dir << ": " << report.files_checked << " files, "
              << report.records_checked << " records\n";
    return kExitOk;
  });
}

}  // namespace memes::pipelines
