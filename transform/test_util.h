// Helpers shared by transform's tests: reading files, the gdk-pixbuf test images, and encoders
// that build small inputs in memory. Test-only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace memes::transform::testing {

// /usr/libexec/installed-tests/gdk-pixbuf/test-images (Debian's gdk-pixbuf-tests).
std::filesystem::path PixbufImages();

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);

// Encodes an OpenCV image (BGR, BGRA or grey) with cv::imencode: ".png", ".jpg", ".bmp".
std::vector<uint8_t> Encode(const cv::Mat& image, const std::string& extension);

// The planar (3, S, S) value of pixel (x, y) in channel c.
inline uint8_t PlanarAt(const std::vector<uint8_t>& planar, int size, int c, int x, int y) {
  return planar[size_t(c) * size * size + size_t(y) * size + x];
}

}  // namespace memes::transform::testing
