// `memes dedupe`: regroup an existing store's near-duplicates with new settings (founder-only
// joining, all eight orientations; store/regroup.h), or report on the groups as they are
// (`--report`: counts, size histogram, exact duplicates, a mosaic of the largest groups).
// Reads the catalog and frames/ only: never fetches, never decodes a blob.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <span>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/log.h"
#include "pipelines/command.h"
#include "pipelines/pipeline_file.h"
#include "store/file_util.h"
#include "store/regroup.h"
#include "store/store.h"
#include "transform/phash.h"
#include "transform/signature.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenExistingStore(const fs::path& dir);  // cmd_pack.cpp

// Each kept frame's signature and verification thumbnail in the eight orientations, recomputed
// from the frames cache (the same fitted pixels the crawl hashed, so own[k] equals the stored
// phash of a store hashed with the current signature). `background`: the store's
// (ImageSettings::background, what the crawl hashed with). Shared with `memes store merge`.
store::ItemHashes FrameSignatures(const store::ItemFrames& frames,
                                  std::span<const uint8_t, 3> background) {
  static_assert(transform::kThumbBytes == store::kThumbBytes);
  store::ItemHashes hashes;
  for (int k = 0; k < frames.count; ++k) {
    const transform::ContentWindow window =
        transform::FindContentWindow(frames.Frame(k), frames.image_size, background);
    const auto turned = transform::ContentHashes(frames.Frame(k), frames.image_size, window);
    hashes.own.push_back(turned[0]);
    hashes.probes.insert(hashes.probes.end(), turned.begin(), turned.end());
    const auto second = transform::BandHashes(frames.Frame(k), frames.image_size);
    hashes.own_second.push_back(second[0]);
    hashes.probe_second.insert(hashes.probe_second.end(), second.begin(), second.end());
    const auto second_thumbs = transform::BandThumbsOf(frames.Frame(k), frames.image_size);
    hashes.own_second_thumbs.insert(hashes.own_second_thumbs.end(), second_thumbs[0].begin(),
                                    second_thumbs[0].end());
    for (const auto& thumb : second_thumbs) {
      hashes.probe_second_thumbs.insert(hashes.probe_second_thumbs.end(), thumb.begin(),
                                        thumb.end());
    }
    const auto thumbs = transform::ContentThumbsOf(frames.Frame(k), frames.image_size, window);
    hashes.own_thumbs.insert(hashes.own_thumbs.end(), thumbs[0].begin(), thumbs[0].end());
    for (const auto& thumb : thumbs) {
      hashes.probe_thumbs.insert(hashes.probe_thumbs.end(), thumb.begin(), thumb.end());
    }
  }
  return hashes;
}

// The groups as numbers: `memes dedupe --report`'s dedupe.json and, with the crawl's matching
// rule, stats.json's "dedupe" object (the same keys, so the two can be compared).
nlohmann::ordered_json DedupeJson(const store::GroupSummary& groups,
                                  const store::CatalogOptions* options) {
  nlohmann::ordered_json json;
  json["items"] = groups.items;
  json["groups"] = groups.groups;
  json["largest_group"] = groups.largest.empty() ? 0 : groups.largest[0].second;
  json["exact_duplicate_sources"] = groups.exact_duplicate_sources;
  json["same_hash_as_founder"] = groups.same_hash_as_founder;
  nlohmann::ordered_json sizes = nlohmann::ordered_json::object();
  for (const auto& [size, count] : groups.sizes) sizes[std::to_string(size)] = count;
  json["group_sizes"] = sizes;
  nlohmann::ordered_json top = nlohmann::ordered_json::array();
  for (const auto& [founder, size] : groups.largest) {
    top.push_back({{"founder", founder}, {"items", size}});
  }
  json["largest_groups"] = top;
  if (options != nullptr) {
    const store::MatchRule& rule = options->rule;
    nlohmann::ordered_json method;
    method["method"] = rule.verify ? "verified" : "hash";
    method["threshold"] = rule.distance;
    if (rule.verify) {
      method["candidate_threshold"] = rule.candidate_distance;
      method["thumb_threshold"] = rule.thumb_distance;
      method["second_threshold"] = rule.second_distance;
      method["colour_threshold"] = rule.colour_distance;
      method["peak_threshold"] = rule.peak_distance;
      method["bridge_threshold"] = rule.bridge_distance;
      method["turned_threshold"] = rule.turned_distance;
      method["second_near_threshold"] = rule.second_near_distance;
      method["second_far_thumb_threshold"] = rule.second_far_thumb_distance;
    }
    method["representatives"] = rule.representatives;
    method["orientations"] = options->probe_orientations;
    json["rule"] = method;
  }
  return json;
}

