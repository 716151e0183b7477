#include "store/merge.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "store/file_util.h"

namespace memes::store {
namespace fs = std::filesystem;

namespace {

// Where one source row (or sourceless item) of an input goes in the merged order. Tier 0: a
// URL-list or folder entry of a partition, by its place in the lists; tier 1: a search result
// of a partition, by its keyword's place in the pipeline file, then the partition's commit
// order; tier 2: anything else, by input then commit order; tier 3: items without a source.
// One crawl of the whole plan commits in this order (URL lists and folders first, then the
// search pages keyword by keyword), so merging in it reproduces that crawl's outcome.
struct Entry {
  int tier = 2;
  int64_t major = 0;
  int64_t input = 0;
  int64_t minor = 0;  // source row id (or item position) within the input
  std::string blob;
  bool has_source = false;
  auto Key() const { return std::tie(tier, major, input, minor); }
};

// What a partition recorded about its place in the whole crawl (crawl_work.h).
struct PartitionOrder {
  std::string name;  // "K/N"
  std::string plan;
  std::map<std::pair<std::string, std::string>, int64_t> keyword_ordinal;  // (source, keyword)
  std::unordered_map<std::string, int64_t> entry_rank;                     // url -> rank
};

Result<std::optional<PartitionOrder>> ReadPartitionOrder(Catalog& catalog, const fs::path& dir) {
  MEMES_ASSIGN_OR_RETURN(const std::optional<std::string> text, catalog.GetMeta("partition"));
  if (!text) return std::optional<PartitionOrder>();
  const auto json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const auto bad = [&] {
    return Corrupt(
        "the catalog's meta 'partition' record is not what `memes crawl --partition` "
        "writes",
        (dir / "catalog.sqlite").string());
  };
  if (!json.is_object() || !json.contains("partition") || !json["partition"].is_string() ||
      !json.contains("search") || !json["search"].is_array() || !json.contains("direct") ||
      !json["direct"].is_array()) {
    return bad();
  }
  PartitionOrder order;
  order.name = json["partition"].get<std::string>();
  order.plan = json.value("plan", std::string());
  for (const auto& unit : json["search"]) {
    if (!unit.is_array() || unit.size() != 3 || !unit[0].is_number_unsigned() ||
        !unit[1].is_string() || !unit[2].is_string()) {
      return bad();
    }
    const auto key = std::make_pair(unit[1].get<std::string>(), unit[2].get<std::string>());
    const int64_t ordinal = unit[0].get<int64_t>();
    auto [it, added] = order.keyword_ordinal.emplace(key, ordinal);
    if (!added) it->second = std::min(it->second, ordinal);
  }
  for (const auto& entry : json["direct"]) {
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_number_unsigned() ||
        !entry[1].is_string()) {
      return bad();
    }
    order.entry_rank.emplace(entry[1].get<std::string>(), entry[0].get<int64_t>());
  }
  return std::optional<PartitionOrder>(std::move(order));
}

// Puts the blob `hash` of `from` into `into`: a hard link when both are on one file system
// (blobs never change once written), else a copy through PutBlob, checked against its name.
Status TransferBlob(const Store& from, Store& into, const std::string& hash, MergeReport& report) {
  if (into.HasBlob(hash)) return Status::Ok();
  const fs::path source = from.BlobPath(hash);
  const fs::path target = into.BlobPath(hash);
  std::error_code error;
  fs::create_directories(target.parent_path(), error);
  if (error) return IoError("cannot create folder: " + error.message(), target.parent_path());
  const fs::path temp = TempSibling(target);
  fs::create_hard_link(source, temp, error);
  if (!error) {
    fs::rename(temp, target, error);
    if (error) {
      fs::remove(temp, error);
      return IoError("cannot rename into place: " + error.message(), target.string());
    }
    MEMES_RETURN_IF_ERROR(FsyncDirectory(target.parent_path()));  // no-op here: see syncfs
    ++report.blobs_linked;
    return Status::Ok();
  }
  MEMES_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, from.ReadBlob(hash));
  MEMES_ASSIGN_OR_RETURN(const std::string written, into.PutBlob(bytes));
  if (written != hash) {
    return Corrupt("blob content hashes to " + written + ", not to its name", source.string());
  }
  ++report.blobs_copied;
  return Status::Ok();
}

