// `memes store compact --store DIR`: rewrites the store's frames segments without the records
// nothing names any more (commit batches that failed, frame caches dropped by a settings
// change) and moves frames files of the old per-item layout into segments
// (Store::CompactFrames). Takes the store's writer lock; a kill leaves the old or the new
// segments named, never neither.
#include <cstdio>
#include <iostream>
#include <memory>

#include "pipelines/command.h"
#include "store/store.h"

namespace memes::pipelines {

namespace {

struct CompactArgs {
  std::string store_dir;
};

std::string Megabytes(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

int Compact(const CompactArgs& args) {
  auto store = store::Store::Open(args.store_dir);  // kWrite: takes the writer lock
  if (!store.ok()) {
    std::cerr << "memes store compact: " << store.status().ToString() << "\n";
    return kExitUsage;
  }
  auto report = (*store)->CompactFrames();
  if (!report.ok()) {
    std::cerr << "memes store compact: " << report.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  std::cout << "compacted " << args.store_dir << "/frames: " << report->records
            << " items' frames, " << Megabytes(report->bytes_before) << " -> "
            << Megabytes(report->bytes_after);
  if (report->legacy_files > 0) {
    std::cout << " (" << report->legacy_files << " old per-item frames files moved in)";
  }
  std::cout << "\n";
  return kExitOk;
}

}  // namespace

void AddStoreCompactCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* compact =
      StoreCommandGroup(app, registry)
          ->add_subcommand("compact",
                           "Rewrite the frames segments without records nothing uses any more");
  auto args = std::make_shared<CompactArgs>();
  compact->add_option("--store", args->store_dir, "The store folder")->required();
  registry.Add(compact, [args] { return Compact(*args); });
}

}  // namespace memes::pipelines
