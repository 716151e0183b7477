// dedupe_bench's labelled near-duplicate set: real originals (Noto and Twemoji emoji PNGs, the
// gdk-pixbuf GIF test suite's animations) and generated copies of them, each item tagged with
// the original it shows (its "truth") and the transform that made it. Bench-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace memes::bench {

struct BenchItem {
  std::vector<uint8_t> bytes;  // an encoded file (PNG, JPEG, palette PNG, APNG, GIF)
  int truth = 0;               // the original picture it shows
  std::string transform;       // "original", "jpeg", "rescale", …, "other-vendor"
  std::string category;        // emoji.json category (the class for the split figures)
  std::string name;            // the original's file name (for listing false merges)
};

struct BenchSetOptions {
  std::filesystem::path google;      // package/img/google/64 of emoji-datasource-google
  std::filesystem::path twitter;     // package/img/twitter/64 of emoji-datasource-twitter
  std::filesystem::path emoji_json;  // package/emoji.json (categories)
  std::filesystem::path gif_suite;   // gdk-pixbuf test-images folder (animations), may be empty
  int originals = 1000;              // emoji originals (skin-tone variants left out)
  uint64_t seed = 1;
  // Emoji whose pixels are the same up to a turn, a mirror image or a scale (↗ and ↙, 🔶 and
  // 🔸, clock faces mirrored) are one truth: a rotated, mirrored or rescaled copy of one is the
  // other, which grouping must catch, and a split that put them apart would leak through the
  // trainer's rotation augmentation. false: each emoji a truth of its own (the set before).
  bool twins = true;
};

// The transforms a positive is made with, in report order.
const std::vector<std::string>& PositiveTransforms();

// Builds the set: per emoji original, the Noto PNG ("original"), one copy per positive
// transform, and the Twemoji drawing of the same emoji ("other-vendor", a truth of its own: a
// similar picture that is not the same). Per GIF-suite animation with at least 3 frames: the
// animation, its first and middle frames as PNG stills. With options.twins, emoji that are
// pixel twins up to orientation and scale share a truth (g_twin_pairs lists the joins).
std::vector<BenchItem> BuildBenchSet(const BenchSetOptions& options);

// The truths the twins rule joined into another, "a b" per join (empty without it): set by
// BuildBenchSet.
extern std::vector<std::string> g_twin_pairs;

}  // namespace memes::bench
