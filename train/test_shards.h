// Test and benchmark helper: writes a CIFAR-10-layout shard folder directly (bytes, dataset.json,
// batches.meta.txt) so train/ can be tested without store/. Not part of memes_train.
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace memes::train::testing {

struct ShardImage {
  uint8_t label = 0;
  std::vector<uint8_t> planar;  // 3*S*S: R plane, G plane, B plane
};

struct ShardFolderSpec {
  int image_size = 32;
  std::vector<std::string> classes;
  std::vector<std::vector<ShardImage>> train_shards;  // one vector per data_batch_<i+1>.bin
  std::vector<ShardImage> test;
  bool write_manifest = true;  // dataset.json with sizes, sha256, mean/std
};

// Writes the folder (created if missing). Returns false on an I/O error.
bool WriteShardFolder(const std::filesystem::path& folder, const ShardFolderSpec& spec);

// A learnable synthetic image of class `label`: a bright square in a class-specific position
// and colour over mild noise. Same (label, seed) -> same image.
ShardImage SyntheticImage(int label, int num_classes, int image_size, uint64_t seed);

// `count` synthetic images cycling through the classes.
std::vector<ShardImage> SyntheticImages(int count, int num_classes, int image_size, uint64_t seed);

}  // namespace memes::train::testing
