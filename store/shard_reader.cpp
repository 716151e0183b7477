#include "store/shard_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "core/sha256.h"
#include "store/file_util.h"
#include "store/shard_writer.h"

namespace memes::store {

namespace fs = std::filesystem;

Result<MappedShard> MappedShard::Open(const fs::path& path, int record_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return IoError("cannot open: " + ErrnoText(), path.string());
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return IoError("stat failed: " + ErrnoText(), path.string());
  const size_t size = static_cast<size_t>(info.st_size);
  if (record_bytes <= 0 || size % record_bytes != 0) {
    return Corrupt(
        std::to_string(size) + " bytes is not a multiple of " + std::to_string(record_bytes) +
            " (record " + std::to_string(size / std::max(record_bytes, 1)) +
            " is incomplete: " + std::to_string(size % std::max(record_bytes, 1)) + " bytes)",
        path.string());
  }
  MappedShard shard;
  shard.record_bytes_ = record_bytes;
  shard.size_ = size;
  if (size > 0) {
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (data == MAP_FAILED) return IoError("mmap failed: " + ErrnoText(), path.string());
    shard.data_ = static_cast<const uint8_t*>(data);
  }
  return shard;
}

MappedShard::MappedShard(MappedShard&& other) noexcept
    : data_(other.data_), size_(other.size_), record_bytes_(other.record_bytes_) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedShard& MappedShard::operator=(MappedShard&& other) noexcept {
  if (this != &other) {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
    data_ = other.data_;
    size_ = other.size_;
    record_bytes_ = other.record_bytes_;
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

MappedShard::~MappedShard() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

Result<std::vector<MappedShard>> OpenSplit(const fs::path& dir, const DatasetManifest& manifest,
                                           bool test) {
  std::vector<std::string> names = manifest.train_files;
  if (test)
    names = manifest.test_file.empty() ? std::vector<std::string>{}
                                       : std::vector<std::string>{manifest.test_file};
  std::vector<MappedShard> shards;
  for (const std::string& name : names) {
    MEMES_ASSIGN_OR_RETURN(MappedShard shard, MappedShard::Open(dir / name, manifest.record_bytes));
    const ManifestFile& listed = manifest.files.at(name);
    // Invariant after this check: every record < listed.records lies inside the mapping.
    if (shard.bytes().size() != listed.bytes || shard.records() != listed.records) {
      return Corrupt(std::to_string(shard.bytes().size()) + " bytes, dataset.json says " +
                         std::to_string(listed.bytes),
                     (dir / name).string());
    }
    shards.push_back(std::move(shard));
  }
  return shards;
}

std::string VerifyFault::ToString() const {
  std::string text = file;
  if (record >= 0) text += ": record " + std::to_string(record);
  return text + ": " + message;
}

namespace {

class Verifier {
 public:
  Verifier(fs::path dir, size_t max_faults) : dir_(std::move(dir)), max_faults_(max_faults) {}

  VerifyReport Run() {
    Result<DatasetManifest> manifest = ReadManifest(dir_);
    if (!manifest.ok()) {
      Fault("dataset.json", -1, manifest.status().message());
      return std::move(report_);
    }
    manifest_ = std::move(manifest).value();
    for (const auto& [name, file] : manifest_.files) CheckFile(file);
    CheckMeta();
    CheckIndex();
    return std::move(report_);
  }

 private:
  void Fault(const std::string& file, int64_t record, std::string message) {
    if (report_.faults.size() < max_faults_) {
      report_.faults.push_back({file, record, std::move(message)});
    }
  }

  void CheckFile(const ManifestFile& file) {
    ++report_.files_checked;
    const fs::path path = dir_ / file.name;
    std::error_code error;
    const uintmax_t size = fs::file_size(path, error);
    if (error) {
      Fault(file.name, -1, "missing or unreadable: " + error.message());
      return;
    }
    if (size != file.bytes) {
      Fault(file.name, -1,
            std::to_string(size) + " bytes, dataset.json says " + std::to_string(file.bytes));
    }
    if (file.name.ends_with(".bin")) {
      const int record_bytes = manifest_.record_bytes;
      if (size % record_bytes != 0) {
        Fault(file.name, static_cast<int64_t>(size / record_bytes),
              "incomplete record: " + std::to_string(size % record_bytes) + " of " +
                  std::to_string(record_bytes) + " bytes (file truncated?)");
      }
      if (size / record_bytes != file.records) {
        Fault(file.name, -1,
              std::to_string(size / record_bytes) + " whole records, dataset.json says " +
                  std::to_string(file.records));
      }
      CheckLabels(file, path);
    }
    Result<Digest> digest = Sha256OfFile(path);
    if (!digest.ok()) {
      Fault(file.name, -1, digest.status().message());
    } else if (ToHex(*digest) != file.sha256) {
      Fault(file.name, -1,
            "SHA-256 " + ToHex(*digest) + " differs from dataset.json's " + file.sha256 +
                " (content changed; see the record faults below)");
    }
  }

  void CheckLabels(const ManifestFile& file, const fs::path& path) {
    // Map only the whole records; a truncated tail was reported above.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return;
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0 || info.st_size == 0) return;
    const size_t size = static_cast<size_t>(info.st_size);
    void* data = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (data == MAP_FAILED) return;
    const auto* bytes = static_cast<const uint8_t*>(data);
    const uint64_t records = size / manifest_.record_bytes;
    for (uint64_t r = 0; r < records; ++r) {
      const uint8_t label = bytes[r * manifest_.record_bytes];
      if (label >= manifest_.classes.size()) {
        Fault(file.name, static_cast<int64_t>(r),
              "label " + std::to_string(label) + " >= " + std::to_string(manifest_.classes.size()) +
                  " classes");
      }
    }
    report_.records_checked += records;
    ::munmap(data, size);
  }

  void CheckMeta() {
    Result<std::vector<uint8_t>> bytes = ReadWholeFile(dir_ / "batches.meta.txt");
    if (!bytes.ok()) {
      Fault("batches.meta.txt", -1, bytes.status().message());
      return;
    }
    std::string expected;
    for (const std::string& name : manifest_.classes) expected += name + "\n";
    if (std::string(bytes->begin(), bytes->end()) != expected) {
      Fault("batches.meta.txt", -1, "class names differ from dataset.json's classes");
    }
  }

  // Each index.tsv row: file record blob frame rotation label class crc32 (ParseIndexRow
  // checks the fields and that the record is below the file's listed record count).
  void CheckIndex() {
    std::ifstream index(dir_ / "index.tsv");
    if (!index) {
      Fault("index.tsv", -1, "missing");
      return;
    }
    std::map<std::string, MappedShard> shards;
    std::map<std::string, uint64_t> rows_per_file;
    std::string line;
    std::getline(index, line);  // header
    for (int64_t line_number = 2; std::getline(index, line); ++line_number) {
      const std::string where = "index.tsv:" + std::to_string(line_number);
      Result<IndexRow> row = ParseIndexRow(line, manifest_, where);
      if (!row.ok()) {
        Fault("index.tsv", -1,
              "line " + std::to_string(line_number) + ": " + row.status().message());
        continue;
      }
      const std::string& name = row->file;
      ++rows_per_file[name];
      auto it = shards.find(name);
      if (it == shards.end()) {
        Result<MappedShard> shard = MappedShard::Open(dir_ / name, 1);  // tail checked above
        if (!shard.ok()) continue;
        it = shards.emplace(name, std::move(shard).value()).first;
      }
      const MappedShard& shard = it->second;
      const uint64_t record_bytes = manifest_.record_bytes;
      // 64-bit and overflow-free: record < listed records, and the file may be shorter.
      if (row->record >= shard.bytes().size() / record_bytes) {
        Fault(name, static_cast<int64_t>(row->record),
              "missing (" + where + " lists it; file ends)");
        continue;
      }
      const std::span<const uint8_t> bytes =
          shard.bytes().subspan(row->record * record_bytes, record_bytes);
      if (bytes[0] != row->label) {
        Fault(name, static_cast<int64_t>(row->record),
              "label byte " + std::to_string(bytes[0]) + " but " + where + " says " +
                  std::to_string(row->label) + " (" + row->class_name + ")");
      } else if (Crc32(bytes) != row->crc32) {
        Fault(name, static_cast<int64_t>(row->record),
              "pixels damaged: CRC-32 differs from " + where);
      }
    }
    for (const auto& [name, file] : manifest_.files) {
      if (name.ends_with(".bin") && rows_per_file[name] != file.records) {
        Fault("index.tsv", -1,
              std::to_string(rows_per_file[name]) + " rows for " + name + ", which has " +
                  std::to_string(file.records) + " records");
      }
    }
  }

  fs::path dir_;
  size_t max_faults_;
  DatasetManifest manifest_;
  VerifyReport report_;
};

}  // namespace

VerifyReport VerifyShards(const fs::path& dir, size_t max_faults) {
  return Verifier(dir, max_faults).Run();
}

}  // namespace memes::store
