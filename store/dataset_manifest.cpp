#include "store/dataset_manifest.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "store/file_util.h"

namespace memes::store {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

// dataset.json of a pack with 256 classes and 10^5 shard files is well under this; anything
// bigger is not ours and is refused before parsing.
constexpr size_t kMaxManifestBytes = 16u << 20;
// Pack writes nesting depth 3; a deep "[[[[…" is refused before the parser sees it.
constexpr int kMaxNesting = 16;

// The deepest [ / { nesting outside strings, stopping early past `limit`.
int NestingDepth(std::span<const uint8_t> text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (uint8_t c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}')
      --depth;
    if (deepest > limit) break;
  }
  return deepest;
}

std::string Shown(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// Field checks: each returns the value or an error naming the field and what it expected.
class Fields {
 public:
  explicit Fields(std::string where) : where_(std::move(where)) {}

  Status Error(const std::string& field, const std::string& expected, const Json* found) const {
    std::string message = "field '" + field + "': expected " + expected;
    if (found) message += ", found " + Shown(*found);
    return Corrupt(message, where_);
  }

  Result<const Json*> Get(const Json& object, const std::string& key, const std::string& field,
                          bool required) const {
    const auto it = object.find(key);
    if (it == object.end()) {
      if (required) return Error(field, "a value (it is missing)", nullptr);
      return static_cast<const Json*>(nullptr);
    }
    return &*it;
  }

  Result<int64_t> Integer(const Json& value, const std::string& field, int64_t min,
                          int64_t max) const {
    const std::string expected =
        "an integer in " + std::to_string(min) + ".." + std::to_string(max);
    if (value.is_number_unsigned()) {
      const uint64_t v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(max) || static_cast<int64_t>(v) < min) {
        return Error(field, expected, &value);
      }
      return static_cast<int64_t>(v);
    }
    if (value.is_number_integer()) {
      const int64_t v = value.get<int64_t>();
      if (v < min || v > max) return Error(field, expected, &value);
      return v;
    }
    return Error(field, expected, &value);
  }

  Result<uint64_t> Unsigned(const Json& value, const std::string& field) const {
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    if (value.is_number_integer() && value.get<int64_t>() >= 0) {
      return static_cast<uint64_t>(value.get<int64_t>());
    }
    return Error(field, "a non-negative integer", &value);
  }

  Result<std::string> String(const Json& value, const std::string& field) const {
    if (!value.is_string()) return Error(field, "a string", &value);
    return value.get<std::string>();
  }

  Result<std::vector<double>> Triple(const Json& value, const std::string& field,
                                     double min) const {
    const std::string expected = "3 finite numbers >= " + std::to_string(min).substr(0, 3);
    if (!value.is_array() || value.size() != 3) return Error(field, expected, &value);
    std::vector<double> numbers;
    for (const Json& item : value) {
      if (!item.is_number()) return Error(field, expected, &value);
      const double v = item.get<double>();
      if (!std::isfinite(v) || v < min) return Error(field, expected, &value);
      numbers.push_back(v);
    }
    return numbers;
  }

 private:
  std::string where_;
};

