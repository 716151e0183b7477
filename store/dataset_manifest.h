// The one reader of a shard folder's dataset.json and index.tsv rows (store/FORMAT.md), shared
// by `memes verify`, `memes preview` and train/'s ShardDataset, so all three agree on what a
// valid manifest is and on every bound. Hostile input is expected here (a shard folder may come
// from anywhere): every field is type-checked, every size is computed in 64 bits and checked
// before use, no exception escapes, and an error names the file and the field.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/image_settings.h"
#include "core/status.h"

namespace memes::store {

inline constexpr int kMaxManifestImageSize = kMaxImageSize;  // the store's own limit on S
inline constexpr size_t kMaxManifestClasses = 256;           // one label byte

struct ManifestFile {
  std::string name;
  uint64_t records = 0;  // .bin files only
  uint64_t bytes = 0;    // Invariant (.bin): bytes == records × record_bytes, no overflow
  std::string sha256;    // 64 lower-case hex characters
};

// dataset.json, as pack writes it (store/FORMAT.md).
struct DatasetManifest {
  int format_version = 0;
  int image_size = 0;  // 1..kMaxManifestImageSize
  // The image settings the frames were made with; image.size == image_size. dataset.json files
  // written before fit, background and max_frames were recorded read as the defaults
  // (pad, ffffff, 4: what every store made then used unless its pipeline file said otherwise),
  // and image_settings_recorded is false so that a caller can say so.
  ImageSettings image;
  bool image_settings_recorded = false;
  int channels = 0;                           // 3
  int record_bytes = 0;                       // 1 + 3·S·S
  std::vector<std::string> classes;           // 1..256 distinct, non-empty, no line breaks
  std::map<std::string, ManifestFile> files;  // names pass IsSafeShardFileName
  std::vector<std::string> train_files;       // data_batch_1.bin, data_batch_2.bin, … in order
  std::string test_file;                      // test_batch.bin, or "" when not listed
  std::vector<double> mean, std;              // per channel R, G, B on the 0..1 scale (3 each)
  // Records per class (index = label byte) in each split; -1 where dataset.json gives none.
  std::vector<int64_t> train_counts, test_counts;
  std::string augment;
  bool rotate_test = false;
};

// Parses and checks the text of a dataset.json; `where` names it in errors.
Result<DatasetManifest> ParseManifest(std::span<const uint8_t> bytes, const std::string& where);
// Reads DIR/dataset.json and parses it.
Result<DatasetManifest> ReadManifest(const std::filesystem::path& dir);

// A plain file name inside the shards folder: 1..255 characters of [A-Za-z0-9._-], not
// starting with '.', so never "..", never a path, never a hidden or temporary file.
bool IsSafeShardFileName(std::string_view name);

// One index.tsv row: file record blob frame rotation label class crc32 (tab-separated).
struct IndexRow {
  std::string file;     // a .bin file listed in the manifest
  uint64_t record = 0;  // < that file's record count
  std::string blob;
  int frame = 0;
  int rotation = 0;  // 0..3
  int label = 0;     // < classes.size()
  std::string class_name;
  uint32_t crc32 = 0;
};

// Parses one index.tsv data line against `manifest`; `where` is "index.tsv:LINE". Errors name
// the field. The record is checked against the manifest's record count of that file, so a
// caller that checked the file's size against the manifest may index it without overflow.
Result<IndexRow> ParseIndexRow(std::string_view line, const DatasetManifest& manifest,
                               const std::string& where);

}  // namespace memes::store
