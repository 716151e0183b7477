// `memes dedupe`: regroup an existing store's near-duplicates with new settings (founder-only
// joining, all eight orientations; store/regroup.h), or report on the groups as they are
// (`--report`: counts, size histogram, exact duplicates, a mosaic of the largest groups).
// Reads the catalog and frames/ only: never fetches, never decodes a blob.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/log.h"
#include "pipelines/command.h"
#include "store/regroup.h"
#include "store/store.h"
#include "transform/phash.h"
#include "transform/signature.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& dir);  // cmd_pack.cpp

namespace {

struct DedupeArgs {
  std::string store_dir;
  int threshold = store::kDefaultNearDuplicateDistance;
  bool dry_run = false;
  bool report = false;
  std::string out;  // report folder (default STORE/dedupe-report)
  int largest = 10;
};

std::string HistogramText(const std::map<int64_t, int64_t>& sizes) {
  // Buckets 1, 2, 3-4, 5-8, …: a long tail of sizes stays one screen.
  std::map<int64_t, int64_t> buckets;
  for (const auto& [size, groups] : sizes) {
    int64_t top = 1;
    while (top < size) top *= 2;
    buckets[top] += groups;
  }
  std::string text;
  for (const auto& [top, groups] : buckets) {
    const int64_t low = top <= 2 ? top : top / 2 + 1;
    text += "  size " +
            (low == top ? std::to_string(top) : std::to_string(low) + "-" + std::to_string(top)) +
            ": " + std::to_string(groups) + " groups\n";
  }
  return text;
}

nlohmann::ordered_json HistogramJson(const std::map<int64_t, int64_t>& sizes) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const auto& [size, groups] : sizes) json[std::to_string(size)] = groups;
  return json;
}

int RunRegroup(store::Store& store, const DedupeArgs& args) {
  int64_t from_stored = 0;
  // Hashes from the frames cache: each kept frame's hash in eight orientations (the same
  // fitted pixels the crawl hashed, so [0] equals the stored phash). An item whose frames file
  // is unreadable falls back to its stored hashes (no rotation match) and is counted.
  const store::HashesOf hashes_of =
      [&](const store::GroupingItem& item) -> Result<store::ItemHashes> {
    store::ItemHashes hashes;
    auto frames = store.ReadFrames(item.blob);
    if (!frames.ok() || frames->count != static_cast<int>(item.phashes.size())) {
      ++from_stored;
      return hashes;
    }
    for (int k = 0; k < frames->count; ++k) {
      const auto turned = transform::ContentHashes(frames->Frame(k), frames->image_size);
      hashes.own.push_back(turned[0]);
      hashes.probes.insert(hashes.probes.end(), turned.begin(), turned.end());
    }
    return hashes;
  };
  auto report = store::RegroupStore(store.catalog(), args.threshold, hashes_of, args.dry_run);
  if (!report.ok()) {
    std::cerr << "memes dedupe: " << report.status().ToString() << "\n";
    return report.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitItemsFailed;
  }
  std::cout << (args.dry_run ? "would regroup " : "regrouped ") << report->items
            << " items at threshold " << args.threshold << " bits: " << report->groups_before
            << " groups (largest " << report->largest_before << ") -> " << report->groups_after
            << " groups (largest " << report->largest_after << "); " << report->changed
            << " items changed group\n";
  if (report->merged_groups > 0) {
    std::cout << report->merged_groups << " groups made by `memes label group` were kept whole\n";
  }
  if (report->rehashed_frames > 0) {
    std::cout << report->rehashed_frames
              << " stored frame hashes were replaced by the current signature\n";
  }
  if (from_stored > 0) {
    std::cout << from_stored
              << " items had no readable frames file: grouped by stored hashes only (no "
                 "rotation/mirror match)\n";
  }
  std::cout << "group sizes after:\n" << HistogramText(report->sizes_after);
  if (!args.dry_run && report->changed > 0) {
    std::cout << "run `memes pack --store " << args.store_dir
              << "` to write shards with the new groups\n";
  }
  return kExitOk;
}

