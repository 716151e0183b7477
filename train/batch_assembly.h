// Batch assembly: shard records -> augmented, normalised float batches, a whole batch at a time
// and in parallel (oneTBB), written straight into caller-owned memory (a pinned tensor on CUDA).
// Thread-safety: AssembleBatch is reentrant; it reads the dataset and writes only `out`.
#pragma once

#include "core/mix.h"

#include <array>
#include <cstdint>
#include <span>

#include "train/shard_dataset.h"

namespace memes::train {

struct AugmentOptions {
  bool random_crop = true;  // shift by up to `padding` pixels; uncovered pixels are 0 after
  int padding = 4;          // normalisation (the per-channel mean colour)
  bool horizontal_flip = true;
  // Derandomised flip (airbench, fast recipe): record r is mirrored when bit 0 of
  // Mix64(flip_seed ^ r) differs from odd_epoch, so each image alternates between its two
  // orientations from one epoch to the next instead of drawing a coin each time.
  bool alternate_flip = false;
  uint64_t flip_seed = 0;
  bool odd_epoch = false;
};

// Byte -> normalised float per channel: (v / 255 - mean[c]) / std[c].
struct NormalizeTable {
  NormalizeTable(const std::array<float, 3>& mean, const std::array<float, 3>& std);
  std::array<std::array<float, 256>, 3> values;
};

// The augmentation of one image: a pure function of (seed, key), so batches are identical
// however many threads assemble them.
struct ImageAugment {
  int shift_x = 0, shift_y = 0;
  bool flip = false;
};
ImageAugment DrawAugment(uint64_t seed, uint64_t key, const AugmentOptions& options);

// Writes images `indices` of `split` into out: (N, 3, S, S) float32 contiguous, and their
// labels into labels: (N) int64. Image i uses DrawAugment(seed, i) when `augment` is set (its
// flip replaced by the alternating one of record indices[i] under options.alternate_flip).
// Requires: out.size() == N*3*S*S, labels.size() == N, every index < dataset.size(split).
// Runs a tbb::parallel_for in the caller's task arena.
void AssembleBatch(const ShardDataset& dataset, Split split, std::span<const uint32_t> indices,
                   const NormalizeTable& table, bool augment, const AugmentOptions& options,
                   uint64_t seed, std::span<float> out, std::span<int64_t> labels);

// The same for one image's planar bytes (3 planes of S*S), without augmentation; for predict.
void NormalizeImage(const uint8_t* planar, int image_size, const NormalizeTable& table, bool flip,
                    float* out);

// SplitMix64 finaliser (core/mix.h): the hash behind every seeded draw in train/.
inline uint64_t Mix64(uint64_t x) { return SplitMix64(x); }

}  // namespace memes::train
