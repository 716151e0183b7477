// Signature variants pair by pair (dedupe_bench_variants.h).
#include "bench/dedupe_bench_variants.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frames.h"
#include "transform/orientation.h"
#include "transform/signature.h"

namespace memes::bench {

namespace {

// Signature variants measured pair by pair (bench-only): per transform, the share of pairs
// whose nearest orientation is within t bits, and the same share over "other vendor" pairs
// (different pictures that look alike: what a threshold must keep apart).
struct Variant {
  std::string name;
  bool unused;
  bool median;
  int blur;            // box blur side before the DCT (0: none)
  double moments = 0;  // > 0: window centre ± moments·σ of the ink around the border colour
  int noise = 16;
  // > 0: the band signature: in each orientation, the top `band_top` and bottom `band_bottom`
  // rows (of 32) are left out before hashing (a caption's usual place), then the content
  // window (band_window) or the whole band stretched to 32×32.
  int band_top = 0, band_bottom = 0;
  bool band_window = false;
  // With `median` and margin > 0: bits above a margin over the median (transform::MarginBits;
  // BandHashes' rule at kBandMargin, kBandFloor), not at or above the median.
  double margin = 0;
  float floor_share = memes::transform::kBandFloor;
};

// Grey 32×32 of the window centre ± k·σ (per axis) of the "ink": each pixel's largest channel
// difference from the border colour, less `noise`.
cv::Mat MomentWindow(const std::vector<uint8_t>& planar, double k, int noise) {
  const int size = 32;
  cv::Mat grey(size, size, CV_32F);
  for (int i = 0; i < 1024; ++i)
    grey.at<float>(i / 32, i % 32) =
        0.299f * planar[i] + 0.587f * planar[1024 + i] + 0.114f * planar[2048 + i];
  bool bordered = false;
  // The border colour: one three corners share (as transform::FindContentWindow).
  int cr = planar[0], cg = planar[1024], cb = planar[2048];
  {
    const int idx[4] = {0, 31, 31 * 32, 1023};
    for (int a = 0; a < 4; ++a) {
      int agree = 0;
      for (int b = 0; b < 4; ++b)
        agree += std::abs(planar[idx[a]] - planar[idx[b]]) <= 24 &&
                 std::abs(planar[1024 + idx[a]] - planar[1024 + idx[b]]) <= 24 &&
                 std::abs(planar[2048 + idx[a]] - planar[2048 + idx[b]]) <= 24;
      if (agree >= 3) {
        bordered = true;
        cr = planar[idx[a]], cg = planar[1024 + idx[a]], cb = planar[2048 + idx[a]];
        break;
      }
    }
  }
  if (!bordered) return grey;
  double sw = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const int i = y * 32 + x;
      int w = std::max({std::abs(planar[i] - cr), std::abs(planar[1024 + i] - cg),
                        std::abs(planar[2048 + i] - cb)}) -
              noise;
      if (w <= 0) continue;
      sw += w, sx += w * x, sy += w * y, sxx += double(w) * x * x, syy += double(w) * y * y;
    }
  if (sw <= 0) return grey;
  const double mx = sx / sw, my = sy / sw;
  const double vx = std::max(0.25, sxx / sw - mx * mx), vy = std::max(0.25, syy / sw - my * my);
  const double hx = k * std::sqrt(vx), hy = k * std::sqrt(vy);
  const double scale_x = 32 / (2 * hx), scale_y = 32 / (2 * hy);
  cv::Mat m = (cv::Mat_<double>(2, 3) << scale_x, 0, scale_x * (0.5 - (mx + 0.5) + hx) - 0.5, 0,
               scale_y, scale_y * (0.5 - (my + 0.5) + hy) - 0.5);
  cv::Mat out;
  const float bg = 0.299f * cr + 0.587f * cg + 0.114f * cb;
  cv::warpAffine(grey, out, m, cv::Size(32, 32), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(bg));
  return out;
}

uint64_t VariantHash(const cv::Mat& grey32, const Variant& v) {
  cv::Mat g = grey32;
  if (v.blur > 1) cv::blur(grey32, g, cv::Size(v.blur, v.blur));
  cv::Mat dct;
  cv::dct(g, dct);
  std::array<float, 64> low{};
  for (int u = 0; u < 8; ++u)
    for (int w = 0; w < 8; ++w) low[8 * u + w] = dct.at<float>(u, w);
  low[0] = dct.at<float>(0, 8);
  float threshold = 0;
  if (v.median) {
    auto sorted = low;
    std::nth_element(sorted.begin(), sorted.begin() + 32, sorted.end());
    threshold = sorted[32];
  } else {
    for (float x : low) threshold += x / 64;
  }
  if (v.median && v.margin > 0)
    return memes::transform::MarginBits(low, static_cast<float>(v.margin), v.floor_share);
  uint64_t bits = 0;
  for (int i = 0; i < 64; ++i) bits = (bits << 1) | (low[i] >= threshold ? 1u : 0u);
  return bits;
}

// The variant's hash of `g32` (32x32 grey) in the 8 orientations of phash.h.
std::array<uint64_t, 8> OrientedHashes(const cv::Mat& g32, const Variant& v) {
  std::array<uint64_t, 8> out{};
  for (int k = 0; k < 8; ++k) out[k] = VariantHash(memes::transform::Oriented(g32, k), v);
  return out;
}

// A planar 3×32×32 frame in orientation k of phash.h, plane by plane.
std::vector<uint8_t> Oriented(const std::vector<uint8_t>& planar, int k) {
  std::vector<uint8_t> out(planar.size());
  for (int c = 0; c < 3; ++c) {
    const cv::Mat plane(32, 32, CV_8U, const_cast<uint8_t*>(planar.data()) + 1024 * c);
    const cv::Mat turned = memes::transform::Oriented(plane, k);  // fresh, continuous
    std::memcpy(out.data() + 1024 * c, turned.data, 1024);
  }
  return out;
}

uint64_t BandHash(const std::vector<uint8_t>& planar, const Variant& v) {
  if (v.band_window) {
    // The rows left out take the border colour of the full frame, so the window is the ink
    // between them.
    const auto window = memes::transform::FindContentWindow(planar, 32);
    std::vector<uint8_t> masked = planar;
    if (window.bordered) {
      for (int y = 0; y < 32; ++y) {
        if (y >= v.band_top && y < 32 - v.band_bottom) continue;
        for (int x = 0; x < 32; ++x)
          for (int c = 0; c < 3; ++c) masked[1024 * c + 32 * y + x] = window.border_rgb[c];
      }
      return memes::transform::ContentHash(masked, 32);
    }
  }
  cv::Mat grey(32, 32, CV_32F);
  for (int i = 0; i < 1024; ++i)
    grey.at<float>(i / 32, i % 32) =
        0.299f * planar[i] + 0.587f * planar[1024 + i] + 0.114f * planar[2048 + i];
  cv::Mat band = grey.rowRange(v.band_top, 32 - v.band_bottom), g32;
  cv::resize(band, g32, cv::Size(32, 32), 0, 0, cv::INTER_LINEAR);
  return VariantHash(g32, v);
}

std::array<uint64_t, 8> VariantHashes(const std::vector<uint8_t>& planar, const Variant& v) {
  const int size = 32;
  if (v.band_top > 0 || v.band_bottom > 0) {
    std::array<uint64_t, 8> out{};
    for (int k = 0; k < 8; ++k) out[k] = BandHash(Oriented(planar, k), v);
    return out;
  }
  if (v.moments == -2) return memes::transform::BandHashes(planar, size);
  if (v.moments < 0) return memes::transform::ContentHashes(planar, size);
  if (v.moments > 0) {
    return OrientedHashes(MomentWindow(planar, v.moments, v.noise), v);
  }
  cv::Mat grey(size, size, CV_32F);
  for (int i = 0; i < size * size; ++i)
    grey.at<float>(i / size, i % size) =
        0.299f * planar[i] + 0.587f * planar[1024 + i] + 0.114f * planar[2048 + i];
  cv::Mat g32;
  cv::resize(grey, g32, cv::Size(32, 32), 0, 0, cv::INTER_LINEAR);
  return OrientedHashes(g32, v);
}

}  // namespace