struct GroupView {
  std::string key;
  std::vector<const store::GroupingItem*> members;  // founder first, then catalogue order
};

cv::Mat Cell(store::Store& store, const std::string& blob, int scale) {
  const int size = store.image_settings().size;
  cv::Mat image(size, size, CV_8UC3, cv::Scalar(200, 200, 200));
  auto frames = store.ReadFrames(blob);
  if (frames.ok() && frames->count > 0) {
    const auto planar = frames->Frame(0);
    const size_t plane = static_cast<size_t>(size) * size;
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const size_t i = static_cast<size_t>(y) * size + x;
        image.at<cv::Vec3b>(y, x) = {planar[2 * plane + i], planar[plane + i], planar[i]};
      }
    }
  }
  cv::Mat scaled;
  cv::resize(image, scaled, {size * scale, size * scale}, 0, 0, cv::INTER_NEAREST);
  return scaled;
}

// One row per group: its size, the founder (framed in red), then up to `columns` members.
Status DrawMosaic(store::Store& store, const std::vector<GroupView>& groups, const fs::path& out) {
  const int scale = 2, columns = 24, gap = 4, margin = 70;
  const int cell = store.image_settings().size * scale;
  const int width = margin + (columns + 1) * (cell + gap) + gap;
  const int height = std::max<int>(1, static_cast<int>(groups.size())) * (cell + gap) + gap;
  cv::Mat sheet(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t r = 0; r < groups.size(); ++r) {
    const int top = gap + static_cast<int>(r) * (cell + gap);
    cv::putText(sheet, std::to_string(groups[r].members.size()), {6, top + cell / 2 + 6},
                cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    const size_t shown = std::min<size_t>(groups[r].members.size(), columns + 1);
    for (size_t c = 0; c < shown; ++c) {
      const int left = margin + gap + static_cast<int>(c) * (cell + gap);
      Cell(store, groups[r].members[c]->blob, scale).copyTo(sheet(cv::Rect(left, top, cell, cell)));
      if (c == 0) {
        cv::rectangle(sheet, cv::Rect(left - 2, top - 2, cell + 4, cell + 4), cv::Scalar(0, 0, 255),
                      2);
      }
    }
  }
  try {
    if (!cv::imwrite(out.string(), sheet)) return IoError("cannot write PNG", out.string());
  } catch (const cv::Exception& e) {
    return IoError(std::string("cannot write PNG: ") + e.what(), out.string());
  }
  return Status::Ok();
}

int RunReport(store::Store& store, const DedupeArgs& args) {
  auto items = store.catalog().GroupingItems();
  if (!items.ok()) {
    std::cerr << "memes dedupe: " << items.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  auto exact = store.catalog().ExactDuplicateSources();
  if (!exact.ok()) {
    std::cerr << "memes dedupe: " << exact.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  std::unordered_map<std::string, size_t> group_of;
  std::unordered_map<std::string, const store::GroupingItem*> item_of;
  std::vector<GroupView> groups;
  for (const store::GroupingItem& item : *items) item_of[item.blob] = &item;
  for (const store::GroupingItem& item : *items) {
    auto [it, added] = group_of.emplace(item.group_key, groups.size());
    if (added) {
      groups.push_back({item.group_key, {}});
      auto founder = item_of.find(item.group_key);
      // The founder first (it may have been committed after a member only after a regroup).
      if (founder != item_of.end()) groups.back().members.push_back(founder->second);
    }
    if (item.blob != item.group_key) groups[it->second].members.push_back(&item);
  }
  // Items whose hashes equal their founder's (distance 0): re-encodes that hash identically.
  int64_t same_hash = 0;
  std::map<int64_t, int64_t> sizes;
  for (const GroupView& group : groups) {
    ++sizes[static_cast<int64_t>(group.members.size())];
    if (group.members.empty() || group.members[0]->blob != group.key) continue;
    for (size_t m = 1; m < group.members.size(); ++m) {
      bool identical = false;
      for (uint64_t a : group.members[0]->phashes) {
        for (uint64_t b : group.members[m]->phashes) identical |= a == b;
      }
      same_hash += identical;
    }
  }
  std::vector<GroupView> largest = groups;
  std::stable_sort(largest.begin(), largest.end(), [](const GroupView& a, const GroupView& b) {
    return a.members.size() > b.members.size();
  });
  if (largest.size() > static_cast<size_t>(args.largest)) largest.resize(args.largest);

  const fs::path out =
      args.out.empty() ? fs::path(args.store_dir) / "dedupe-report" : fs::path(args.out);
  std::error_code error;
  fs::create_directories(out, error);
  if (error) {
    std::cerr << "memes dedupe: cannot create " << out.string() << ": " << error.message() << "\n";
    return kExitUsage;
  }
  if (Status s = DrawMosaic(store, largest, out / "largest-groups.png"); !s.ok()) {
    std::cerr << "memes dedupe: " << s.ToString() << "\n";
    return kExitItemsFailed;
  }
  nlohmann::ordered_json json;
  json["items"] = items->size();
  json["groups"] = groups.size();
  json["largest_group"] = largest.empty() ? 0 : largest[0].members.size();
  json["exact_duplicate_sources"] = *exact;
  json["same_hash_as_founder"] = same_hash;
  json["group_sizes"] = HistogramJson(sizes);
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const GroupView& group : largest) {
    top.push_back({{"founder", group.key}, {"items", group.members.size()}});
  }
  json["largest_groups"] = top;
  {
    std::ofstream file(out / "dedupe.json");
    file << json.dump(2) << "\n";
    if (!file) {
      std::cerr << "memes dedupe: cannot write " << (out / "dedupe.json").string() << "\n";
      return kExitItemsFailed;
    }
  }
  std::cout << items->size() << " grouped items in " << groups.size() << " near-duplicate groups"
            << " (largest " << json["largest_group"].get<size_t>() << ")\n"
            << *exact << " exact duplicates (a source whose bytes were already stored), "
            << same_hash << " items hash identically to their group's founder\n"
            << "group sizes:\n"
            << HistogramText(sizes) << "the " << largest.size()
            << " largest groups (founder framed in red): " << (out / "largest-groups.png").string()
            << "\nnumbers: " << (out / "dedupe.json").string() << "\n";
  return kExitOk;
}

int RunDedupe(const DedupeArgs& args) {
  auto store = OpenExistingStore(args.store_dir);
  if (!store.ok()) {
    std::cerr << "memes dedupe: " << store.status().ToString() << "\n";
    return kExitUsage;
  }
  return args.report ? RunReport(**store, args) : RunRegroup(**store, args);
}

}  // namespace

void AddDedupeCommand(CLI::App& app, CommandRegistry& registry) {
  auto args = std::make_shared<DedupeArgs>();
  CLI::App* command = app.add_subcommand(
      "dedupe",
      "Regroup a store's near-duplicates with new settings (from stored frames: no fetch, no "
      "decode), or --report on the groups");
  command->add_option("--store", args->store_dir, "The store folder")->required();
  command
      ->add_option("--threshold", args->threshold,
                   "Bits between an item's hash (any of 8 orientations) and its group founder's")
      ->check(CLI::Range(0, store::kMaxNearDuplicateDistance))
      ->capture_default_str();
  command->add_flag("--dry-run", args->dry_run,
                    "Report what regrouping would change; write nothing");
  command->add_flag("--report", args->report,
                    "Report the groups as they are (counts, sizes, exact duplicates, mosaic)");
  command->add_option("--out", args->out, "Report folder (default STORE/dedupe-report)");
  command->add_option("--largest", args->largest, "Groups in the mosaic")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  registry.Add(command, [args] { return RunDedupe(*args); });
}

}  // namespace memes::pipelines
