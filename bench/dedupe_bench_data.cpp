#include "bench/dedupe_bench_data.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "transform/frames.h"
#include "transform/orientation.h"
#include "transform/test_util.h"

namespace memes::bench {

namespace fs = std::filesystem;
using transform::testing::PngWriter;

namespace {

std::vector<uint8_t> Png(const cv::Mat& image) {
  std::vector<uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return bytes;
}

// BGRA on white → BGR.
cv::Mat OnWhite(const cv::Mat& bgra) {
  if (bgra.channels() != 4) return bgra.clone();
  cv::Mat out(bgra.size(), CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);
      cv::Vec3b& q = out.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c)
        q[c] = static_cast<uint8_t>((p[c] * p[3] + 255 * (255 - p[3])) / 255);
    }
  }
  return out;
}

cv::Mat ToBgra(const cv::Mat& image) {
  cv::Mat out;
  if (image.channels() == 4) return image.clone();
  if (image.channels() == 3) cv::cvtColor(image, out, cv::COLOR_BGR2BGRA);
  if (image.channels() == 1) cv::cvtColor(image, out, cv::COLOR_GRAY2BGRA);
  return out;
}

using Colour = std::array<int, 3>;  // R, G, B

// `bgra` as a palette PNG: `entries` the palette, one more index transparent; a pixel with
// alpha < 128 becomes it (GIF's 1-bit transparency), every other one index_of(its colour).
template <typename IndexOf>
std::vector<uint8_t> PalettePngOf(const cv::Mat& bgra, const std::vector<Colour>& entries,
                                  IndexOf&& index_of) {
  const size_t transparent = entries.size();
  std::vector<uint8_t> palette, alpha(entries.size() + 1, 255);
  for (const Colour& e : entries)
    palette.insert(palette.end(), {uint8_t(e[0]), uint8_t(e[1]), uint8_t(e[2])});
  palette.insert(palette.end(), {0, 0, 0});
  alpha[transparent] = 0;
  PngWriter png(bgra.cols, bgra.rows, 3);
  png.Chunk("PLTE", palette);
  png.Chunk("tRNS", alpha);
  std::vector<uint8_t> indices;
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);
      indices.push_back(
          static_cast<uint8_t>(p[3] < 128 ? transparent : index_of(Colour{p[2], p[1], p[0]})));
    }
  }
  png.Idat(indices);
  return png.Finish();
}

// 6×6×6 colour cube + one transparent index, alpha cut at 128: what a GIF conversion does to a
// sticker (256 colours at most, 1-bit transparency), written as a palette PNG.
std::vector<uint8_t> PalettePng(const cv::Mat& bgra) {
  std::vector<Colour> cube;
  for (int r = 0; r < 6; ++r) {
    for (int g = 0; g < 6; ++g) {
      for (int b = 0; b < 6; ++b) cube.push_back({r * 51, g * 51, b * 51});
    }
  }
  auto level = [](int v) { return (v + 25) / 51; };
  return PalettePngOf(bgra, cube, [&](const Colour& c) {
    return static_cast<size_t>(level(c[0]) * 36 + level(c[1]) * 6 + level(c[2]));
  });
}

