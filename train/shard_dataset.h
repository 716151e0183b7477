// Packed CIFAR-10-layout shards, memory-mapped and checked before anyone trusts them.
//
// A folder holds data_batch_1.bin … data_batch_N.bin (the train split), test_batch.bin (the test
// split), batches.meta.txt (class names, one a line) and, when memes packed it, dataset.json
// (sizes, sha256 of every file, classes, mean/std). Original CIFAR-10 folders have no
// dataset.json: the class count then comes from batches.meta.txt and mean/std are computed.
// Thread-safety: immutable after Open(); any number of threads may read records concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/image_settings.h"
#include "core/status.h"
#include "store/shard_reader.h"

namespace memes::train {

enum class Split { kTrain, kTest };

struct ShardOpenOptions {
  bool verify_hashes = true;  // sha256 of every file read against dataset.json (when present)
  // false: only test_batch.bin is mapped and checked (eval reads nothing else, so a damaged
  // training shard does not stop it); size(Split::kTrain) is then 0. Requires has_manifest()
  // for mean/std, which otherwise come from the training split.
  bool load_train = true;
};

class ShardDataset {
 public:
  // Maps and checks every shard: record size, file sizes and hashes against dataset.json, label
  // range. A failure names the file (and the record, where one is at fault).
  static Result<ShardDataset> Open(const std::filesystem::path& folder,
                                   const ShardOpenOptions& options = {});

  int image_size() const { return image_size_; }
  size_t record_bytes() const { return record_bytes_; }
  const std::vector<std::string>& classes() const { return classes_; }
  int num_classes() const { return static_cast<int>(classes_.size()); }
  // Per-channel mean and std of the training split, on the 0..1 scale.
  const std::array<float, 3>& mean() const { return mean_; }
  const std::array<float, 3>& std() const { return std_; }
  bool has_manifest() const { return has_manifest_; }
  // The image settings dataset.json records (fit, background, max_frames; size ==
  // image_size()); the defaults when it records none (an older pack, or no dataset.json), and
  // then image_settings_recorded() is false.
  const ImageSettings& image_settings() const { return image_settings_; }
  bool image_settings_recorded() const { return image_settings_recorded_; }

  size_t size(Split split) const { return records(split).size(); }
  // Record i of a split: 1 label byte then R, G, B planes of image_size² bytes each.
  // Requires: i < size(split).
  const uint8_t* record(Split split, size_t i) const { return records(split)[i]; }
  uint8_t label(Split split, size_t i) const { return records(split)[i][0]; }

 private:
  const std::vector<const uint8_t*>& records(Split split) const {
    return split == Split::kTrain ? train_ : test_;
  }

  int image_size_ = 32;
  size_t record_bytes_ = 3073;
  bool has_manifest_ = false;
  ImageSettings image_settings_;
  bool image_settings_recorded_ = false;
  std::vector<std::string> classes_;
  std::array<float, 3> mean_{};
  std::array<float, 3> std_{};
  std::vector<store::MappedShard> files_;  // store/ owns the mapping and its size check
  // Invariant: every pointer addresses a whole record inside one of files_, label < classes.
  std::vector<const uint8_t*> train_;
  std::vector<const uint8_t*> test_;
};

}  // namespace memes::train
