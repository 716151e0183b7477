// Draws the demo's stickers: six styles of cartoon faces (蘑菇头, 熊本熊, 熊猫头, 柴犬, 猫, 青蛙)
// with random pose, expression, colours, captions in Chinese and English, and transparent or
// solid backgrounds; animated ones as a short loop of frames. Deterministic for a given seed.
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/freetype.hpp>

namespace memes::pipelines::demo {

// The number of drawing styles; class i of a pipeline is drawn in style i % kStyles.
inline constexpr int kStyles = 6;

struct StickerSpec {
  int style = 0;            // 0 mushroom head, 1 kumamon, 2 panda head, 3 shiba, 4 cat, 5 frog
  uint64_t seed = 0;        // pose, colours, caption
  int frames = 1;           // 1 = still
  bool transparent = true;  // alpha 0 around the sticker
};

// Returns `spec.frames` BGRA images of `size`×`size` (CV_8UC4).
std::vector<cv::Mat> DrawSticker(const StickerSpec& spec, int size = 96);

// Where the CJK font for captions is looked for; captions fall back to Latin text without it.
const char* CaptionFontPath();
// FreeType with that font (for class names like 柴犬 on `preview` and `review` sheets); null,
// with a warning when it exists but does not load, when the font is not installed.
cv::Ptr<cv::freetype::FreeType2> LoadCaptionFont();
// True when every byte is ASCII (what OpenCV's Hershey fonts can draw without FreeType).
bool IsAscii(const std::string& text);

}  // namespace memes::pipelines::demo