// An adaptive palette, as GIF encoders build one now (ffmpeg's palettegen, gifsicle, ImageMagick):
// median cut of the opaque pixels' colours into at most 255 boxes (the box with the widest
// channel range split at its median along that channel), each box's mean colour a palette entry,
// every opaque pixel mapped to the nearest entry; one transparent index, alpha cut at 128; no
// dithering. Written as a palette PNG.
std::vector<uint8_t> AdaptivePalettePng(const cv::Mat& bgra) {
  std::vector<Colour> opaque;
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);
      if (p[3] >= 128) opaque.push_back({p[2], p[1], p[0]});
    }
  }
  // Boxes as [begin, end) ranges of `opaque`, reordered in place as they split.
  std::vector<std::pair<size_t, size_t>> boxes;
  if (!opaque.empty()) boxes.emplace_back(0, opaque.size());
  auto widest = [&](const std::pair<size_t, size_t>& box) {
    int best_channel = 0, best_range = -1;
    for (int c = 0; c < 3; ++c) {
      int lo = 255, hi = 0;
      for (size_t i = box.first; i < box.second; ++i) {
        lo = std::min(lo, opaque[i][c]);
        hi = std::max(hi, opaque[i][c]);
      }
      if (hi - lo > best_range) best_range = hi - lo, best_channel = c;
    }
    return std::pair(best_range, best_channel);
  };
  while (boxes.size() < 255) {
    size_t split = boxes.size();
    int range = 0, channel = 0;
    for (size_t b = 0; b < boxes.size(); ++b) {
      const auto [r, c] = widest(boxes[b]);
      if (r > range) range = r, channel = c, split = b;
    }
    if (split == boxes.size()) break;  // every box one colour
    auto [begin, end] = boxes[split];
    const size_t middle = begin + (end - begin) / 2;
    std::nth_element(opaque.begin() + begin, opaque.begin() + middle, opaque.begin() + end,
                     [c = channel](const Colour& a, const Colour& b) { return a[c] < b[c]; });
    boxes[split] = {begin, middle};
    boxes.emplace_back(middle, end);
  }
  std::vector<Colour> entries;
  for (const auto& [begin, end] : boxes) {
    Colour sum{};
    for (size_t i = begin; i < end; ++i)
      for (int c = 0; c < 3; ++c) sum[c] += opaque[i][c];
    const int n = static_cast<int>(end - begin);
    entries.push_back({(sum[0] + n / 2) / n, (sum[1] + n / 2) / n, (sum[2] + n / 2) / n});
  }
  return PalettePngOf(bgra, entries, [&](const Colour& c) {
    size_t best = 0;
    int best_distance = INT32_MAX;
    for (size_t e = 0; e < entries.size(); ++e) {
      const int dr = entries[e][0] - c[0], dg = entries[e][1] - c[1], db = entries[e][2] - c[2];
      const int distance = dr * dr + dg * dg + db * db;
      if (distance < best_distance) best_distance = distance, best = e;
    }
    return best;
  });
}

cv::Mat Shifted(const cv::Mat& bgra, double dx, double dy, double scale) {
  const cv::Point2f centre(bgra.cols / 2.0f, bgra.rows / 2.0f);
  cv::Mat m = cv::getRotationMatrix2D(centre, 0, scale);
  m.at<double>(0, 2) += dx;
  m.at<double>(1, 2) += dy;
  cv::Mat out;
  cv::warpAffine(bgra, out, m, bgra.size(), cv::INTER_AREA, cv::BORDER_CONSTANT,
                 cv::Scalar(0, 0, 0, 0));
  return out;
}

// An 8-frame APNG that wobbles (shift ±3 px, scale ±6 %) and its frames.
std::vector<uint8_t> Wobble(const cv::Mat& bgra, std::vector<cv::Mat>& frames) {
  PngWriter png(bgra.cols, bgra.rows, 6);
  png.AnimationControl(8);
  for (int k = 0; k < 8; ++k) {
    const double phase = k * 3.14159265 / 4;
    frames.push_back(
        Shifted(bgra, 3 * std::sin(phase), 2 * std::cos(phase), 1 + 0.06 * std::sin(phase)));
    cv::Mat rgba;
    cv::cvtColor(frames.back(), rgba, cv::COLOR_BGRA2RGBA);
    png.FrameControl(bgra.cols, bgra.rows, 100);
    png.FrameData(std::vector<uint8_t>(rgba.data, rgba.data + rgba.total() * 4), bgra.cols,
                  bgra.rows);
  }
  return png.Finish();
}

