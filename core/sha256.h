// SHA-256 (OpenSSL EVP) for blob names and shard checksums.
// Thread-safe: Sha256 objects are independent; share none between threads.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace memes {

using Digest = std::array<uint8_t, 32>;

// Incremental hasher: Update() any number of times, then Finish() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view bytes);
  // Requires: called once; the object is spent afterwards.
  Digest Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Digest Sha256Of(std::span<const uint8_t> bytes);
Digest Sha256Of(std::string_view bytes);
// Streams the file; an error names the path.
Result<Digest> Sha256OfFile(const std::filesystem::path& path);

// Lower-case hex, 64 characters.
std::string ToHex(const Digest& digest);

}  // namespace memes