bool IsLowerHex64(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ReadCounts(const Fields& fields, const Json& json, const char* key,
                  DatasetManifest& manifest) {
  auto& counts = std::string(key) == "train" ? manifest.train_counts : manifest.test_counts;
  counts.assign(manifest.classes.size(), -1);
  const Json& all = json.at("counts");
  if (!all.is_object()) return fields.Error("counts", "an object", &all);
  MEMES_ASSIGN_OR_RETURN(const Json* split,
                         fields.Get(all, key, std::string("counts.") + key, false));
  if (!split) return Status::Ok();
  if (!split->is_object()) return fields.Error(std::string("counts.") + key, "an object", split);
  std::map<std::string, size_t> index;
  for (size_t c = 0; c < manifest.classes.size(); ++c) index[manifest.classes[c]] = c;
  for (const auto& [name, value] : split->items()) {
    const std::string field = std::string("counts.") + key + "." + name;
    const auto it = index.find(name);
    if (it == index.end()) return fields.Error(field, "a class named in 'classes'", nullptr);
    MEMES_ASSIGN_OR_RETURN(counts[it->second],
                           fields.Integer(value, field, 0, std::numeric_limits<int64_t>::max()));
  }
  return Status::Ok();
}

// fit, background and max_frames: all three or none (a dataset.json of an older memes).
Status ReadImageSettings(const Fields& fields, const Json& json, DatasetManifest& manifest) {
  MEMES_ASSIGN_OR_RETURN(const Json* fit, fields.Get(json, "fit", "fit", false));
  MEMES_ASSIGN_OR_RETURN(const Json* background,
                         fields.Get(json, "background", "background", false));
  MEMES_ASSIGN_OR_RETURN(const Json* max_frames,
                         fields.Get(json, "max_frames", "max_frames", false));
  if (!fit && !background && !max_frames) return Status::Ok();
  MEMES_RETURN_IF_ERROR(fields.Get(json, "fit", "fit", true).status());
  MEMES_RETURN_IF_ERROR(fields.Get(json, "background", "background", true).status());
  MEMES_RETURN_IF_ERROR(fields.Get(json, "max_frames", "max_frames", true).status());
  const auto mode = fit->is_string() ? ParseFitMode(fit->get<std::string>()) : std::nullopt;
  if (!mode) return fields.Error("fit", "\"pad\", \"crop\" or \"stretch\"", fit);
  manifest.image.fit = *mode;
  if (!background->is_string() ||
      !ParseBackgroundHex(background->get<std::string>(), manifest.image.background)) {
    return fields.Error("background", "an RGB colour of 6 hex digits like \"ffffff\"", background);
  }
  MEMES_ASSIGN_OR_RETURN(const int64_t frames,
                         fields.Integer(*max_frames, "max_frames", 1, kMaxFramesKept));
  manifest.image.max_frames = static_cast<int>(frames);
  manifest.image_settings_recorded = true;
  return Status::Ok();
}

Result<DatasetManifest> ParseChecked(const Json& json, const std::string& where) {
  const Fields fields(where);
  DatasetManifest manifest;
  if (!json.is_object()) return Corrupt("not a JSON object", where);

  MEMES_ASSIGN_OR_RETURN(const Json* format, fields.Get(json, "format", "format", true));
  if (!format->is_string() || format->get<std::string>() != "memes-cifar") {
    return Unsupported("field 'format' is " + Shown(*format) + ", not \"memes-cifar\"", where);
  }
  MEMES_ASSIGN_OR_RETURN(const Json* version,
                         fields.Get(json, "format_version", "format_version", true));
  MEMES_ASSIGN_OR_RETURN(const int64_t format_version,
                         fields.Integer(*version, "format_version", 0, 1'000'000));
  if (format_version != 1) {
    return Unsupported("format_version " + std::to_string(format_version) + " (this memes reads 1)",
                       where);
  }
  manifest.format_version = 1;

  MEMES_ASSIGN_OR_RETURN(const Json* size, fields.Get(json, "image_size", "image_size", true));
  MEMES_ASSIGN_OR_RETURN(const int64_t image_size,
                         fields.Integer(*size, "image_size", 1, kMaxManifestImageSize));
  manifest.image_size = static_cast<int>(image_size);
  manifest.image.size = manifest.image_size;
  MEMES_RETURN_IF_ERROR(ReadImageSettings(fields, json, manifest));
  MEMES_ASSIGN_OR_RETURN(const Json* channels, fields.Get(json, "channels", "channels", true));
  MEMES_ASSIGN_OR_RETURN(const int64_t channel_count, fields.Integer(*channels, "channels", 3, 3));
  manifest.channels = static_cast<int>(channel_count);
  // Invariant: at most 1 + 3·4096² = 50 331 649, so it fits an int and any 64-bit product
  // records × record_bytes below is checked against the file size rather than trusted.
  const int64_t record_bytes = 1 + 3 * image_size * image_size;
  MEMES_ASSIGN_OR_RETURN(const Json* record,
                         fields.Get(json, "record_bytes", "record_bytes", true));
  MEMES_ASSIGN_OR_RETURN(const int64_t listed_record_bytes,
                         fields.Integer(*record, "record_bytes", 1, INT32_MAX));
  if (listed_record_bytes != record_bytes) {
    return Corrupt("field 'record_bytes' is " + std::to_string(listed_record_bytes) +
                       ", but 1 + channels × image_size² is " + std::to_string(record_bytes),
                   where);
  }
  manifest.record_bytes = static_cast<int>(record_bytes);

  MEMES_ASSIGN_OR_RETURN(const Json* classes, fields.Get(json, "classes", "classes", true));
  if (!classes->is_array() || classes->empty() || classes->size() > kMaxManifestClasses) {
    return fields.Error("classes", "an array of 1..256 class names", classes);
  }
  std::set<std::string> seen;
  for (const Json& name : *classes) {
    if (!name.is_string()) return fields.Error("classes", "class names as strings", &name);
    std::string text = name.get<std::string>();
    if (text.empty() || text.find_first_of("\n\r") != std::string::npos) {
      return fields.Error("classes", "non-empty names without line breaks", &name);
    }
    if (!seen.insert(text).second) return fields.Error("classes", "distinct names", &name);
    manifest.classes.push_back(std::move(text));
  }

  MEMES_ASSIGN_OR_RETURN(const Json* files, fields.Get(json, "files", "files", true));
  if (!files->is_object()) return fields.Error("files", "an object", files);
  for (const auto& [name, entry] : files->items()) {
    const std::string field = "files." + name;
    if (!IsSafeShardFileName(name)) {
      return Corrupt("field '" + field + "': not a plain file name of the shards folder", where);
    }
    if (!entry.is_object()) return fields.Error(field, "an object", &entry);
    ManifestFile file{name, 0, 0, ""};
    MEMES_ASSIGN_OR_RETURN(const Json* bytes, fields.Get(entry, "bytes", field + ".bytes", true));
    MEMES_ASSIGN_OR_RETURN(file.bytes, fields.Unsigned(*bytes, field + ".bytes"));
    MEMES_ASSIGN_OR_RETURN(const Json* sha, fields.Get(entry, "sha256", field + ".sha256", true));
    MEMES_ASSIGN_OR_RETURN(file.sha256, fields.String(*sha, field + ".sha256"));
    if (!IsLowerHex64(file.sha256)) {
      return fields.Error(field + ".sha256", "64 lower-case hex digits", sha);
    }
    if (name.ends_with(".bin")) {
      MEMES_ASSIGN_OR_RETURN(const Json* records,
                             fields.Get(entry, "records", field + ".records", true));
      MEMES_ASSIGN_OR_RETURN(file.records, fields.Unsigned(*records, field + ".records"));
      // 64-bit, without overflow: records × record_bytes == bytes.
      const uint64_t rb = static_cast<uint64_t>(record_bytes);
      if (file.bytes % rb != 0 || file.bytes / rb != file.records) {
        return Corrupt("field '" + field + "': " + std::to_string(file.records) + " records of " +
                           std::to_string(rb) + " bytes do not make " + std::to_string(file.bytes) +
                           " bytes",
                       where);
      }
    }
    manifest.files[name] = std::move(file);
  }
  for (int i = 1; manifest.files.count("data_batch_" + std::to_string(i) + ".bin"); ++i) {
    manifest.train_files.push_back("data_batch_" + std::to_string(i) + ".bin");
  }
  if (manifest.files.count("test_batch.bin")) manifest.test_file = "test_batch.bin";

  for (const char* key : {"mean", "std"}) {
    MEMES_ASSIGN_OR_RETURN(const Json* value, fields.Get(json, key, key, true));
    MEMES_ASSIGN_OR_RETURN((std::string(key) == "mean" ? manifest.mean : manifest.std),
                           fields.Triple(*value, key, 0.0));
  }
  if (json.contains("counts")) {
    MEMES_RETURN_IF_ERROR(ReadCounts(fields, json, "train", manifest));
    MEMES_RETURN_IF_ERROR(ReadCounts(fields, json, "test", manifest));
  } else {
    manifest.train_counts.assign(manifest.classes.size(), -1);
    manifest.test_counts.assign(manifest.classes.size(), -1);
  }
  MEMES_ASSIGN_OR_RETURN(const Json* augment, fields.Get(json, "augment", "augment", false));
  if (augment) {
    MEMES_ASSIGN_OR_RETURN(manifest.augment, fields.String(*augment, "augment"));
  }
  MEMES_ASSIGN_OR_RETURN(const Json* rotate, fields.Get(json, "rotate_test", "rotate_test", false));
  if (rotate) {
    if (!rotate->is_boolean()) return fields.Error("rotate_test", "true or false", rotate);
    manifest.rotate_test = rotate->get<bool>();
  }
  return manifest;
}

template <typename T>
Result<T> ParseNumber(std::string_view text, int base, const std::string& field,
                      const std::string& where) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return Corrupt("field '" + field + "': not a number: '" + std::string(text.substr(0, 40)) + "'",
                   where);
  }
  return value;
}

}  // namespace

