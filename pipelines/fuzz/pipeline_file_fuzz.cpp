// libFuzzer target over the pipeline-file loader (pipelines/pipeline_file.h, ParsePipelineText:
// toml++ parsing, every section's checks, folder-named classes). No LibTorch: pipeline_file.cpp
// is compiled in directly. Build: -DMEMES_FUZZ=ON with clang (store/fuzz/README.md); seeds:
// pipelines/fuzz/corpus. Besides "no crash, no sanitizer report": an error names the file, an
// accepted config has 1..256 classes and a source.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "pipelines/pipeline_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // A base folder that does not exist: folder sources find no subfolders, nothing is read.
  const auto config =
      memes::pipelines::ParsePipelineText(text, "fuzz.toml", "/nonexistent-memes-fuzz-base");
  if (!config.ok()) {
    if (config.status().message().find("fuzz.toml") == std::string::npos) std::abort();
    return 0;
  }
  if (config->classes.empty() || config->classes.size() > 256) std::abort();
  return 0;
}
