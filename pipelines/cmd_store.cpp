// `memes store …`: commands on whole stores. The group is created once (StoreCommandGroup), and
// each subcommand (`merge` here) registers itself under it, so other `store` subcommands can
// live in files of their own.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "core/log.h"
#include "pipelines/command.h"
#include "store/merge.h"
#include "transform/signature.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

CLI::App* StoreCommandGroup(CLI::App& app, CommandRegistry& registry) {
  const auto existing =
      app.get_subcommands([](CLI::App* command) { return command->get_name() == "store"; });
  if (!existing.empty()) return existing.front();
  CLI::App* group = app.add_subcommand("store", "Commands on whole stores (merge, compact)");
  group->require_subcommand(1);
  // The registry runs the top-level command; it hands over to the parsed subcommand's action,
  // registered with the same registry.
  registry.Add(group, [group, &registry] {
    const auto parsed = group->get_subcommands();
    if (parsed.empty()) return kExitUsage;
    return registry.Run(parsed.front());
  });
  return group;
}

// Each kept frame's signature and thumbnail in eight orientations (cmd_dedupe.cpp).
store::ItemHashes FrameSignatures(const store::ItemFrames& frames,
                                  std::span<const uint8_t, 3> background);

namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string into;
  int threshold = store::kDefaultNearDuplicateDistance;
  int batch_items = 256;
  int64_t test_kill_after = 0;  // test hook: exit as a kill would after this many items
};

int RunMerge(const MergeArgs& args) {
  store::MergeOptions options;
  options.near_duplicate_distance = args.threshold;
  options.batch_items = args.batch_items;
  // Regrouping probes with each kept frame in all eight orientations, recomputed from the
  // merged store's frames, as the crawl and `memes dedupe` do.
  options.hashes_of = [](store::Store& into,
                         const store::GroupingItem& item) -> Result<store::ItemHashes> {
    auto frames = into.ReadFrames(item.blob);
    if (!frames.ok() || frames->count != static_cast<int>(item.phashes.size()))
      return store::ItemHashes{};
    return FrameSignatures(*frames, into.image_settings().background);
  };
  if (args.test_kill_after > 0) {
    const int64_t limit = args.test_kill_after;
    options.after_item = [limit](int64_t items) {
      // As abrupt as SIGKILL: no destructor runs, the open transaction is never committed.
      if (items >= limit) ::_exit(137);
    };
  }
  std::vector<fs::path> inputs(args.inputs.begin(), args.inputs.end());
  auto report = store::MergeStores(inputs, args.into, options);
  if (!report.ok()) {
    std::cerr << "memes store merge: " << report.status().ToString() << "\n";
    return kExitUsage;
  }
  for (const std::string& partition : report->partitions) {
    MEMES_LOG(kDebug) << "input partition " << partition;
  }
  std::cout << "merged " << report->inputs << " stores into " << args.into << ": "
            << report->items_added << " items added, " << report->items_present
            << " sources of items already there; blobs " << report->blobs_linked << " linked, "
            << report->blobs_copied << " copied; " << report->failures_and_pages
            << " error and page rows added\n";
  if (!report->coverage.empty()) std::cout << "partitions: " << report->coverage << "\n";
  if (report->label_conflicts > 0) {
    std::cout << report->label_conflicts
              << " sources carried another label than the item's in the merged store (the "
                 "earliest in crawl order was kept)\n";
  }
  std::cout << "regrouped " << report->regroup.items << " items: " << report->regroup.groups_after
            << " near-duplicate groups (largest " << report->regroup.largest_after << "), "
            << report->regroup.changed << " items changed group\n";
  for (const std::string& fault : report->faults) std::cout << "  failed: " << fault << "\n";
  return report->items_failed > 0 ? kExitItemsFailed : kExitOk;
}

}  // namespace

void AddStoreMergeCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* merge =
      StoreCommandGroup(app, registry)
          ->add_subcommand(
              "merge",
              "Merge stores (e.g. the partitions of `memes crawl --partition K/N`) into one: blobs "
              "linked or copied once, catalogs joined, near-duplicate groups recomputed");
  auto args = std::make_shared<MergeArgs>();
  merge->add_option("stores", args->inputs, "The stores to merge (read only)")->required();
  merge->add_option("--into", args->into, "The merged store (created when missing)")->required();
  merge
      ->add_option("--threshold", args->threshold,
                   "Near-duplicate threshold in bits for the regrouping (as `memes dedupe`)")
      ->check(CLI::Range(0, store::kMaxNearDuplicateDistance))
      ->capture_default_str();
  // Hidden: tuning and the test hook of tests/partition_merge_e2e_test.cpp.
  merge->add_option("--batch-items", args->batch_items)->check(CLI::Range(1, 1 << 20))->group("");
  merge->add_option("--test-kill-after", args->test_kill_after)->group("");
  registry.Add(merge, [args] { return RunMerge(*args); });
}

}  // namespace memes::pipelines
