// `memes pack --store DIR`: the store's labelled frames → CIFAR-10-layout shards
// (store/pack.h). Never fetches or decodes.
#include <filesystem>
#include <iostream>
#include <memory>

#include "core/log.h"
#include "core/text.h"
#include "pipelines/command.h"
#include "store/pack.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

namespace {

Result<std::unique_ptr<store::Store>> OpenExisting(const fs::path& dir, store::StoreAccess access) {
  if (!fs::exists(dir / "catalog.sqlite")) {
    return NotFound("no store here (catalog.sqlite missing); `memes crawl` makes one",
                    dir.string());
  }
  store::StoreOptions options;
  options.access = access;
  return store::Store::Open(dir, options);
}

}  // namespace

// Opens an existing store for a command that writes it: takes the store's writer lock (a second
// writer gets an error naming the holder's PID). A missing store is a usage error, not a new one.
Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& dir) {
  return OpenExisting(dir, store::StoreAccess::kWrite);
}

// The same for a command that only reads: no lock, so it works while a crawl writes.
Result<std::unique_ptr<store::Store>> OpenStoreForReading(const fs::path& dir) {
  return OpenExisting(dir, store::StoreAccess::kRead);
}

namespace {

struct PackArgs {
  std::string store_dir;
  std::string out;
  std::string augment = "rot4";
  bool rotate_test = false;
  double test_fraction = 0.2;
  uint64_t seed = 0;
  int64_t max_per_class = 0;
  std::string split_unit = "group";
  std::string split_assign = "balanced";
  bool skip_unreadable = false;
};

int RunPack(const PackArgs& args) {
  auto store = OpenExistingStore(args.store_dir);
  if (!store.ok()) {
    std::cerr << "memes pack: " << store.status().ToString() << "\n";
    return kExitUsage;
  }
  store::PackOptions options;
  options.out = args.out.empty() ? fs::path(args.store_dir) / "shards" : fs::path(args.out);
  options.rot4 = args.augment == "rot4";
  options.rotate_test = args.rotate_test;
  options.test_fraction = args.test_fraction;
  options.seed = args.seed;
  options.max_per_class = args.max_per_class;
  options.split_unit =
      args.split_unit == "image" ? store::SplitUnit::kImage : store::SplitUnit::kGroup;
  options.balance_split = args.split_assign == "balanced";
  options.progress = LogEnabled(LogLevel::kInfo);
  options.replace_despite_failures = args.skip_unreadable;
  auto report = store::Pack(**store, options);
  if (!report.ok()) {
    std::cerr << "memes pack: " << report.status().ToString() << "\n";
    return report.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitItemsFailed;
  }
  std::cout << report->Table();
  for (const std::string& warning : report->warnings) MEMES_LOG(kWarning) << warning;
  for (const std::string& failure : report->failures) MEMES_LOG(kError) << failure;
  if (!report->replaced) {
    const bool had_shards = fs::exists(options.out / "dataset.json");
    std::cout << report->failures.size() << " items unreadable (see above): nothing written, "
              << options.out.string()
              << (had_shards ? " keeps its previous shards" : " was left as it was")
              << ". Fix or drop those items (`memes verify --store`, `memes label drop`), or "
                 "pack without them: --skip-unreadable\n";
    return kExitItemsFailed;
  }
  const double mb = report->bytes_written / 1e6;
  std::cout << "wrote " << options.out.string() << ": " << report->train_records << " train + "
            << CountOf(report->test_records, "test record", "test records") << ", "
            << FormatFixed(mb, 2) << " MB in " << FormatFixed(report->seconds, 2) << " s ("
            << FormatFixed(report->seconds > 0 ? mb / report->seconds : 0, 1) << " MB/s)\n";
  if (!report->failures.empty()) {
    std::cout << CountOf(static_cast<int64_t>(report->failures.size()), "item", "items")
              << " skipped (frames unreadable; see above)\n";
    return kExitItemsFailed;
  }
  return kExitOk;
}

}  // namespace

void AddPackCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "pack", "Pack a store into CIFAR-10 binary shards (no fetching, no decoding)");
  auto args = std::make_shared<PackArgs>();
  command->add_option("--store", args->store_dir, "The store folder")->required();
  command->add_option("-o,--out", args->out, "Shards folder (default: STORE/shards)");
  command->add_option("--augment", args->augment, "rot4: 4 quarter turns of training records")
      ->check(CLI::IsMember({"rot4", "none"}))
      ->capture_default_str();
  command->add_flag("--rotate-test", args->rotate_test,
                    "Rotate the test split too (for measuring rotation robustness)");
  command
      ->add_option("--test-fraction", args->test_fraction,
                   "Share of near-duplicate groups in the test split")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command->add_option("--seed", args->seed, "Seed of the split and record order")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command
      ->add_option("--max-per-class", args->max_per_class,
                   "At most this many items per class (0: all)")
      ->check(CLI::NonNegativeNumber);
  command
      ->add_option("--split-unit", args->split_unit,
                   "What the split puts on one side: group (near-duplicate group, leak-free) or "
                   "image (each item alone; near-duplicates leak across, only to measure that)")
      ->check(CLI::IsMember({"group", "image"}))
      ->capture_default_str();
  command
      ->add_option("--split-assign", args->split_assign,
                   "How units get their side: balanced (every class near --test-fraction) or "
                   "hash (by the unit's hash alone: never moves when items are added)")
      ->check(CLI::IsMember({"balanced", "hash"}))
      ->capture_default_str();
  command->add_flag("--skip-unreadable", args->skip_unreadable,
                    "Replace the shards even when some items' frames cannot be read (they are "
                    "left out; exit status 1)");
  command->footer(
      "Output: data_batch_N.bin (<= 10000 records), test_batch.bin, batches.meta.txt,\n"
      "dataset.json, index.tsv (layout: store/FORMAT.md). The folder is replaced whole, so it\n"
      "must be new, empty or a previous shard set (anything else is refused, exit 2); a pack\n"
      "that fails or cannot read some items leaves the previous shards in place.");
  registry.Add(command, [args] { return RunPack(*args); });
}

}  // namespace memes::pipelines
