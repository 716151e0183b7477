// Helpers shared by transform's tests: reading files, the gdk-pixbuf test images, and encoders
// that build small inputs in memory (PNG/APNG chunk by chunk, animated WebP, an MP4 clip).
// Test-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace memes::transform::testing {

// /usr/libexec/installed-tests/gdk-pixbuf/test-images (Debian's gdk-pixbuf-tests).
std::filesystem::path PixbufImages();
// /usr/libexec/installed-tests/gdk-pixbuf: real files (aero.gif 56 frames, 1_partyanimsm2.gif 45).
std::filesystem::path PixbufTests();

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);

// Encodes an OpenCV image (BGR, BGRA or grey) with cv::imencode: ".png", ".jpg", ".bmp".
std::vector<uint8_t> Encode(const cv::Mat& image, const std::string& extension);

// PNG written chunk by chunk (stored deflate blocks), so tests can build palette PNGs and APNGs.
class PngWriter {
 public:
  // color_type: 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; bit depth 8.
  PngWriter(int width, int height, int color_type);
  void Chunk(const char type[4], const std::vector<uint8_t>& data);
  // Raw scanlines: height rows of width*channels bytes (no filter byte; added here).
  std::vector<uint8_t> ImageData(const std::vector<uint8_t>& pixels, int width, int height) const;
  void Idat(const std::vector<uint8_t>& pixels) {
    Chunk("IDAT", ImageData(pixels, width_, height_));
  }
  // APNG: acTL, then per frame fcTL (+ IDAT for the first, fdAT for the others).
  void AnimationControl(int frames);
  void FrameControl(int width, int height, int delay_ms, int dispose = 0, int blend = 0);
  void FrameData(const std::vector<uint8_t>& pixels, int width, int height);
  std::vector<uint8_t> Finish();

 private:
  int width_, height_, channels_;
  uint32_t sequence_ = 0;
  std::vector<uint8_t> bytes_;
};

// An animated WebP (WebPAnimEncoder) of RGBA frames, each shown `delay_ms`.
std::vector<uint8_t> EncodeAnimatedWebp(const std::vector<cv::Mat>& rgba_frames, int delay_ms);

// A fragmented MP4 of BGR frames encoded with libavcodec's mpeg4 encoder at `fps`.
// Empty when this FFmpeg build has no mpeg4 encoder.
std::vector<uint8_t> EncodeMp4(const std::vector<cv::Mat>& bgr_frames, int fps);

// The planar (3, S, S) value of pixel (x, y) in channel c.
inline uint8_t PlanarAt(const std::vector<uint8_t>& planar, int size, int c, int x, int y) {
  return planar[size_t(c) * size * size + size_t(y) * size + x];
}

// An APP1 Exif segment (big-endian TIFF) holding only Orientation (tag 0x0112) = `orientation`,
// to splice into a JPEG right after its SOI marker.
std::vector<uint8_t> ExifOrientationSegment(uint16_t orientation);

}  // namespace memes::transform::testing
