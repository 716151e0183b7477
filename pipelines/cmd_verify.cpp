// `memes verify [SHARDS_DIR] [--store DIR]`: checks packed shards against dataset.json and
// index.tsv (store/shard_reader.h), naming the file and record of every fault; with --store,
// also checks the store (catalog integrity, every packable item's blob and frames file).
// Exit 1 on any fault.
#include <iostream>
#include <memory>

#include "core/text.h"
#include "pipelines/command.h"
#include "store/shard_reader.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenStoreForReading(const fs::path& dir);  // cmd_pack.cpp

namespace {

struct VerifyArgs {
  std::string shards;
  std::string store_dir;
  size_t max_faults = 50;
};

int VerifyStore(const std::string& dir) {
  auto store = OpenStoreForReading(dir);
  if (!store.ok()) {
    std::cout << "FAULT " << store.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  auto check = (*store)->Check();
  if (!check.ok()) {
    std::cout << "FAULT " << check.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  for (const std::string& fault : check->faults) std::cout << "FAULT " << fault << "\n";
  std::cout << (check->faults.empty() ? "ok: " : "faults in ") << dir << ": "
            << CountOf(check->items, "item", "items");
  if (check->temp_files > 0) {
    std::cout << ", " << check->temp_files << " temporary files of interrupted writers (harmless)";
  }
  std::cout << "\n";
  return check->faults.empty() ? kExitOk : kExitItemsFailed;
}

int VerifyShardsDir(const std::string& dir, size_t max_faults) {
  if (!fs::is_directory(dir)) {
    std::cout << "FAULT " << dir << ": not a folder\n";
    return kExitItemsFailed;
  }
  const store::VerifyReport report = store::VerifyShards(dir, max_faults);
  for (const store::VerifyFault& fault : report.faults) {
    std::cout << "FAULT " << dir << "/" << fault.ToString() << "\n";
  }
  if (!report.ok()) {
    std::cout << CountOf(static_cast<int64_t>(report.faults.size()), "fault", "faults") << " in "
              << dir << "\n";
    return kExitItemsFailed;
  }
  std::cout << "ok: " << dir << ": " << CountOf(report.files_checked, "file", "files") << ", "
            << CountOf(static_cast<int64_t>(report.records_checked), "record", "records") << "\n";
  return kExitOk;
}

}  // namespace

void AddVerifyCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("verify", "Check packed shards against dataset.json");
  auto args = std::make_shared<VerifyArgs>();
  command->add_option("shards", args->shards, "The shards folder (holds dataset.json)");
  command->add_option("--store", args->store_dir,
                      "Also check a store: catalog integrity, blobs and frames files");
  command->add_option("--max-faults", args->max_faults, "Stop listing after this many faults")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  registry.Add(command, [args] {
    if (args->shards.empty() && args->store_dir.empty()) {
      std::cerr << "memes verify: give a shards folder, --store DIR, or both\n";
      return kExitUsage;
    }
    int status = kExitOk;
    if (!args->store_dir.empty()) status = std::max(status, VerifyStore(args->store_dir));
    if (!args->shards.empty()) {
      status = std::max(status, VerifyShardsDir(args->shards, args->max_faults));
    }
    return status;
  });
}

}  // namespace memes::pipelines
