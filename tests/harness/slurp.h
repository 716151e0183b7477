// Whole-file reads for end-to-end tests, which compare what the binary wrote byte for byte.
// Thread-safe: a pure function.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace memes::testing {

// The bytes of `path`; empty when it cannot be read (the test's own checks then fail).
inline std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace memes::testing