std::vector<uint8_t> Positive(const std::string& transform, const cv::Mat& bgra,
                              std::mt19937_64& random) {
  std::uniform_real_distribution<double> unit(0, 1);
  if (transform == "jpeg") {
    std::vector<uint8_t> bytes;
    cv::imencode(".jpg", OnWhite(bgra), bytes,
                 {cv::IMWRITE_JPEG_QUALITY, 60 + static_cast<int>(random() % 36)});
    return bytes;
  }
  if (transform == "rescale") {
    const double factor = std::exp(std::log(0.5) + unit(random) * std::log(4.0));  // 0.5–2×
    cv::Mat out;
    cv::resize(bgra, out, {}, factor, factor, factor < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
    return Png(out);
  }
  if (transform == "pad") {
    // Letterbox to a 4:3 or 3:4 (or wider) canvas, transparent or white bars.
    const int extra = static_cast<int>(bgra.cols * (0.2 + 0.4 * unit(random)));
    cv::Mat out;
    const cv::Scalar bar = random() % 2 ? cv::Scalar(0, 0, 0, 0) : cv::Scalar(255, 255, 255, 255);
    if (random() % 2) {
      cv::copyMakeBorder(bgra, out, 0, 0, extra / 2, extra - extra / 2, cv::BORDER_CONSTANT, bar);
    } else {
      cv::copyMakeBorder(bgra, out, extra / 2, extra - extra / 2, 0, 0, cv::BORDER_CONSTANT, bar);
    }
    return Png(out);
  }
  if (transform == "crop") {
    // Up to 10 % of the width and of the height cut, split at random between the sides.
    const int cut_x = static_cast<int>(bgra.cols * 0.10 * unit(random));
    const int cut_y = static_cast<int>(bgra.rows * 0.10 * unit(random));
    const int left = static_cast<int>(cut_x * unit(random)),
              top = static_cast<int>(cut_y * unit(random));
    return Png(bgra(cv::Rect(left, top, bgra.cols - cut_x, bgra.rows - cut_y)).clone());
  }
  if (transform == "caption") {
    cv::Mat out = OnWhite(bgra);
    static const char* kWords[] = {"LOL", "wow", "OK!", "meme", "haha", "2024"};
    // One draw picks the word and the edge (top or bottom, where meme captions sit), so the
    // set's other copies keep the random stream they had when captions were bottom-only.
    const uint64_t draw = random();
    const std::string word = kWords[draw % 6];
    const bool top = (draw / 6) % 2 == 1;
    const double scale = out.cols / 160.0;
    int baseline = 0;
    const cv::Size text = cv::getTextSize(word, cv::FONT_HERSHEY_SIMPLEX, scale, 3, &baseline);
    const cv::Point at(static_cast<int>(out.cols * 0.1 * unit(random)),
                       top ? 4 + text.height : out.rows - 4);
    cv::putText(out, word, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), 3,
                cv::LINE_AA);
    cv::putText(out, word, at, cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), 1,
                cv::LINE_AA);
    return Png(out);
  }
  if (transform == "jitter") {
    // Brightness ±20, contrast 0.85–1.15, one channel ±15: a colour-corrected re-upload.
    cv::Mat out = bgra.clone();
    const double contrast = 0.85 + 0.3 * unit(random), brightness = -20 + 40 * unit(random);
    const int channel = static_cast<int>(random() % 3);
    const double tint = -15 + 30 * unit(random);
    for (int y = 0; y < out.rows; ++y) {
      for (int x = 0; x < out.cols; ++x) {
        cv::Vec4b& p = out.at<cv::Vec4b>(y, x);
        for (int c = 0; c < 3; ++c) {
          p[c] =
              cv::saturate_cast<uint8_t>(p[c] * contrast + brightness + (c == channel ? tint : 0));
        }
      }
    }
    return Png(out);
  }
  if (transform == "palette") return PalettePng(bgra);
  if (transform == "palette-adaptive") return AdaptivePalettePng(bgra);
  if (transform == "rotate90") {
    cv::Mat out;
    cv::rotate(bgra, out, random() % 2 ? cv::ROTATE_90_CLOCKWISE : cv::ROTATE_90_COUNTERCLOCKWISE);
    return Png(out);
  }
  if (transform == "mirror") {
    cv::Mat out;
    cv::flip(bgra, out, 1);
    return Png(out);
  }
  if (transform == "rotate-jpeg") {
    // A turned re-upload re-encoded too (what a turned probe meets besides exact turns).
    cv::Mat out;
    cv::rotate(bgra, out, random() % 2 ? cv::ROTATE_90_CLOCKWISE : cv::ROTATE_90_COUNTERCLOCKWISE);
    std::vector<uint8_t> bytes;
    cv::imencode(".jpg", OnWhite(out), bytes,
                 {cv::IMWRITE_JPEG_QUALITY, 60 + static_cast<int>(random() % 36)});
    return bytes;
  }
  return {};
}

}  // namespace

const std::vector<std::string>& PositiveTransforms() {
  static const std::vector<std::string> kTransforms = {"jpeg",
                                                       "rescale",
                                                       "pad",
                                                       "crop",
                                                       "caption",
                                                       "jitter",
                                                       "palette",
                                                       "rotate90",
                                                       "mirror",
                                                       "anim-first",
                                                       "anim-middle",
                                                       "rotate-jpeg",
                                                       "palette-adaptive"};
  return kTransforms;
}