// Appends the frames of `rows`, read from `from`'s frames, as one record to `into`'s open
// segment; returns where (nullopt: the item has no frames). Not durable until SyncFrames().
Result<std::optional<FramesLocation>> TransferFrames(const Store& from, Store& into,
                                                     const ItemRows& rows) {
  if (rows.frames.empty()) return std::optional<FramesLocation>();
  MEMES_ASSIGN_OR_RETURN(const ItemFrames frames, from.ReadFrames(rows.item.blob));
  if (frames.count != static_cast<int>(rows.frames.size()) ||
      frames.image_size != into.image_settings().size) {
    return Corrupt("frames file holds " + std::to_string(frames.count) + " frames of size " +
                       std::to_string(frames.image_size) + ", the catalog " +
                       std::to_string(rows.frames.size()),
                   (from.dir() / "frames").string() + " (item " + rows.item.blob + ")");
  }
  std::vector<FrameData> data;
  for (int k = 0; k < frames.count; ++k) data.push_back({rows.frames[k], frames.Frame(k), {}});
  MEMES_ASSIGN_OR_RETURN(const FramesLocation location, into.AppendFrames(rows.item.blob, data));
  return std::optional<FramesLocation>(location);
}

// "plan P: merged 1/3 2/3, missing 3/3" for each plan among the inputs.
std::string Coverage(const std::vector<std::string>& names, const std::vector<std::string>& plans) {
  std::map<std::string, std::pair<int, std::set<int>>> per_plan;  // plan -> (N, Ks)
  for (size_t i = 0; i < names.size(); ++i) {
    const size_t slash = names[i].find('/');
    const int k = std::atoi(names[i].c_str());
    const int n = std::atoi(names[i].c_str() + slash + 1);
    auto& [count, seen] = per_plan[plans[i]];
    count = std::max(count, n);
    seen.insert(k);
  }
  std::string text;
  for (const auto& [plan, counted] : per_plan) {
    const auto& [count, seen] = counted;
    std::string missing;
    for (int k = 1; k <= count; ++k) {
      if (seen.count(k)) continue;
      missing += ' ';
      missing += std::to_string(k);
      missing += '/';
      missing += std::to_string(count);
    }
    if (!text.empty()) text += "; ";
    text += "plan " + plan + ": " + std::to_string(seen.size()) + " of " + std::to_string(count) +
            " partitions" + (missing.empty() ? " (complete)" : ", missing" + missing);
  }
  return text;
}

}  // namespace

