#include "train/shard_dataset.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <tuple>

#include "core/log.h"
#include "core/sha256.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

// data_batch_<n>.bin files sorted by n, then test_batch.bin.
struct ShardNames {
  std::vector<std::string> train;
  std::string test;
};

Result<ShardNames> ListShards(const fs::path& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) return NotFound("not a folder of shards", folder.string());
  std::map<long, std::string> train;
  ShardNames names;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    const std::string name = entry.path().filename().string();
    if (name == "test_batch.bin") names.test = name;
    if (name.size() > 15 && name.starts_with("data_batch_") && name.ends_with(".bin")) {
      const std::string digits = name.substr(11, name.size() - 15);
      long number = 0;
      const auto [end, parsed] =
          std::from_chars(digits.data(), digits.data() + digits.size(), number);
      // Not std::stol: data_batch_99999999999999999999.bin would throw out of Open.
      if (digits.empty() || parsed != std::errc() || end != digits.data() + digits.size()) continue;
      train[number] = name;
    }
  }
  if (error) return IoError("cannot list: " + error.message(), folder.string());
  for (auto& [number, name] : train) names.train.push_back(name);
  if (names.train.empty()) return NotFound("no data_batch_*.bin shards", folder.string());
  if (names.test.empty()) return NotFound("no test_batch.bin", folder.string());
  return names;
}

std::vector<std::string> ReadMetaClasses(const fs::path& path) {
  std::vector<std::string> classes;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) classes.push_back(line);
  }
  return classes;
}

}  // namespace

