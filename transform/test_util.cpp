#include "transform/test_util.h"

#include <fstream>
#include <iterator>

#include <opencv2/imgcodecs.hpp>

namespace memes::transform::testing {

std::filesystem::path PixbufImages() {
  return "/usr/libexec/installed-tests/gdk-pixbuf/test-images";
}

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> Encode(const cv::Mat& image, const std::string& extension) {
  std::vector<uint8_t> bytes;
  cv::imencode(extension, image, bytes);
  return bytes;
}

}  // namespace memes::transform::testing