Result<MergeReport> MergeStores(const std::vector<fs::path>& inputs, const fs::path& into,
                                const MergeOptions& options) {
  if (inputs.empty()) return InvalidArgument("give at least one store to merge");
  MergeReport report;
  report.inputs = static_cast<int64_t>(inputs.size());
  std::vector<std::unique_ptr<Store>> stores;
  std::error_code error;
  const fs::path into_canonical = fs::weakly_canonical(into, error);
  for (const fs::path& dir : inputs) {
    if (!fs::exists(dir / "catalog.sqlite")) {
      return NotFound("no store here (catalog.sqlite missing)", dir.string());
    }
    if (fs::weakly_canonical(dir, error) == into_canonical) {
      return InvalidArgument("a store cannot be merged into itself", dir.string());
    }
    StoreOptions read;
    read.access = StoreAccess::kRead;
    MEMES_ASSIGN_OR_RETURN(auto store, Store::Open(dir, read));
    stores.push_back(std::move(store));
  }
  StoreOptions write;
  write.image_settings = stores.front()->image_settings();
  write.catalog.rule.distance = options.near_duplicate_distance;
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<Store> merged, Store::Open(into, write));
  for (size_t i = 0; i < stores.size(); ++i) {
    if (!(stores[i]->image_settings() == merged->image_settings())) {
      return InvalidArgument("its frames were made with other image settings (" +
                                 DescribeImageSettings(stores[i]->image_settings()) + ") than " +
                                 into.string() + "'s",
                             inputs[i].string());
    }
  }

  // Labels by name, in the order they first appear in the inputs' label lists, A's then B's…:
  // every partition lists the pipeline file's classes in file order, so ids (and pack's label
  // bytes) come out as one crawl's. Retired labels stay out (an item keeps its label anyway).
  for (const auto& store : stores) {
    MEMES_ASSIGN_OR_RETURN(const std::vector<LabelInfo> labels, store->catalog().Labels());
    std::vector<std::string> names;
    for (const LabelInfo& label : labels) {
      if (!label.retired) names.push_back(label.name);
    }
    MEMES_RETURN_IF_ERROR(merged->catalog().EnsureLabels(names));
  }

  // The merged order (see Entry). Memory: one Entry per source row of every input.
  std::vector<Entry> entries;
  std::vector<std::string> plans;
  for (size_t i = 0; i < stores.size(); ++i) {
    Catalog& catalog = stores[i]->catalog();
    MEMES_ASSIGN_OR_RETURN(const std::optional<PartitionOrder> order,
                           ReadPartitionOrder(catalog, inputs[i]));
    if (order) {
      report.partitions.push_back(order->name + " plan " + order->plan);
      plans.push_back(order->plan);
    }
    MEMES_RETURN_IF_ERROR(catalog.ForEachSource(
        [&](int64_t id, const std::string& blob, const SourceRecord& source) -> Status {
          Entry entry;
          entry.input = static_cast<int64_t>(i);
          entry.minor = id;
          entry.blob = blob;
          entry.has_source = true;
          entry.major = static_cast<int64_t>(i);
          if (order) {
            // A URL-list or folder entry has no page; a search result has its search page.
            if (source.page_url.empty()) {
              if (auto it = order->entry_rank.find(source.url); it != order->entry_rank.end()) {
                entry.tier = 0;
                entry.major = it->second;
              }
            } else if (auto it = order->keyword_ordinal.find({source.source_name, source.keyword});
                       it != order->keyword_ordinal.end()) {
              entry.tier = 1;
              entry.major = it->second;
            }
          }
          entries.push_back(std::move(entry));
          return Status::Ok();
        }));
    MEMES_ASSIGN_OR_RETURN(const std::vector<std::string> sourceless,
                           catalog.ItemsWithoutSources());
    for (size_t k = 0; k < sourceless.size(); ++k) {
      entries.push_back({3, static_cast<int64_t>(i), static_cast<int64_t>(i),
                         static_cast<int64_t>(k), sourceless[k], false});
    }
  }
  if (!plans.empty()) {
    std::vector<std::string> names;
    for (const std::string& line : report.partitions)
      names.push_back(line.substr(0, line.find(' ')));
    report.coverage = Coverage(names, plans);
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.Key() < b.Key(); });
  report.sources_seen = static_cast<int64_t>(
      std::count_if(entries.begin(), entries.end(), [](const Entry& e) { return e.has_source; }));

  // Batches of catalog rows, each one transaction; the files they name are written first and
  // made durable together by one syncfs(2) just before the batch commits, instead of two or
  // three fsyncs per item (a merge copies nothing but files and rows; per-file fsyncs made it
  // ~40 items/s on a loaded VM disk). Rename atomicity, hence kill safety, does not depend on
  // the fsyncs; power-cut durability comes from the syncfs before COMMIT.
  Catalog& catalog = merged->catalog();
  struct DurableWritesOff {
    bool was = DurableWrites();
    DurableWritesOff() { SetDurableWrites(false); }
    ~DurableWritesOff() { SetDurableWrites(was); }
  } durable_writes_off;
  const bool durable = durable_writes_off.was;
  UniqueFd into_fd(::open(into.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!into_fd.valid()) return IoError("cannot open folder: " + ErrnoText(), into.string());
  std::unordered_set<std::string> failed;  // (input, blob) that could not be read this run
  const size_t batch = static_cast<size_t>(std::max(1, options.batch_items));
  for (size_t start = 0; start < entries.size(); start += batch) {
    const size_t end = std::min(entries.size(), start + batch);
    MEMES_RETURN_IF_ERROR(catalog.InTransaction([&]() -> Status {
      for (size_t e = start; e < end; ++e) {
        const Entry& entry = entries[e];
        Store& from = *stores[entry.input];
        const std::string failed_key = std::to_string(entry.input) + ":" + entry.blob;
        if (failed.count(failed_key)) continue;
        MEMES_ASSIGN_OR_RETURN(const bool present, catalog.HasItem(entry.blob));
        if (!present) {
          MEMES_ASSIGN_OR_RETURN(const ItemRows rows, from.catalog().ReadItemRows(entry.blob));
          Status files = TransferBlob(from, *merged, entry.blob, report);
          std::optional<FramesLocation> frames_at;
          if (files.ok()) {
            auto transferred = TransferFrames(from, *merged, rows);
            if (transferred.ok()) {
              frames_at = *transferred;
            } else {
              files = transferred.status();
            }
          }
          if (!files.ok()) {
            // This input cannot give the item; a later input that holds it may.
            failed.insert(failed_key);
            ++report.items_failed;
            report.faults.push_back(inputs[entry.input].string() + ": item " + entry.blob + ": " +
                                    files.ToString());
            continue;
          }
          MEMES_RETURN_IF_ERROR(catalog.InsertItemRows(rows));
          if (frames_at) MEMES_RETURN_IF_ERROR(catalog.SetFramesLocation(entry.blob, *frames_at));
          ++report.items_added;
          if (options.after_item) options.after_item(report.items_added);
        } else if (entry.has_source) {
          ++report.items_present;
          MEMES_ASSIGN_OR_RETURN(const ItemRows theirs, from.catalog().ReadItemRows(entry.blob));
          MEMES_ASSIGN_OR_RETURN(const ItemRows ours, catalog.ReadItemRows(entry.blob));
          if (theirs.label != ours.label) ++report.label_conflicts;
        }
        if (entry.has_source) {
          MEMES_ASSIGN_OR_RETURN(const auto row, from.catalog().SourceById(entry.minor));
          MEMES_RETURN_IF_ERROR(catalog.InsertSource(row.first, row.second));
        }
      }
      // Invariant: the files this batch's rows name are durable before the rows commit (the
      // frames segment's own sync, then syncfs for the blobs).
      MEMES_RETURN_IF_ERROR(merged->SyncFrames());
      if (durable && ::syncfs(into_fd.get()) != 0) {
        return IoError("syncfs failed: " + ErrnoText(), into.string());
      }
      return Status::Ok();
    }));
  }
  for (const auto& store : stores) {
    MEMES_ASSIGN_OR_RETURN(const int64_t added, catalog.CopyFailuresAndPages(store->catalog()));
    report.failures_and_pages += added;
  }

  HashesOf hashes_of = [&](const GroupingItem& item) -> Result<ItemHashes> {
    if (options.hashes_of) return options.hashes_of(*merged, item);
    return ItemHashes{};
  };
  MEMES_ASSIGN_OR_RETURN(report.regroup,
                         RegroupStore(catalog, options.near_duplicate_distance, hashes_of));
  return report;
}

}  // namespace memes::store
