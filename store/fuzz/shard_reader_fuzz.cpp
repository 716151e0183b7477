// libFuzzer target over the readers of a shards folder that verify, train and preview use
// (store/dataset_manifest.h, store/shard_reader.h). The first byte picks the mode:
//   0: ParseManifest on the rest (dataset.json text);
//   1: ParseIndexRow on each line of the rest, against a fixed valid manifest;
//   2: a whole folder: the rest split at "\n--8<--\n" into dataset.json, index.tsv,
//      data_batch_1.bin, test_batch.bin and batches.meta.txt, written to a private folder, then
//      VerifyShards and OpenSplit, touching every byte of every mapped record.
// Build: -DMEMES_FUZZ=ON with clang (store/fuzz/README.md); seeds: store/fuzz/corpus/shards.
// Besides "no crash, no sanitizer report": every error names dataset.json or the line, and an
// accepted manifest keeps its invariants (record_bytes = 1 + 3·S², bytes = records × record).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "store/dataset_manifest.h"
#include "store/file_util.h"
#include "store/shard_reader.h"

namespace {

namespace fs = std::filesystem;
using namespace memes::store;

void CheckInvariants(const DatasetManifest& manifest) {
  const uint64_t s = static_cast<uint64_t>(manifest.image_size);
  if (s < 1 || s > kMaxManifestImageSize) std::abort();
  if (static_cast<uint64_t>(manifest.record_bytes) != 1 + 3 * s * s) std::abort();
  if (manifest.classes.empty() || manifest.classes.size() > 256) std::abort();
  if (manifest.mean.size() != 3 || manifest.std.size() != 3) std::abort();
  if (manifest.train_counts.size() != manifest.classes.size()) std::abort();
  for (const auto& [name, file] : manifest.files) {
    if (!IsSafeShardFileName(name)) std::abort();
    if (name.ends_with(".bin") && (file.bytes % manifest.record_bytes != 0 ||
                                   file.bytes / manifest.record_bytes != file.records)) {
      std::abort();
    }
  }
}

const DatasetManifest& FixedManifest() {
  static const DatasetManifest manifest = [] {
    const std::string text = R"({"format":"memes-cifar","format_version":1,"image_size":2,
      "channels":3,"record_bytes":13,"classes":["a","b","c"],
      "files":{"data_batch_1.bin":{"records":5,"bytes":65,"sha256":")" +
                             std::string(64, '0') + R"("},
               "test_batch.bin":{"records":1,"bytes":13,"sha256":")" +
                             std::string(64, '1') + R"("}},
      "mean":[0.5,0.5,0.5],"std":[0.25,0.25,0.25]})";
    auto parsed = ParseManifest(
        std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), "fixed");
    if (!parsed.ok()) std::abort();
    return std::move(parsed).value();
  }();
  return manifest;
}

void FuzzIndexLines(std::string_view text) {
  const DatasetManifest& manifest = FixedManifest();
  size_t start = 0;
  for (int line = 1; start <= text.size() && line < 10000; ++line) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto row = ParseIndexRow(text.substr(start, end - start), manifest, "index.tsv:1");
    if (row.ok()) {
      const auto file = manifest.files.find(row->file);
      if (file == manifest.files.end() || row->record >= file->second.records) std::abort();
      if (row->label < 0 || row->label >= 3 || row->rotation < 0 || row->rotation > 3) std::abort();
    } else if (row.status().where() != "index.tsv:1") {
      std::abort();
    }
    start = end + 1;
  }
}

void FuzzFolder(std::string_view text) {
  static const fs::path dir =
      fs::temp_directory_path() / ("memes-shard-fuzz-" + std::to_string(::getpid()));
  static const bool made = [] {
    SetDurableWrites(false);
    fs::create_directories(dir);
    return true;
  }();
  (void)made;
  const char* names[] = {"dataset.json", "index.tsv", "data_batch_1.bin", "test_batch.bin",
                         "batches.meta.txt"};
  constexpr std::string_view kSeparator = "\n--8<--\n";
  size_t start = 0;
  for (const char* name : names) {
    size_t end = text.find(kSeparator, start);
    const bool last = end == std::string_view::npos;
    if (last) end = text.size();
    const std::string_view part = start <= text.size() ? text.substr(start, end - start) : "";
    if (!WriteFileAtomic(dir / name, part).ok()) std::abort();
    start = last ? text.size() + 1 : end + kSeparator.size();
  }
  const VerifyReport report = VerifyShards(dir, 20);
  for (const VerifyFault& fault : report.faults) {
    if (fault.file.empty() || fault.message.empty()) std::abort();
  }
  auto manifest = ReadManifest(dir);
  if (!manifest.ok()) return;
  CheckInvariants(*manifest);
  for (bool test : {false, true}) {
    auto shards = OpenSplit(dir, *manifest, test);
    if (!shards.ok()) continue;
    unsigned sum = 0;
    for (const MappedShard& shard : *shards) {
      for (uint64_t r = 0; r < shard.records(); ++r) {
        for (uint8_t byte : shard.Record(r)) sum += byte;
      }
    }
    if (sum == 0xFFFFFFFFu) std::abort();  // keeps the reads from being optimised away
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto manifest = ParseManifest(std::span(data + 1, size - 1), "dataset.json");
      if (manifest.ok()) {
        CheckInvariants(*manifest);
      } else if (manifest.status().where() != "dataset.json" ||
                 manifest.status().message().empty()) {
        std::abort();
      }
      break;
    }
    case 1:
      FuzzIndexLines(rest);
      break;
    default:
      FuzzFolder(rest);
  }
  return 0;
}
