#include "train/test_shards.h"

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "train/batch_assembly.h"

namespace memes::train::testing {

namespace fs = std::filesystem;

namespace {
std::vector<uint8_t> Serialise(const std::vector<ShardImage>& images) {
  std::vector<uint8_t> bytes;
  for (const auto& image : images) {
    bytes.push_back(image.label);
    bytes.insert(bytes.end(), image.planar.begin(), image.planar.end());
  }
  return bytes;
}
}  // namespace

bool WriteShardFolder(const fs::path& folder, const ShardFolderSpec& spec) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) return false;
  nlohmann::json files = nlohmann::json::object();
  const size_t record_bytes = 1 + 3 * static_cast<size_t>(spec.image_size) * spec.image_size;
  auto write = [&](const std::string& name, const std::vector<ShardImage>& images) {
    const auto bytes = Serialise(images);
    std::ofstream out(folder / name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    files[name] = {{"records", bytes.size() / record_bytes},
                   {"bytes", bytes.size()},
                   {"sha256", ToHex(Sha256Of(std::span<const uint8_t>(bytes)))}};
    return static_cast<bool>(out);
  };
  for (size_t i = 0; i < spec.train_shards.size(); ++i) {
    if (!write("data_batch_" + std::to_string(i + 1) + ".bin", spec.train_shards[i])) return false;
  }
  if (!write("test_batch.bin", spec.test)) return false;
  {
    std::ofstream meta(folder / "batches.meta.txt", std::ios::trunc);
    for (const auto& name : spec.classes) meta << name << "\n";
  }
  if (!spec.write_manifest) return true;
  double sum[3] = {0, 0, 0}, squares[3] = {0, 0, 0};
  double pixels = 0;
  const size_t plane = static_cast<size_t>(spec.image_size) * spec.image_size;
  for (const auto& shard : spec.train_shards) {
    for (const auto& image : shard) {
      for (int c = 0; c < 3; ++c) {
        for (size_t i = 0; i < plane; ++i) {
          const double v = image.planar[c * plane + i] / 255.0;
          sum[c] += v;
          squares[c] += v * v;
        }
      }
      pixels += static_cast<double>(plane);
    }
  }
  std::vector<double> mean(3), std(3);
  for (int c = 0; c < 3; ++c) {
    mean[c] = pixels ? sum[c] / pixels : 0.5;
    std[c] = pixels ? std::sqrt(std::max(1e-6, squares[c] / pixels - mean[c] * mean[c])) : 0.25;
  }
  nlohmann::json counts = {{"train", nlohmann::json::object()}, {"test", nlohmann::json::object()}};
  for (size_t c = 0; c < spec.classes.size(); ++c) {
    int64_t train = 0, test = 0;
    for (const auto& shard : spec.train_shards) {
      for (const auto& image : shard) train += static_cast<size_t>(image.label) == c;
    }
    for (const auto& image : spec.test) test += static_cast<size_t>(image.label) == c;
    counts["train"][spec.classes[c]] = train;
    counts["test"][spec.classes[c]] = test;
  }
  nlohmann::json manifest = {{"format", "memes-cifar"},
                             {"format_version", 1},
                             {"image_size", spec.image_size},
                             {"channels", 3},
                             {"record_bytes", record_bytes},
                             {"classes", spec.classes},
                             {"files", files},
                             {"mean", mean},
                             {"std", std}};
  manifest["counts"] = counts;
  std::ofstream(folder / "dataset.json", std::ios::trunc) << manifest.dump(2) << "\n";
  return true;
}

ShardImage SyntheticImage(int label, int num_classes, int image_size, uint64_t seed) {
  ShardImage image;
  image.label = static_cast<uint8_t>(label);
  const size_t plane = static_cast<size_t>(image_size) * image_size;
  image.planar.resize(3 * plane);
  uint64_t state = Mix64(seed * 7919 + static_cast<uint64_t>(label));
  // Class-specific square: position on a ring, colour from the label's bits.
  const double angle = 6.2831853 * label / std::max(1, num_classes);
  const int square = std::max(2, image_size / 3);
  const int cx = static_cast<int>(image_size / 2 + image_size / 4 * std::cos(angle));
  const int cy = static_cast<int>(image_size / 2 + image_size / 4 * std::sin(angle));
  const uint8_t colour[3] = {static_cast<uint8_t>(label & 1 ? 230 : 40),
                             static_cast<uint8_t>(label & 2 ? 230 : 60),
                             static_cast<uint8_t>(label & 4 ? 230 : 80)};
  for (int y = 0; y < image_size; ++y) {
    for (int x = 0; x < image_size; ++x) {
      const bool inside = std::abs(x - cx) <= square / 2 && std::abs(y - cy) <= square / 2;
      for (int c = 0; c < 3; ++c) {
        state = Mix64(state);
        const int noise = static_cast<int>(state % 41) - 20;
        const int base = inside ? colour[c] : 128;
        image.planar[c * plane + y * image_size + x] =
            static_cast<uint8_t>(std::clamp(base + noise, 0, 255));
      }
    }
  }
  return image;
}

std::vector<ShardImage> SyntheticImages(int count, int num_classes, int image_size, uint64_t seed) {
  std::vector<ShardImage> images;
  for (int i = 0; i < count; ++i) {
    images.push_back(SyntheticImage(i % num_classes, num_classes, image_size, seed + i));
  }
  return images;
}

}  // namespace memes::train::testing