void SignatureVariants(const std::vector<memes::bench::BenchItem>& set) {
  std::vector<Variant> variants = {
      {"whole frame, mean (img_hash-like)", false, false, 0},
      {"whole frame, median", false, true, 0},
      {"moments k=2, median (schemas up to 9)", false, true, 0, 2.0},

      {"transform::ContentHashes (chosen: moments k=2, margin 0.25)", false, true, 0, -1},
      {"moments k=2.5, median", false, true, 0, 2.5},
      {"moments k=2, mean", false, false, 0, 2.0},
      {"moments k=2, median, blur 3", false, true, 3, 2.0},
      {"moments k=2, margin 0.25", false, true, 0, 2.0, 16, 0, 0, false, 0.25},
      {"moments k=2, margin 0.5", false, true, 0, 2.0, 16, 0, 0, false, 0.5},
      {"moments k=2, margin 1", false, true, 0, 2.0, 16, 0, 0, false, 1.0},
      {"transform::BandHashes (the second hash: rows 9-22, margin 0.5, floor 0.02)", false, true, 0,
       -2},
      {"band rows 8-23, whole band, median (schema 7-8)", false, true, 0, 0, 16, 8, 8, false},
      {"band rows 8-23, whole band, margin 0.25", false, true, 0, 0, 16, 8, 8, false, 0.25},
      {"band rows 8-23, whole band, margin 0.75", false, true, 0, 0, 16, 8, 8, false, 0.75},
      {"band rows 8-23, whole band, margin 1", false, true, 0, 0, 16, 8, 8, false, 1.0},
      {"band rows 9-23, whole band, margin 0.5", false, true, 0, 0, 16, 9, 8, false, 0.5},
      {"band rows 9-22, whole band, margin 0.5", false, true, 0, 0, 16, 9, 9, false, 0.5},
      {"band rows 10-21, whole band, margin 0.5", false, true, 0, 0, 16, 10, 10, false, 0.5},
      {"band rows 8-23, whole band, margin 0.5", false, true, 0, 0, 16, 8, 8, false, 0.5},
      {"band rows 6-23, whole band, median", false, true, 0, 0, 16, 6, 8, false},
      {"band rows 6-23, content window, median", false, true, 0, 0, 16, 6, 8, true},
      {"band rows 4-25, content window, median", false, true, 0, 0, 16, 4, 6, true},
      {"band rows 8-21, content window, median", false, true, 0, 0, 16, 8, 10, true}};
  // Per item: frames' planar pixels.
  std::vector<std::vector<std::vector<uint8_t>>> frames(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    auto decoded = memes::transform::DecodeToFrames(set[i].bytes, {});
    if (!decoded.ok()) continue;
    for (auto& f : decoded->frames) frames[i].push_back(f.planar);
  }
  // Pairs: copy -> original (stills -> animation); other-vendor -> the preceding original.
  std::map<int, size_t> original, animation;
  for (size_t i = 0; i < set.size(); ++i) {
    if (set[i].transform == "original") original[set[i].truth] = i;
    if (set[i].transform == "animation") animation[set[i].truth] = i;
  }
  std::vector<std::pair<std::string, std::pair<size_t, size_t>>> pairs;
  size_t last_original = SIZE_MAX;
  for (size_t i = 0; i < set.size(); ++i) {
    const std::string& t = set[i].transform;
    if (t == "original") last_original = i;
    if (t == "other-vendor" && last_original != SIZE_MAX) pairs.push_back({t, {i, last_original}});
    if (t == "original" || t == "animation" || t == "other-vendor") continue;
    const auto& anchors = t.rfind("anim-", 0) == 0 ? animation : original;
    auto a = anchors.find(set[i].truth);
    if (a != anchors.end()) pairs.push_back({t, {i, a->second}});
  }
  const int thresholds[] = {6, 8, 10, 12};
  std::printf(
      "\n## Signature variants, pair by pair (share of pairs within t bits, t = 6/8/10/12)\n\n");
  std::printf("| variant |");
  std::vector<std::string> names = memes::bench::PositiveTransforms();
  names.push_back("other-vendor");
  for (const auto& n : names) std::printf(" %s |", n.c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < names.size(); ++i) std::printf("---|");
  std::printf("\n");
  for (const Variant& v : variants) {
    std::vector<std::vector<uint64_t>> own(set.size()), probes(set.size());
    for (size_t i = 0; i < set.size(); ++i) {
      for (const auto& f : frames[i]) {
        const auto h = VariantHashes(f, v);
        own[i].push_back(h[0]);
        probes[i].insert(probes[i].end(), h.begin(), h.end());
      }
    }
    std::map<std::string, std::array<int, 5>> within;  // 4 thresholds + count
    for (const auto& [t, ab] : pairs) {
      int best = 65;
      for (uint64_t p : probes[ab.first])
        for (uint64_t o : own[ab.second]) best = std::min(best, __builtin_popcountll(p ^ o));
      auto& w = within[t];
      for (int k = 0; k < 4; ++k) w[k] += best <= thresholds[k];
      ++w[4];
    }
    std::printf("| %s |", v.name.c_str());
    for (const auto& n : names) {
      const auto& w = within[n];
      std::printf(" %.0f/%.0f/%.0f/%.0f |", 100.0 * w[0] / std::max(1, w[4]),
                  100.0 * w[1] / std::max(1, w[4]), 100.0 * w[2] / std::max(1, w[4]),
                  100.0 * w[3] / std::max(1, w[4]));
    }
    std::printf("\n");
  }
}

}  // namespace memes::bench
