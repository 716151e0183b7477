// The viewpoint pairs of OpenCV's example images (dedupe_bench_viewpoint.h).
#include "bench/dedupe_bench_viewpoint.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "bench/dedupe_bench_speed.h"
#include "transform/frames.h"
#include "transform/phash.h"
#include "transform/signature.h"
#include "transform/test_util.h"

namespace memes::bench {

namespace fs = std::filesystem;

namespace {

// One scene seen twice: viewpoint (Mikolajczyk's graffiti and aerial pairs), light (Leuven),
// stereo (aloe, the chessboard calibration pairs, left/right), motion (two video frames, two
// optical-flow frames), two renders of one model.
std::vector<std::pair<std::string, std::string>> ScenePairs() {
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"graf1.png", "graf3.png"},
      {"aero1.jpg", "aero3.jpg"},
      {"leuvenA.jpg", "leuvenB.jpg"},
      {"aloeL.jpg", "aloeR.jpg"},
      {"left.jpg", "right.jpg"},
      {"basketball1.png", "basketball2.png"},
      {"rubberwhale1.png", "rubberwhale2.png"},
      {"Blender_Suzanne1.jpg", "Blender_Suzanne2.jpg"}};
  for (int k : {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14}) {
    char left[16], right[16];
    std::snprintf(left, sizeof left, "left%02d.jpg", k);
    std::snprintf(right, sizeof right, "right%02d.jpg", k);
    pairs.emplace_back(left, right);
  }
  return pairs;
}

struct Image {
  std::string name;
  int scene = 0;
  Hashed content;
  uint64_t phash = 0;  // OpenCV img_hash PHash of the whole 32×32 frame, as imagededup's phash
};

bool Load(const fs::path& path, int scene, Image& image) {
  auto decoded = transform::DecodeToFrames(transform::testing::ReadFileBytes(path), {});
  if (!decoded.ok() || decoded->frames.empty()) return false;
  image.name = path.filename().string();
  image.scene = scene;
  const auto& planar = decoded->frames.front().planar;  // stills: one frame
  image.phash = transform::PerceptualHash(planar, 32);
  AppendFrame(planar, image.content);
  return true;
}

// Whether `rule` joins `a` to a group that `b` founded (a probing with its eight orientations).
bool Accepts(const Hashed& a, const Hashed& b, const memes::store::MatchRule& rule) {
  memes::store::NearDupIndex index(rule.IndexRadius());
  index.Add(b.own[0], 1, b.own_thumbs, false, b.own_second[0], true, b.own_second_thumbs);
  return index
      .NearestAccepted(a.probes, a.probe_thumbs, rule, a.probe_second, a.probe_second_thumbs,
                       nullptr, 8)
      .has_value();
}

}  // namespace

bool ViewpointPairs(const fs::path& dir, const memes::store::MatchRule& rule) {
  std::vector<Image> images;
  int scene = 0;
  for (const auto& [a, b] : ScenePairs()) {
    Image first, second;
    if (!Load(dir / a, scene, first) || !Load(dir / b, scene, second)) {
      std::fprintf(stderr, "viewpoint: %s or %s missing or undecodable in %s\n", a.c_str(),
                   b.c_str(), dir.string().c_str());
      return false;
    }
    images.push_back(std::move(first));
    images.push_back(std::move(second));
    ++scene;
  }
  const int pairs = scene;
  // Every other still in the folder: a scene of its own (more pairs of different scenes).
  std::vector<fs::path> others;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".png" && ext != ".jpg") continue;
    const std::string name = entry.path().filename().string();
    if (std::none_of(images.begin(), images.end(), [&](const Image& i) { return i.name == name; }))
      others.push_back(entry.path());
  }
  std::sort(others.begin(), others.end());
  for (const fs::path& path : others) {
    Image image;
    if (Load(path, scene, image)) {
      images.push_back(std::move(image));
      ++scene;
    }
  }
  struct Method {
    std::string name;
    int together = 0;                // scene pairs put together
    int wrong = 0;                   // pairs of different scenes put together
    std::vector<int> bits;           // per scene pair: the hash distance the method reads
    std::vector<std::string> pairs;  // the pairs it put together, scene pairs first
  };
  std::array<Method, 3> methods;
  methods[0].name = "OpenCV PHash of the whole frame, Hamming <= 10 (imagededup's phash rule)";
  methods[1].name = "content hash, Hamming <= 10, 8 orientations";
  methods[2].name = "the default verified rule (store::MatchRule), 8 orientations";
  int different = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    for (size_t j = i + 1; j < images.size(); ++j) {
      const Image &a = images[i], &b = images[j];
      const bool same = a.scene == b.scene;
      different += !same;
      const int phash_bits = __builtin_popcountll(a.phash ^ b.phash);
      int content_bits = 64;
      for (uint64_t p : a.content.probes)
        content_bits = std::min(content_bits, __builtin_popcountll(p ^ b.content.own[0]));
      const bool by_verified =
          Accepts(a.content, b.content, rule) || Accepts(b.content, a.content, rule);
      const bool together[] = {phash_bits <= 10, content_bits <= 10, by_verified};
      const int bits[] = {phash_bits, content_bits, content_bits};
      for (size_t m = 0; m < methods.size(); ++m) {
        Method& method = methods[m];
        if (same) {
          method.together += together[m];
          method.bits.push_back(bits[m]);
        } else {
          method.wrong += together[m];
        }
        if (together[m]) {
          const std::string pair = a.name + " / " + b.name;
          if (same) {
            method.pairs.insert(method.pairs.begin(), pair);
          } else {
            method.pairs.push_back(pair + " (different scenes)");
          }
        }
      }
    }
  }
  std::printf(
      "\n## Scene pairs of OpenCV's example images (%d pairs of one scene seen twice, %zu "
      "stills, %d pairs of different scenes)\n\n| method | scene pairs together | pairs of "
      "different scenes together | median bits within a scene pair |\n|---|---|---|---|\n",
      pairs, images.size(), different);
  for (const Method& method : methods) {
    std::vector<int> bits = method.bits;
    std::nth_element(bits.begin(), bits.begin() + bits.size() / 2, bits.end());
    std::printf("| %s | %d of %d (%.1f %%) | %d (%.2f %%) | %d |\n", method.name.c_str(),
                method.together, pairs, 100.0 * method.together / pairs, method.wrong,
                100.0 * method.wrong / std::max(1, different), bits[bits.size() / 2]);
  }
  std::printf("\npairs the verified rule puts together:\n");
  for (const std::string& pair : methods[2].pairs) std::printf("- %s\n", pair.c_str());
  return true;
}

}  // namespace memes::bench