bool IsSafeShardFileName(std::string_view name) {
  if (name.empty() || name.size() > 255 || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

Result<DatasetManifest> ParseManifest(std::span<const uint8_t> bytes, const std::string& where) {
  if (bytes.size() > kMaxManifestBytes) {
    return LimitExceeded("larger than " + std::to_string(kMaxManifestBytes >> 20) +
                             " MiB: not a dataset.json written by memes",
                         where);
  }
  if (NestingDepth(bytes, kMaxNesting) > kMaxNesting) {
    return Corrupt("JSON nested deeper than " + std::to_string(kMaxNesting) + " levels", where);
  }
  const Json json = Json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return Corrupt("not valid JSON", where);
  // Every access above is type-checked first; the catch is a backstop that turns a missed
  // check into an error instead of an abort.
  try {
    return ParseChecked(json, where);
  } catch (const Json::exception& error) {
    return Corrupt(std::string("unexpected structure: ") + error.what(), where);
  }
}

Result<DatasetManifest> ReadManifest(const fs::path& dir) {
  const fs::path path = dir / "dataset.json";
  MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, ReadWholeFile(path));
  return ParseManifest(bytes, path.string());
}

Result<IndexRow> ParseIndexRow(std::string_view line, const DatasetManifest& manifest,
                               const std::string& where) {
  std::vector<std::string_view> fields;
  for (size_t start = 0;;) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
    if (tab == std::string_view::npos) break;
    if (fields.size() > 8) break;
    start = tab + 1;
  }
  if (!line.empty() && line.back() == '\r') {
    return Corrupt("line ends in a carriage return (index.tsv is LF-separated)", where);
  }
  if (fields.size() != 8) {
    return Corrupt(
        (fields.size() > 8 ? std::string("more than 8") : std::to_string(fields.size())) +
            " tab-separated fields, expected 8",
        where);
  }
  IndexRow row;
  row.file = std::string(fields[0]);
  const auto file = manifest.files.find(row.file);
  if (!IsSafeShardFileName(row.file) || !row.file.ends_with(".bin") ||
      file == manifest.files.end()) {
    return Corrupt("field 'file': '" + std::string(fields[0].substr(0, 80)) +
                       "' is not a shard listed in dataset.json",
                   where);
  }
  MEMES_ASSIGN_OR_RETURN(row.record, ParseNumber<uint64_t>(fields[1], 10, "record", where));
  if (row.record >= file->second.records) {
    return Corrupt("field 'record': " + std::to_string(row.record) + " is past the end of " +
                       row.file + " (" + std::to_string(file->second.records) + " records)",
                   where);
  }
  row.blob = std::string(fields[2]);
  MEMES_ASSIGN_OR_RETURN(row.frame, ParseNumber<int>(fields[3], 10, "frame", where));
  MEMES_ASSIGN_OR_RETURN(row.rotation, ParseNumber<int>(fields[4], 10, "rotation", where));
  if (row.rotation < 0 || row.rotation > 3) {
    return Corrupt("field 'rotation': " + std::to_string(row.rotation) + " is not 0..3", where);
  }
  MEMES_ASSIGN_OR_RETURN(row.label, ParseNumber<int>(fields[5], 10, "label", where));
  if (row.label < 0 || static_cast<size_t>(row.label) >= manifest.classes.size()) {
    return Corrupt("field 'label': " + std::to_string(row.label) + " is not below the " +
                       std::to_string(manifest.classes.size()) + " classes",
                   where);
  }
  row.class_name = std::string(fields[6]);
  if (fields[7].size() != 8) return Corrupt("field 'crc32': not 8 hex digits", where);
  MEMES_ASSIGN_OR_RETURN(row.crc32, ParseNumber<uint32_t>(fields[7], 16, "crc32", where));
  return row;
}

}  // namespace memes::store
