#include "pipelines/demo_stickers.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>

#include <opencv2/freetype.hpp>
#include <opencv2/imgproc.hpp>

#include "core/log.h"

namespace memes::pipelines::demo {
namespace {

// BGRA colours.
cv::Scalar Bgra(int r, int g, int b, int a = 255) { return cv::Scalar(b, g, r, a); }

struct Pose {
  double cx, cy, radius;  // face circle, in pixels
  double eye_open;        // 0 closed … 1 open
  double mouth_open;      // 0 … 1
  double tilt;            // degrees, for ears
};

void Eyes(cv::Mat& img, const Pose& p, const cv::Scalar& colour, double spread = 0.38,
          double height = 0.1) {
  for (int side : {-1, 1}) {
    const cv::Point centre(cvRound(p.cx + side * spread * p.radius),
                           cvRound(p.cy - height * p.radius));
    const int rx = std::max(1, cvRound(0.11 * p.radius));
    const int ry = std::max(1, cvRound(0.11 * p.radius * std::max(0.12, p.eye_open)));
    cv::ellipse(img, centre, {rx, ry}, 0, 0, 360, colour, cv::FILLED, cv::LINE_AA);
  }
}

void Mouth(cv::Mat& img, const Pose& p, const cv::Scalar& colour, double y = 0.35) {
  const cv::Point centre(cvRound(p.cx), cvRound(p.cy + y * p.radius));
  const int width = cvRound(0.28 * p.radius);
  if (p.mouth_open > 0.3) {
    cv::ellipse(img, centre, {width, std::max(1, cvRound(0.18 * p.radius * p.mouth_open))}, 0, 0,
                360, colour, cv::FILLED, cv::LINE_AA);
  } else {
    cv::ellipse(img, centre, {width, cvRound(0.12 * p.radius)}, 0, 10, 170, colour,
                std::max(1, cvRound(p.radius / 25)), cv::LINE_AA);
  }
}

void Face(cv::Mat& img, const Pose& p, const cv::Scalar& colour) {
  cv::circle(img, {cvRound(p.cx), cvRound(p.cy)}, cvRound(p.radius), colour, cv::FILLED,
             cv::LINE_AA);
}

void Ears(cv::Mat& img, const Pose& p, const cv::Scalar& colour, bool pointed) {
  for (int side : {-1, 1}) {
    const double angle = (side < 0 ? 225.0 : 315.0 + 0.0) * CV_PI / 180.0 + p.tilt * CV_PI / 180;
    const cv::Point base(cvRound(p.cx + std::cos(angle) * p.radius * 0.85),
                         cvRound(p.cy + std::sin(angle) * p.radius * 0.85));
    if (pointed) {
      const cv::Point tip(cvRound(p.cx + side * p.radius * 0.85), cvRound(p.cy - p.radius * 1.35));
      const cv::Point inner(cvRound(p.cx + side * p.radius * 0.2), cvRound(p.cy - p.radius * 0.9));
      std::vector<cv::Point> triangle = {base, tip, inner};
      cv::fillConvexPoly(img, triangle, colour, cv::LINE_AA);
    } else {
      cv::circle(img, base, cvRound(p.radius * 0.33), colour, cv::FILLED, cv::LINE_AA);
    }
  }
}

void DrawMushroomHead(cv::Mat& img, const Pose& p, std::mt19937_64& rng) {
  const int shade = std::uniform_int_distribution<int>(150, 200)(rng);
  Face(img, p, Bgra(250, 230, 200));
  // The mushroom cap: a wide half-ellipse over the top of the head.
  cv::ellipse(img, {cvRound(p.cx), cvRound(p.cy - 0.15 * p.radius)},
              {cvRound(1.25 * p.radius), cvRound(0.95 * p.radius)}, 0, 180, 360,
              Bgra(shade - 60, shade - 110, 40), cv::FILLED, cv::LINE_AA);
  Eyes(img, p, Bgra(20, 20, 20), 0.35, -0.2);
  Mouth(img, {p.cx, p.cy + 0.1 * p.radius, p.radius, p.eye_open, p.mouth_open, p.tilt},
        Bgra(120, 30, 30));
}

void DrawKumamon(cv::Mat& img, const Pose& p, std::mt19937_64&) {
  Ears(img, p, Bgra(15, 15, 15), false);
  Face(img, p, Bgra(15, 15, 15));
  cv::ellipse(img, {cvRound(p.cx), cvRound(p.cy + 0.3 * p.radius)},
              {cvRound(0.42 * p.radius), cvRound(0.3 * p.radius)}, 0, 0, 360, Bgra(245, 245, 245),
              cv::FILLED, cv::LINE_AA);
  for (int side : {-1, 1}) {  // the red cheeks
    cv::circle(img, {cvRound(p.cx + side * 0.62 * p.radius), cvRound(p.cy + 0.22 * p.radius)},
               cvRound(0.2 * p.radius), Bgra(220, 30, 30), cv::FILLED, cv::LINE_AA);
  }
  Eyes(img, p, Bgra(250, 250, 250), 0.36, 0.2);
  Mouth(img, {p.cx, p.cy + 0.1 * p.radius, p.radius, p.eye_open, p.mouth_open, p.tilt},
        Bgra(30, 30, 30));
}

void DrawPandaHead(cv::Mat& img, const Pose& p, std::mt19937_64&) {
  Ears(img, p, Bgra(10, 10, 10), false);
  Face(img, p, Bgra(250, 250, 250));
  for (int side : {-1, 1}) {  // the black eye patches
    cv::ellipse(img, {cvRound(p.cx + side * 0.38 * p.radius), cvRound(p.cy - 0.08 * p.radius)},
                {cvRound(0.22 * p.radius), cvRound(0.3 * p.radius)}, side * 30, 0, 360,
                Bgra(10, 10, 10), cv::FILLED, cv::LINE_AA);
  }
  Eyes(img, p, Bgra(255, 255, 255), 0.38, 0.08);
  Mouth(img, p, Bgra(10, 10, 10));
}

void DrawShiba(cv::Mat& img, const Pose& p, std::mt19937_64& rng) {
  const int orange = std::uniform_int_distribution<int>(170, 230)(rng);
  Ears(img, p, Bgra(orange, 120, 40), true);
  Face(img, p, Bgra(orange, 130, 50));
  cv::ellipse(img, {cvRound(p.cx), cvRound(p.cy + 0.35 * p.radius)},
              {cvRound(0.7 * p.radius), cvRound(0.55 * p.radius)}, 0, 0, 360, Bgra(255, 245, 230),
              cv::FILLED, cv::LINE_AA);
  Eyes(img, p, Bgra(30, 20, 10));
  cv::circle(img, {cvRound(p.cx), cvRound(p.cy + 0.15 * p.radius)}, cvRound(0.09 * p.radius),
             Bgra(20, 20, 20), cv::FILLED, cv::LINE_AA);
  Mouth(img, {p.cx, p.cy + 0.05 * p.radius, p.radius, p.eye_open, p.mouth_open, p.tilt},
        Bgra(90, 30, 20));
}

void DrawCat(cv::Mat& img, const Pose& p, std::mt19937_64& rng) {
  const int grey = std::uniform_int_distribution<int>(110, 170)(rng);
  Ears(img, p, Bgra(grey, grey, grey + 10), true);
  Face(img, p, Bgra(grey, grey, grey + 10));
  Eyes(img, p, Bgra(240, 220, 40));
  for (int side : {-1, 1}) {  // whiskers
    for (int k = -1; k <= 1; ++k) {
      cv::line(
          img, {cvRound(p.cx + side * 0.25 * p.radius), cvRound(p.cy + 0.2 * p.radius)},
          {cvRound(p.cx + side * 1.05 * p.radius), cvRound(p.cy + (0.1 + 0.12 * k) * p.radius)},
          Bgra(30, 30, 30), std::max(1, cvRound(p.radius / 40)), cv::LINE_AA);
    }
  }
  Mouth(img, p, Bgra(200, 80, 100));
}

void DrawFrog(cv::Mat& img, const Pose& p, std::mt19937_64& rng) {
  const int green = std::uniform_int_distribution<int>(150, 210)(rng);
  for (int side : {-1, 1}) {  // eye bulges on top of the head
    cv::circle(img, {cvRound(p.cx + side * 0.45 * p.radius), cvRound(p.cy - 0.75 * p.radius)},
               cvRound(0.35 * p.radius), Bgra(60, green, 60), cv::FILLED, cv::LINE_AA);
  }
  cv::ellipse(img, {cvRound(p.cx), cvRound(p.cy)},
              {cvRound(1.1 * p.radius), cvRound(0.85 * p.radius)}, 0, 0, 360, Bgra(60, green, 60),
              cv::FILLED, cv::LINE_AA);
  Eyes(img, {p.cx, p.cy - 0.65 * p.radius, p.radius, p.eye_open, p.mouth_open, p.tilt},
       Bgra(10, 10, 10), 0.45, 0.1);
  cv::ellipse(img, {cvRound(p.cx), cvRound(p.cy + 0.25 * p.radius)},
              {cvRound(0.7 * p.radius), cvRound(0.2 * p.radius * (0.3 + p.mouth_open))}, 0, 0, 180,
              Bgra(150, 30, 40), cv::FILLED, cv::LINE_AA);
}

using DrawFn = void (*)(cv::Mat&, const Pose&, std::mt19937_64&);
constexpr DrawFn kDrawers[] = {DrawMushroomHead, DrawKumamon, DrawPandaHead,
                               DrawShiba,        DrawCat,     DrawFrog};

const std::vector<std::string>& Captions() {
  static const std::vector<std::string> captions = {
      "哈哈哈", "好的", "我太难了", "冲鸭", "OK", "LOL", "yes!", "no", "谢谢", "bye", "", ""};
  return captions;
}

// FreeType with a CJK font, loaded once; null when the font is not installed.
cv::freetype::FreeType2* CaptionFont() {
  static std::once_flag once;
  static cv::Ptr<cv::freetype::FreeType2> font;
  std::call_once(once, [] {
    if (!std::filesystem::exists(CaptionFontPath())) return;
    font = cv::freetype::createFreeType2();
    font->loadFontData(CaptionFontPath(), 0);
  });
  return font.get();
}

void Caption(cv::Mat& img, const std::string& text, int size) {
  if (text.empty()) return;
  const int height = std::max(8, size / 6);
  const cv::Scalar ink = Bgra(20, 20, 20);
  static std::mutex font_mutex;  // FreeType2 objects are not thread-safe
  if (cv::freetype::FreeType2* font = CaptionFont()) {
    // FreeType2::putText draws on 3-channel images only: draw black on white, then use the
    // darkness as coverage of the ink on the BGRA sticker.
    cv::Mat layer(img.size(), CV_8UC3, cv::Scalar(255, 255, 255));
    {
      std::lock_guard lock(font_mutex);
      int baseline = 0;
      const cv::Size extent = font->getTextSize(text, height, -1, &baseline);
      font->putText(layer, text, {(size - extent.width) / 2, size - 3}, height, cv::Scalar(0, 0, 0),
                    -1, cv::LINE_AA, true);
    }
    for (int y = 0; y < img.rows; ++y) {
      const cv::Vec3b* in = layer.ptr<cv::Vec3b>(y);
      cv::Vec4b* out = img.ptr<cv::Vec4b>(y);
      for (int x = 0; x < img.cols; ++x) {
        const int coverage = 255 - in[x][1];
        if (coverage == 0) continue;
        for (int c = 0; c < 3; ++c) {
          out[x][c] =
              static_cast<uint8_t>((ink[c] * coverage + out[x][c] * (255 - coverage)) / 255);
        }
        out[x][3] = static_cast<uint8_t>(std::max<int>(out[x][3], coverage));
      }
    }
    return;
  }
  // No CJK font: Latin captions only, with OpenCV's built-in Hershey font.
  if (static_cast<unsigned char>(text[0]) >= 0x80) return;
  const double scale = height / 24.0;
  int baseline = 0;
  const cv::Size extent = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  cv::putText(img, text, {(size - extent.width) / 2, size - 3}, cv::FONT_HERSHEY_SIMPLEX, scale,
              ink, 1, cv::LINE_AA);
}

}  // namespace

const char* CaptionFontPath() { return "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"; }

cv::Ptr<cv::freetype::FreeType2> LoadCaptionFont() {
  if (!std::filesystem::exists(CaptionFontPath())) return {};
  try {
    cv::Ptr<cv::freetype::FreeType2> font = cv::freetype::createFreeType2();
    font->loadFontData(CaptionFontPath(), 0);
    return font;
  } catch (const cv::Exception& e) {
    MEMES_LOG(kWarning) << CaptionFontPath() << ": cannot load font: " << e.what();
    return {};
  }
}

bool IsAscii(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::vector<cv::Mat> DrawSticker(const StickerSpec& spec, int size) {
  std::mt19937_64 rng(spec.seed * 0x9E3779B97F4A7C15ULL + spec.style);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const cv::Scalar background = spec.transparent
                                    ? cv::Scalar(0, 0, 0, 0)
                                    : Bgra(std::uniform_int_distribution<int>(170, 255)(rng),
                                           std::uniform_int_distribution<int>(170, 255)(rng),
                                           std::uniform_int_distribution<int>(170, 255)(rng));
  const double radius = size * (0.26 + 0.08 * unit(rng));
  const double cx = size * (0.42 + 0.16 * unit(rng));
  const double cy = size * (0.45 + 0.1 * unit(rng));
  const double tilt = -15 + 30 * unit(rng);
  const std::string caption = Captions()[rng() % Captions().size()];
  const uint64_t draw_seed = rng();

  std::vector<cv::Mat> frames;
  for (int f = 0; f < spec.frames; ++f) {
    const double phase = spec.frames > 1 ? 2 * CV_PI * f / spec.frames : 0.0;
    Pose pose{cx,
              cy - (spec.frames > 1 ? 0.08 * size * std::abs(std::sin(phase)) : 0.0),
              radius,
              spec.frames > 1 ? 0.5 + 0.5 * std::cos(phase) : 0.4 + 0.6 * unit(rng),
              spec.frames > 1 ? 0.5 - 0.5 * std::cos(phase) : unit(rng),
              tilt};
    cv::Mat img(size, size, CV_8UC4, background);
    std::mt19937_64 draw_rng(draw_seed);  // same colours in every frame of one sticker
    kDrawers[spec.style % kStyles](img, pose, draw_rng);
    Caption(img, caption, size);
    frames.push_back(img);
  }
  return frames;
}

}  // namespace memes::pipelines::demo