Result<ShardDataset> ShardDataset::Open(const fs::path& folder, const ShardOpenOptions& options) {
  MEMES_ASSIGN_OR_RETURN(ShardNames names, ListShards(folder));
  ShardDataset dataset;
  // dataset.json goes through store/'s one checked reader (types, bounds, 64-bit sizes).
  store::DatasetManifest manifest;
  const fs::path manifest_path = folder / "dataset.json";
  if (fs::exists(manifest_path)) {
    dataset.has_manifest_ = true;
    MEMES_ASSIGN_OR_RETURN(manifest, store::ReadManifest(folder));
    dataset.image_size_ = manifest.image_size;
    dataset.image_settings_ = manifest.image;
    dataset.image_settings_recorded_ = manifest.image_settings_recorded;
    dataset.classes_ = manifest.classes;
    for (int c = 0; c < 3; ++c) {
      dataset.mean_[c] = static_cast<float>(manifest.mean[c]);
      dataset.std_[c] = static_cast<float>(manifest.std[c]);
      if (!(dataset.std_[c] > 0)) return Corrupt("std must be positive", manifest_path.string());
    }
  } else {
    dataset.classes_ = ReadMetaClasses(folder / "batches.meta.txt");
  }
  dataset.record_bytes_ = 1 + 3 * static_cast<size_t>(dataset.image_size_) * dataset.image_size_;
  dataset.image_settings_.size = dataset.image_size_;

  std::vector<std::string> all;
  if (options.load_train || !dataset.has_manifest_) all = names.train;
  all.push_back(names.test);
  int max_label = -1;
  for (const std::string& name : all) {
    const fs::path path = folder / name;
    const size_t record = dataset.record_bytes_;
    // Invariant checked by MappedShard::Open: every record is exactly record_bytes long (a
    // partial one is named in the error).
    MEMES_ASSIGN_OR_RETURN(store::MappedShard file,
                           store::MappedShard::Open(path, static_cast<int>(record)));
    const auto bytes = file.bytes();
    if (dataset.has_manifest_) {
      const auto entry = manifest.files.find(name);
      if (entry == manifest.files.end()) {
        return Corrupt("not listed in dataset.json", path.string());
      }
      const uint64_t want_bytes = entry->second.bytes;
      const uint64_t want_records = entry->second.records;
      if (want_bytes != bytes.size() || want_records != bytes.size() / record) {
        return Corrupt("has " + std::to_string(bytes.size()) + " bytes (" +
                           std::to_string(bytes.size() / record) + " records); dataset.json says " +
                           std::to_string(want_bytes) + " bytes (" + std::to_string(want_records) +
                           " records)",
                       path.string());
      }
      if (options.verify_hashes) {
        const std::string& want = entry->second.sha256;
        const std::string have = ToHex(Sha256Of(bytes));
        if (want != have) {
          return Corrupt("sha256 " + have + " does not match dataset.json (" + want + ")",
                         path.string());
        }
      }
    }
    const bool is_test = name == names.test;
    auto& records = is_test ? dataset.test_ : dataset.train_;
    for (size_t offset = 0; offset < bytes.size(); offset += record) {
      const uint8_t* at = bytes.data() + offset;
      const int label = at[0];
      if (!dataset.classes_.empty() && label >= static_cast<int>(dataset.classes_.size())) {
        return Corrupt("record " + std::to_string(offset / record) + ": label " +
                           std::to_string(label) + " out of range (" +
                           std::to_string(dataset.classes_.size()) + " classes)",
                       path.string());
      }
      max_label = std::max(max_label, label);
      records.push_back(at);
    }
    dataset.files_.push_back(std::move(file));
  }
  if (dataset.train_.empty() && (options.load_train || !dataset.has_manifest_)) {
    return Corrupt("the train split has no records", folder.string());
  }
  if (dataset.has_manifest_) {
    // Per-class record counts, when dataset.json gives them, must match the labels.
    for (const auto& [split, records, counts] :
         {std::tuple{"train", &dataset.train_, &manifest.train_counts},
          {"test", &dataset.test_, &manifest.test_counts}}) {
      if (records == &dataset.train_ && !options.load_train) continue;
      std::vector<int64_t> have(dataset.classes_.size(), 0);
      for (const uint8_t* at : *records) ++have[at[0]];
      for (size_t c = 0; c < dataset.classes_.size(); ++c) {
        const int64_t want = (*counts)[c];
        if (want >= 0 && want != have[c]) {
          return Corrupt("dataset.json counts " + std::to_string(want) + " " + split +
                             " records of '" + dataset.classes_[c] + "', the shards hold " +
                             std::to_string(have[c]),
                         manifest_path.string());
        }
      }
    }
  }
  if (dataset.classes_.empty()) {
    for (int c = 0; c <= max_label; ++c) dataset.classes_.push_back("class_" + std::to_string(c));
  }
  if (!dataset.has_manifest_) {
    // No dataset.json: per-channel mean/std over the training split, on the 0..1 scale.
    const size_t plane = static_cast<size_t>(dataset.image_size_) * dataset.image_size_;
    for (int c = 0; c < 3; ++c) {
      double sum = 0, sum_squares = 0;
      for (const uint8_t* at : dataset.train_) {
        uint64_t s = 0, s2 = 0;
        const uint8_t* pixels = at + 1 + c * plane;
        for (size_t i = 0; i < plane; ++i) {
          s += pixels[i];
          s2 += static_cast<uint64_t>(pixels[i]) * pixels[i];
        }
        sum += static_cast<double>(s);
        sum_squares += static_cast<double>(s2);
      }
      const double n = static_cast<double>(plane) * dataset.train_.size();
      const double mean = sum / n / 255.0;
      const double variance = std::max(0.0, sum_squares / n / (255.0 * 255.0) - mean * mean);
      dataset.mean_[c] = static_cast<float>(mean);
      dataset.std_[c] = static_cast<float>(std::max(std::sqrt(variance), 1e-3));
    }
  }
  MEMES_LOG(kDebug) << folder.string() << ": " << dataset.train_.size() << " train, "
                    << dataset.test_.size() << " test records, " << dataset.classes_.size()
                    << " classes";
  return dataset;
}

}  // namespace memes::train
