// ImageFilesIn (train/train_api.h): what a folder argument of `memes predict` stands for.
// LibTorch-free.
#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "train/train_api.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

// The containers transform/sniff.h knows, by their usual extensions. Files are still sniffed by
// content when decoded; the extension only decides which files of a folder are meant as images.
bool HasImageExtension(const fs::path& path) {
  static constexpr std::array<std::string_view, 11> kExtensions = {
      ".png", ".apng", ".gif", ".jpg", ".jpeg", ".jpe", ".webp", ".bmp", ".mp4", ".m4v", ".webm"};
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kExtensions.begin(), kExtensions.end(), extension) != kExtensions.end();
}

}  // namespace

Result<std::vector<fs::path>> ImageFilesIn(const fs::path& folder) {
  std::vector<fs::path> files;
  std::error_code error;
  fs::recursive_directory_iterator it(folder, fs::directory_options::none, error);
  if (error) return IoError("cannot list: " + error.message(), folder.string());
  for (const fs::recursive_directory_iterator end; it != end; it.increment(error)) {
    if (error) break;
    const std::string name = it->path().filename().string();
    if (name.starts_with(".")) {
      if (it->is_directory(error)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(error) && HasImageExtension(it->path())) files.push_back(it->path());
  }
  if (error) return IoError("cannot list: " + error.message(), folder.string());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace memes::train
