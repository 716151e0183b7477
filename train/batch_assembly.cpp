#include "train/batch_assembly.h"

#include <algorithm>
#include <cassert>

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

namespace memes::train {

NormalizeTable::NormalizeTable(const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) values[c][v] = (v / 255.0f - mean[c]) / std[c];
  }
}

ImageAugment DrawAugment(uint64_t seed, uint64_t key, const AugmentOptions& options) {
  const uint64_t bits = SplitMix64(SplitMix64(seed) ^ key);
  ImageAugment augment;
  if (options.random_crop && options.padding > 0) {
    const uint64_t span = 2 * options.padding + 1;
    augment.shift_x = static_cast<int>(bits % span) - options.padding;
    augment.shift_y = static_cast<int>((bits >> 16) % span) - options.padding;
  }
  augment.flip = options.horizontal_flip && ((bits >> 40) & 1);
  return augment;
}

namespace {

// out(c, y, x) = table(c, in(c, y + shift_y, x' + shift_x)) where x' = flip ? S-1-x : x;
// pixels shifted in from outside are 0 (the normalised mean).
void WriteImage(const uint8_t* planar, int size, const NormalizeTable& table,
                const ImageAugment& augment, float* out) {
  const int x_begin = std::max(0, -augment.shift_x);
  const int x_end = std::min(size, size - augment.shift_x);
  for (int c = 0; c < 3; ++c) {
    const float* lut = table.values[c].data();
    const uint8_t* plane = planar + static_cast<size_t>(c) * size * size;
    for (int y = 0; y < size; ++y) {
      float* row = out + (static_cast<size_t>(c) * size + y) * size;
      const int source_y = y + augment.shift_y;
      if (source_y < 0 || source_y >= size || x_begin >= x_end) {
        std::fill(row, row + size, 0.0f);
        continue;
      }
      const uint8_t* source = plane + static_cast<size_t>(source_y) * size + augment.shift_x;
      if (!augment.flip) {
        std::fill(row, row + x_begin, 0.0f);
        for (int x = x_begin; x < x_end; ++x) row[x] = lut[source[x]];
        std::fill(row + x_end, row + size, 0.0f);
      } else {
        // Flipped: column x of the output is column S-1-x of the shifted image.
        float* mirrored = row + size - 1;
        std::fill(row, row + size - x_end, 0.0f);
        for (int x = x_begin; x < x_end; ++x) mirrored[-x] = lut[source[x]];
        std::fill(row + size - x_begin, row + size, 0.0f);
      }
    }
  }
}

}  // namespace

void AssembleBatch(const ShardDataset& dataset, Split split, std::span<const uint32_t> indices,
                   const NormalizeTable& table, bool augment, const AugmentOptions& options,
                   uint64_t seed, std::span<float> out, std::span<int64_t> labels) {
  const int size = dataset.image_size();
  const size_t image_floats = 3 * static_cast<size_t>(size) * size;
  assert(out.size() == indices.size() * image_floats);
  assert(labels.size() == indices.size());
  // Grain 16: ~50 µs of work per task, enough to amortise scheduling, small enough that a
  // 128-image batch still spreads over every core.
  tbb::parallel_for(tbb::blocked_range<size_t>(0, indices.size(), 16),
                    [&](const tbb::blocked_range<size_t>& range) {
                      for (size_t i = range.begin(); i != range.end(); ++i) {
                        const uint8_t* record = dataset.record(split, indices[i]);
                        labels[i] = record[0];
                        ImageAugment draw =
                            augment ? DrawAugment(seed, i, options) : ImageAugment{};
                        if (augment && options.alternate_flip) {
                          const bool coin = SplitMix64(options.flip_seed ^ indices[i]) & 1;
                          draw.flip = coin != options.odd_epoch;
                        }
                        WriteImage(record + 1, size, table, draw, out.data() + i * image_floats);
                      }
                    });
}

void NormalizeImage(const uint8_t* planar, int image_size, const NormalizeTable& table, bool flip,
                    float* out) {
  ImageAugment augment;
  augment.flip = flip;
  WriteImage(planar, image_size, table, augment, out);
}

}  // namespace memes::train
