#include "train/library_versions.h"

#include <torch/cuda.h>
#include <torch/version.h>

namespace memes::train {
std::vector<LibraryVersion> LibraryVersions() {
  std::string version = TORCH_VERSION;
  version += torch::cuda::is_available() ? " (CUDA available)" : " (CPU)";
  return {{"LibTorch", version}};
}
}  // namespace memes::train