std::vector<std::string> g_twin_pairs;

namespace {

// An emoji's pixels with scale and placement taken off: composited on white, cropped to the
// box of its opaque pixels, resized to 32×32 (area average). nullopt: not decodable or empty.
std::optional<cv::Mat> Normalised(const std::vector<uint8_t>& bytes) {
  const cv::Mat bgra = ToBgra(cv::imdecode(bytes, cv::IMREAD_UNCHANGED));
  if (bgra.empty()) return std::nullopt;
  std::vector<cv::Mat> channels;
  cv::split(bgra, channels);
  const cv::Rect box = cv::boundingRect(channels[3] > 16);
  if (box.area() == 0) return std::nullopt;
  cv::Mat out;
  cv::resize(OnWhite(bgra)(box), out, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  return out;
}

// Gives emoji originals (and other-vendor drawings) that are pixel twins up to one of the eight
// orientations and a scale one truth: on the normalised 32×32, mean absolute difference under 3
// levels a channel and no 4×4 block differing by 16 or more in grey (an 8×8 mean first, to
// skip the rest). Copies follow their original's truth.
void JoinTwins(std::vector<BenchItem>& items) {
  struct Picture {
    int truth;
    std::string name;
    std::array<cv::Mat, 8> oriented;  // 32×32 BGR in the eight orientations
    std::array<cv::Mat, 8> coarse;    // the same, 8×8
  };
  std::vector<Picture> pictures;
  for (const BenchItem& item : items) {
    if (item.transform != "original" && item.transform != "other-vendor") continue;
    const auto normalised = Normalised(item.bytes);
    if (!normalised) continue;
    Picture picture{item.truth, item.name, {}, {}};
    for (int k = 0; k < 8; ++k) {
      picture.oriented[k] = transform::Oriented(*normalised, k);
      cv::resize(picture.oriented[k], picture.coarse[k], cv::Size(8, 8), 0, 0, cv::INTER_AREA);
    }
    pictures.push_back(std::move(picture));
  }
  std::map<int, int> parent;
  std::function<int(int)> find = [&](int t) {
    auto it = parent.find(t);
    if (it == parent.end() || it->second == t) return t;
    return it->second = find(it->second);
  };
  auto mean_difference = [](const cv::Mat& a, const cv::Mat& b) {
    return cv::norm(a, b, cv::NORM_L1) / (a.total() * a.channels());
  };
  // The largest mean difference over any 4×4 block: a clock's hand or a mouth that differs in
  // one place is not a twin, however small the mean over the whole picture.
  auto peak_difference = [](const cv::Mat& a, const cv::Mat& b) {
    cv::Mat difference, grey, block;
    cv::absdiff(a, b, difference);
    cv::cvtColor(difference, grey, cv::COLOR_BGR2GRAY);
    cv::blur(grey, block, cv::Size(4, 4));
    double peak = 0;
    cv::minMaxLoc(block, nullptr, &peak);
    return peak;
  };
  g_twin_pairs.clear();
  for (size_t i = 0; i < pictures.size(); ++i) {
    for (size_t j = i + 1; j < pictures.size(); ++j) {
      if (find(pictures[i].truth) == find(pictures[j].truth)) continue;
      for (int k = 0; k < 8; ++k) {
        if (mean_difference(pictures[i].coarse[k], pictures[j].coarse[0]) > 6) continue;
        if (mean_difference(pictures[i].oriented[k], pictures[j].oriented[0]) >= 3 ||
            peak_difference(pictures[i].oriented[k], pictures[j].oriented[0]) >= 16)
          continue;
        parent[find(pictures[j].truth)] = find(pictures[i].truth);
        g_twin_pairs.push_back(pictures[i].name + " " + pictures[j].name);
        break;
      }
    }
  }
  for (BenchItem& item : items) item.truth = find(item.truth);
}

}  // namespace

std::vector<BenchItem> BuildBenchSet(const BenchSetOptions& options) {
  std::map<std::string, std::string> category;  // "1f600.png" -> "Smileys & Emotion"
  {
    std::ifstream in(options.emoji_json);
    const auto json = nlohmann::json::parse(in, nullptr, false);
    if (json.is_array()) {
      for (const auto& e : json) category[e.value("image", "")] = e.value("category", "");
    }
  }
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(options.google)) {
    const std::string name = entry.path().filename().string();
    const bool skin_tone =
        name.find("1f3fb") != std::string::npos || name.find("1f3fc") != std::string::npos ||
        name.find("1f3fd") != std::string::npos || name.find("1f3fe") != std::string::npos ||
        name.find("1f3ff") != std::string::npos;
    if (!skin_tone && fs::exists(options.twitter / name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  // A spread of `originals` names over the sorted list (every category, not the first ones).
  std::vector<std::string> chosen;
  const size_t want = std::min(names.size(), static_cast<size_t>(options.originals));
  for (size_t i = 0; i < want; ++i) chosen.push_back(names[i * names.size() / want]);

  std::mt19937_64 random(options.seed);
  std::vector<BenchItem> items, later;
  int truth = 0;
  for (const std::string& name : chosen) {
    const auto bytes = transform::testing::ReadFileBytes(options.google / name);
    cv::Mat bgra = ToBgra(cv::imdecode(bytes, cv::IMREAD_UNCHANGED));
    if (bgra.empty()) continue;
    const std::string cat = category.count(name) ? category[name] : "unknown";
    const int id = truth++;
    items.push_back({bytes, id, "original", cat, name});
    for (const std::string& transform : PositiveTransforms()) {
      if (transform.rfind("anim-", 0) == 0) continue;
      if (transform == "rotate-jpeg" || transform == "palette-adaptive") {
        // Added after the set's other figures were recorded: a random stream of its own and its
        // items after every emoji copy, so the other copies are made as before (the bench
        // shuffles the whole set into arrival order, which more items do change).
        std::mt19937_64 own(options.seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(id));
        later.push_back({Positive(transform, bgra, own), id, transform, cat, name});
        continue;
      }
      items.push_back({Positive(transform, bgra, random), id, transform, cat, name});
    }
    std::vector<cv::Mat> frames;
    const int anim = id;  // the same picture, animated: one truth
    items.push_back({Wobble(bgra, frames), anim, "animation", cat, name});
    items.push_back({Png(frames[0]), anim, "anim-first", cat, name});
    items.push_back({Png(frames[4]), anim, "anim-middle", cat, name});
    items.push_back({transform::testing::ReadFileBytes(options.twitter / name), truth++,
                     "other-vendor", cat, "twitter/" + name});
  }
  items.insert(items.end(), later.begin(), later.end());
  if (options.twins) JoinTwins(items);
  if (!options.gif_suite.empty() && fs::exists(options.gif_suite)) {
    std::vector<fs::path> gifs;
    for (const auto& entry : fs::recursive_directory_iterator(options.gif_suite)) {
      if (entry.path().extension() == ".gif") gifs.push_back(entry.path());
    }
    std::sort(gifs.begin(), gifs.end());
    transform::DecodeOptions decode;
    decode.max_frames = 64;
    decode.drop_near_duplicates = false;
    decode.keep_full_size = true;
    std::vector<std::pair<std::vector<uint8_t>, int>> gif_truths;  // first frame -> truth
    for (const fs::path& gif : gifs) {
      const auto bytes = transform::testing::ReadFileBytes(gif);
      auto decoded = transform::DecodeToFrames(bytes, decode);
      if (!decoded.ok() || decoded->frames.size() < 3) continue;
      auto still = [&](const transform::Frame& frame) {
        cv::Mat rgb(frame.full_height, frame.full_width, CV_8UC3,
                    const_cast<uint8_t*>(frame.full_rgb.data()));
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        return Png(bgr);
      };
      // Test files that differ only in delays or disposal of identical pixels are one picture.
      int id = -1;
      for (const auto& [first, known] : gif_truths) {
        if (first == decoded->frames.front().planar) id = known;
      }
      if (id < 0) {
        id = truth++;
        gif_truths.emplace_back(decoded->frames.front().planar, id);
      }
      const std::string name = gif.filename().string();
      items.push_back({bytes, id, "animation", "gif-suite", name});
      items.push_back({still(decoded->frames.front()), id, "anim-first", "gif-suite", name});
      items.push_back({still(decoded->frames[decoded->frames.size() / 2]), id, "anim-middle",
                       "gif-suite", name});
    }
  }
  return items;
}

}  // namespace memes::bench