namespace {

struct DedupeArgs {
  std::string store_dir;
  std::string method = "verified";
  // The pipeline file's [dedupe] keys, one flag each (`verify` follows `method`).
  DedupeSettings settings;
  bool dry_run = false;
  bool report = false;
  std::string out;  // report folder (default STORE/dedupe-report)
  int largest = 10;
};

store::MatchRule Rule(const DedupeArgs& args) {
  DedupeSettings settings = args.settings;
  settings.verify = args.method == "verified";
  return settings.Rule();
}

std::string MethodText(const DedupeArgs& args) {
  const DedupeSettings& settings = args.settings;
  std::ostringstream text;
  if (args.method == "verified") {
    text << "verified: hash within " << settings.candidate_threshold << " bits";
    if (settings.orientations && settings.turned_threshold >= 0 &&
        settings.turned_threshold < settings.candidate_threshold)
      text << " (" << settings.turned_threshold << " for quarter turns)";
    if (settings.second_threshold >= 0) {
      text << " or middle-band hash within " << settings.second_threshold << " bits";
      if (settings.second_far_thumb_threshold >= 0 &&
          settings.second_near_threshold < settings.second_threshold)
        text << " (past " << settings.second_near_threshold << ": thumbnail within "
             << settings.second_far_thumb_threshold << ")";
    }
    text << ", thumbnail within " << settings.thumb_threshold;
    if (settings.colour_threshold >= 0)
      text << ", mean colour within " << settings.colour_threshold;
    if (settings.peak_threshold >= 0) text << ", worst cells within " << settings.peak_threshold;
    if (settings.bridge_threshold >= 0)
      text << ", groups whose founders both accept an item within " << settings.bridge_threshold
           << " merge";
    text << "; " << settings.threshold << " bits where a frame has no thumbnail";
  } else {
    text << "hash within " << settings.threshold << " bits";
  }
  text << "; " << settings.representatives
       << (settings.representatives == 1 ? " representative" : " representatives") << " a group";
  return text.str();
}

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

int RunRegroup(store::Store& store, const DedupeArgs& args) {
  int64_t from_stored = 0;
  // Hashes from the frames cache: each kept frame's hash in eight orientations (the same
  // fitted pixels the crawl hashed, so [0] equals the stored phash). An item whose frames file
  // is unreadable falls back to its stored hashes (no rotation match) and is counted.
  const store::HashesOf hashes_of =
      [&](const store::GroupingItem& item) -> Result<store::ItemHashes> {
    auto frames = store.ReadFrames(item.blob);
    if (!frames.ok() || frames->count != static_cast<int>(item.phashes.size())) {
      ++from_stored;
      return store::ItemHashes{};
    }
    return FrameSignatures(*frames, store.image_settings().background);
  };
  auto report = store::RegroupStore(store.catalog(), Rule(args), hashes_of, args.dry_run);
  if (!report.ok()) {
    std::cerr << "memes dedupe: " << report.status().ToString() << "\n";
    return report.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitItemsFailed;
  }
  std::cout << (args.dry_run ? "would regroup " : "regrouped ") << report->items << " items ("
            << MethodText(args) << "): " << report->groups_before << " groups (largest "
            << report->largest_before << ") -> " << report->groups_after << " groups (largest "
            << report->largest_after << "); " << report->changed << " items changed group\n";
  if (report->merged_groups > 0) {
    std::cout << report->merged_groups << " groups made by `memes label group` were kept whole\n";
  }
  if (report->representatives > 0) {
    std::cout << report->representatives << " members represent their group beside its founder\n";
  }
  if (report->bridged > 0) {
    std::cout << report->bridged
              << " groups absorbed another whose founder accepts one of their items\n";
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
  auto summary = store::SummarizeGroups(store.catalog(), args.largest);
  auto items = store.catalog().GroupingItems();
  if (!summary.ok() || !items.ok()) {
    std::cerr << "memes dedupe: " << (summary.ok() ? items.status() : summary.status()).ToString()
              << "\n";
    return kExitItemsFailed;
  }
  // The mosaic's rows: the largest groups' members, founder first, then catalogue order.
  std::unordered_map<std::string, size_t> row_of;
  std::vector<GroupView> largest;
  for (const auto& [founder, size] : summary->largest) {
    row_of[founder] = largest.size();
    largest.push_back({founder, {}});
  }
  for (const store::GroupingItem& item : *items) {
    if (item.blob == item.group_key && row_of.count(item.blob)) {
      auto& members = largest[row_of[item.blob]].members;
      members.insert(members.begin(), &item);
    }
  }
  for (const store::GroupingItem& item : *items) {
    auto row = row_of.find(item.group_key);
    if (row != row_of.end() && item.blob != item.group_key)
      largest[row->second].members.push_back(&item);
  }

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
  const nlohmann::ordered_json json = DedupeJson(*summary, nullptr);
  if (Status s = store::WriteFileAtomic(out / "dedupe.json", json.dump(2) + "\n"); !s.ok()) {
    std::cerr << "memes dedupe: " << s.ToString() << "\n";
    return kExitItemsFailed;
  }
  std::cout << summary->items << " grouped items in " << summary->groups
            << " near-duplicate groups (largest "
            << (summary->largest.empty() ? 0 : summary->largest[0].second) << ")\n"
            << summary->exact_duplicate_sources
            << " exact duplicates (a source whose bytes were already stored), "
            << summary->same_hash_as_founder << " items hash identically to their group's founder\n"
            << "group sizes:\n"
            << HistogramText(summary->sizes) << "the " << largest.size()
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
  // The rule's options, each showing its default: `bits` between hashes (`low` -1: the option
  // can be turned off), `distance` between thumbnails or their colours.
  auto bits = [&](const char* name, int& value, int low, const char* help) {
    command->add_option(name, value, help)
        ->check(CLI::Range(low, store::kMaxNearDuplicateDistance))
        ->capture_default_str();
  };
  auto distance = [&](const char* name, double& value, double low, double high, const char* help) {
    command->add_option(name, value, help)->check(CLI::Range(low, high))->capture_default_str();
  };
  DedupeSettings& settings = args->settings;
  bits("--threshold", settings.threshold, 0,
       "Bits between an item's hash (any of 8 orientations) and its group founder's");
  command
      ->add_option("--method", args->method,
                   "verified: hash candidates checked by a colour thumbnail; hash: hash only")
      ->check(CLI::IsMember({"verified", "hash"}))
      ->capture_default_str();
  bits("--candidate-threshold", settings.candidate_threshold, 0,
       "verified: bits between hashes for a candidate");
  distance("--thumb-threshold", settings.thumb_threshold, 0, 765,
           "verified: thumbnail distance at which a candidate joins");
  bits("--second-threshold", settings.second_threshold, -1,
       "verified: bits between middle-band hashes for a candidate when the content hash finds "
       "none (-1: off)");
  bits("--second-near-threshold", settings.second_near_threshold, 0,
       "verified: middle-band candidates farther than this many bits join only within "
       "--second-far-thumb-threshold");
  distance("--second-far-thumb-threshold", settings.second_far_thumb_threshold, -1, 765,
           "verified: thumbnail distance at which a far middle-band candidate joins (-1: "
           "--thumb-threshold)");
  distance("--colour-threshold", settings.colour_threshold, -1, 1020,
           "verified: chroma distance of the thumbnails' mean colours (-1: off)");
  distance("--peak-threshold", settings.peak_threshold, -1, 765,
           "verified: mean of the worst inner thumbnail cells (-1: off)");
  distance("--bridge-threshold", settings.bridge_threshold, -1, 765,
           "verified: two groups whose founders both accept an item within this thumbnail "
           "distance merge (-1: never)");
  bits("--turned-threshold", settings.turned_threshold, -1,
       "verified: bits to a candidate for an item's quarter turns (-1: the candidate threshold)");
  command
      ->add_option("--representatives", args->settings.representatives,
                   "a group's representatives, its founder counted: an item joins when one "
                   "accepts it (1: the founder alone)")
      ->check(CLI::Range(1, 64))
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
