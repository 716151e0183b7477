// The pipeline file: what a crawl fetches (classes with keyword lists, sources), how politely,
// and how images become frames. TOML, read with toml++; every key is documented with its default
// in docs/pipeline-file.md.
//
// The loader checks the whole file before anything runs and reports every mistake it finds
// (not just the first) as "FILE:LINE: key: what is wrong".
// Thread-safety: plain values; the loader keeps no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/image_settings.h"
#include "core/status.h"
#include "ingest/fetcher.h"
#include "store/catalog.h"

namespace memes::pipelines {

// The [image] table: the image settings every module shares (core/image_settings.h: size, fit,
// background, max_frames, with their one set of defaults), plus the crawl's decoding limits.
struct ImageSettings : ::memes::ImageSettings {
  uint64_t max_file_bytes = 20'000'000;
  uint64_t max_canvas_pixels = 40'000'000;
  int max_decoded_frames = 1000;
  int decode_time_budget_ms = 2000;
  // Pictures narrower or lower than this (tracking pixels, spacer GIFs) are refused and
  // recorded as "too-small", never stored.
  int min_side = 16;
};

// The [politeness] table fills the fetcher's own settings (one struct, one set of defaults),
// plus the crawl graph's own limit on pages.
struct Politeness : ingest::FetchSettings {
  // Search pages fetched or waiting for their images to enter the image side. A page of 40
  // results feeds 40 transfers; at the default 64 transfers and ~2 pages' latency per image,
  // 8 pages keep the transfers busy with a page's worth to spare (docs/pipeline-file.md).
  int pages_in_flight = 8;
};

enum class SourceKind { kSearch, kUrls, kFolder };

struct Source {
  SourceKind kind = SourceKind::kSearch;
  std::string name;  // for stats and the catalog; defaults to "search-1", "urls-2"…
  int line = 0;      // where the source starts in the pipeline file, for messages
  // kSearch: URL template with {keyword} (percent-encoded UTF-8), {page} (1-based) and
  // {offset} ((page-1) * page_size).
  std::string url_template;
  int pages = 1;
  int page_size = 20;
  // "html", "json:KEY" or "regex:PATTERN" (first capture group).
  std::string extract = "html";
  // URLs taken from one search page at most; the rest of a larger page is ignored (a hostile
  // page cannot queue a million images).
  int max_urls_per_page = 1000;
  // kUrls: CSV/TSV of label,url. kFolder: a folder whose subfolders are labels.
  std::filesystem::path path;
};

struct ClassSpec {
  std::string name;                   // the label
  std::vector<std::string> keywords;  // UTF-8
};

// The [dedupe] table: how the crawl groups near-duplicates (store/FORMAT.md).
struct DedupeSettings {
  int threshold = store::kDefaultNearDuplicateDistance;  // bits to the group founder's hash
  bool orientations = true;  // also match rotated (90°, 180°, 270°) and mirrored re-uploads
  // "verified" (hash candidates within candidate_threshold bits, joined when the thumbnails
  // are within thumb_threshold) or "hash" (within `threshold` bits alone).
  bool verify = true;
  int candidate_threshold = store::kDefaultCandidateDistance;
  double thumb_threshold = store::kDefaultThumbDistance;
  // verified: bits between middle-band hashes for a candidate when the content hash accepts
  // none (store/FORMAT.md "Second candidate hash"; -1: no second source).
  int second_threshold = store::kDefaultSecondDistance;
  // verified: a middle-band candidate farther than second_near_threshold bits joins only within
  // second_far_thumb_threshold on the band thumbnails (store::MatchRule::second_near_distance,
  // second_far_thumb_distance; -1: thumb_threshold).
  int second_near_threshold = store::kDefaultSecondNearDistance;
  double second_far_thumb_threshold = store::kDefaultSecondFarThumbDistance;
  // A group's representatives, the founder counted (store::MatchRule::representatives).
  int representatives = store::kDefaultRepresentatives;
  // verified: the extra checks on the thumbnails (store::MatchRule::colour_distance and
  // peak_distance; -1: off).
  double colour_threshold = store::kDefaultColourDistance;
  double peak_threshold = store::kDefaultPeakDistance;
  // verified: thumbnail distance within which an item both of whose founders accept it merges
  // their groups (store::MatchRule::bridge_distance; -1: never).
  double bridge_threshold = store::kDefaultBridgeDistance;
  // verified: bits to a candidate for an item's quarter-turned probes (orientations on;
  // store::MatchRule::turned_distance; -1: candidate_threshold).
  int turned_threshold = store::kDefaultTurnedDistance;
  // The store's matching rule for these settings (the file's keys by their MatchRule names).
  store::MatchRule Rule() const {
    store::MatchRule rule;
    rule.distance = threshold;
    rule.verify = verify;
    rule.candidate_distance = candidate_threshold;
    rule.thumb_distance = thumb_threshold;
    rule.second_distance = second_threshold;
    rule.second_near_distance = second_near_threshold;
    rule.second_far_thumb_distance = second_far_thumb_threshold;
    rule.representatives = representatives;
    rule.colour_distance = colour_threshold;
    rule.peak_distance = peak_threshold;
    rule.bridge_distance = bridge_threshold;
    rule.turned_distance = turned_threshold;
    return rule;
  }
};

struct PipelineConfig {
  std::filesystem::path file;   // where it was read from
  std::filesystem::path store;  // resolved against the pipeline file's folder
  ImageSettings image;
  Politeness politeness;
  DedupeSettings dedupe;
  std::vector<ClassSpec> classes;  // in file order: label indices follow it
  std::vector<Source> sources;
};

// Reads and checks a pipeline file. On any mistake returns kInvalidArgument whose message lists
// every problem, one a line, each "FILE:LINE: key: problem".
Result<PipelineConfig> LoadPipelineFile(const std::filesystem::path& path);

// Same, from text (`display_name` is used in messages, `base_dir` resolves relative paths).
Result<PipelineConfig> ParsePipelineText(const std::string& text, const std::string& display_name,
                                         const std::filesystem::path& base_dir);

// Reads a plain "label<TAB>keyword" list (blank lines and # comments skipped) into classes in
// order of first appearance. A malformed line is reported as "FILE:LINE: problem".
Result<std::vector<ClassSpec>> LoadKeywordList(const std::filesystem::path& path);

}  // namespace memes::pipelines
