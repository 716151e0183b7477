#include "store/pack.h"

#include "core/mix.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <iomanip>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/progress.h"
#include "core/text.h"
#include "core/version.h"
#include "store/file_util.h"
#include "store/rotate.h"
#include "store/split.h"

namespace memes::store {

namespace fs = std::filesystem;

namespace {

// The record order key of an item: a seeded shuffle that does not depend on other items.
uint64_t OrderKey(const std::string& blob, uint64_t seed) {
  return SplitMix64(std::stoull(blob.substr(0, 16), nullptr, 16) ^ SplitMix64(seed));
}

// Holds an flock on "<out>.lock" for the life of the pack.
class PackLock {
 public:
  Status Acquire(const fs::path& path) {
    fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd_.valid()) return IoError("cannot open lock file: " + ErrnoText(), path.string());
    if (::flock(fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      return IoError("another pack is writing this folder", path.string());
    }
    return Status::Ok();
  }

 private:
  UniqueFd fd_;
};

// Removes "<out>.tmp-*" folders left by killed packs. Safe under the pack lock.
void RemoveStaleOutputs(const fs::path& out) {
  std::error_code error;
  const std::string prefix = out.filename().string() + ".tmp-";
  for (auto it = fs::directory_iterator(out.parent_path(), error);
       !error && it != fs::directory_iterator(); it.increment(error)) {
    if (it->path().filename().string().rfind(prefix, 0) == 0) {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
}

// Atomically puts `fresh` at `out`; the previous folder (if any) is removed afterwards.
Status SwapIn(const fs::path& fresh, const fs::path& out) {
  std::error_code error;
  if (fs::exists(out, error)) {
    if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0) {
      return IoError("cannot swap in the new shards: " + ErrnoText(), out.string());
    }
    MEMES_RETURN_IF_ERROR(FsyncDirectory(out.parent_path()));
    fs::remove_all(fresh, error);  // now holds the previous shards
    return Status::Ok();
  }
  if (::rename(fresh.c_str(), out.c_str()) != 0) {
    return IoError("cannot move the new shards into place: " + ErrnoText(), out.string());
  }
  return FsyncDirectory(out.parent_path());
}

struct Selected {
  const PackEntry* entry;
  uint64_t order;
  uint8_t label;
  Split split;
};

// Per-channel sums over training pixels, for dataset.json's mean and std.
struct ChannelStats {
  uint64_t sum[3] = {0, 0, 0};
  uint64_t sum_squares[3] = {0, 0, 0};
  uint64_t pixels = 0;  // per channel
  void Add(std::span<const uint8_t> planar, size_t plane, uint64_t times) {
    for (int c = 0; c < 3; ++c) {
      uint64_t s = 0, q = 0;
      const uint8_t* p = planar.data() + c * plane;
      for (size_t i = 0; i < plane; ++i) {
        s += p[i];
        q += uint32_t{p[i]} * p[i];
      }
      sum[c] += s * times;
      sum_squares[c] += q * times;
    }
    pixels += plane * times;
  }
};

// Reads the frames files of the selected items, in order, on a thread of its own, at most
// kWindow items ahead of the writer: file opens and reads overlap hashing and writing, and
// memory stays bounded (kWindow items' frames) whatever the store's size.
class FramesReadAhead {
 public:
  static constexpr size_t kWindow = 64;

  FramesReadAhead(const Store& store, const std::vector<Selected>& items)
      : store_(store), items_(items), thread_([this] { Read(); }) {}
  ~FramesReadAhead() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  FramesReadAhead(const FramesReadAhead&) = delete;
  FramesReadAhead& operator=(const FramesReadAhead&) = delete;

  // The frames of the next item. Requires: called at most items.size() times.
  Result<ItemFrames> Next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty(); });
    Result<ItemFrames> frames = std::move(ready_.front());
    ready_.pop_front();
    // Wake the reader only when it may be waiting for room (half the window drained), so the
    // two threads do not trade a futex call per item.
    const bool wake = ready_.size() == kWindow / 2;
    lock.unlock();
    if (wake) changed_.notify_all();
    return frames;
  }

 private:
  void Read() {
    for (const Selected& item : items_) {
      // pread from one open descriptor per segment (frame_segments.h): no open() per item.
      Result<ItemFrames> frames = store_.ReadFrames(item.entry->blob, item.entry->frames_at);
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || ready_.size() <= kWindow / 2; });
      if (stop_) return;
      ready_.push_back(std::move(frames));
      const bool wake = ready_.size() == 1;  // the writer may be waiting on an empty queue
      lock.unlock();
      if (wake) changed_.notify_all();
    }
  }

  const Store& store_;
  const std::vector<Selected>& items_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Result<ItemFrames>> ready_;  // guarded by mutex_
  bool stop_ = false;                     // guarded by mutex_
  std::thread thread_;                    // last: starts after the members above exist
};

class PackRun {
 public:
  PackRun(Store& store, const PackOptions& options, const fs::path& temp)
      : store_(store), options_(options), temp_(temp) {}

  Status Run(PackReport& report);

 private:
  Status SelectItems(const std::vector<PackEntry>& entries, PackReport& report);
  Status WriteItem(const Selected& item, Result<ItemFrames> frames, PackReport& report);
  Status NextTrainShard();
  Status CloseTrainShard(PackReport& report);
  Status WriteMeta(PackReport& report);

  Store& store_;
  const PackOptions& options_;
  fs::path temp_;
  int image_size_ = 0;
  std::vector<std::string> class_names_;
  std::vector<Selected> selected_;
  std::unique_ptr<ShardWriter> train_;
  int train_index_ = 0;
  std::string train_name_;
  std::unique_ptr<ShardWriter> test_;
  std::unique_ptr<FileWriter> index_;
  std::vector<uint8_t> rotated_;
  ChannelStats stats_;
  std::vector<int64_t> groups_per_split_{0, 0};
  int64_t groups_straddling_ = 0;
};

Status PackRun::SelectItems(const std::vector<PackEntry>& entries, PackReport& report) {
  MEMES_ASSIGN_OR_RETURN(std::vector<LabelInfo> labels, store_.catalog().Labels());
  std::map<int64_t, int64_t> items_per_label;
  for (const PackEntry& entry : entries) ++items_per_label[entry.label_id];
  std::map<int64_t, uint8_t> label_byte;
  for (const LabelInfo& label : labels) {
    if (label.retired || items_per_label[label.id] == 0) continue;
    if (class_names_.size() == kMaxClasses) {
      int64_t classes = 0;
      for (const LabelInfo& l : labels) classes += (!l.retired && items_per_label[l.id] > 0);
      return InvalidArgument(std::to_string(classes) +
                             " classes have items, but the CIFAR-10 layout has one label byte: "
                             "at most 256 classes (merge or drop some with `memes label`)");
    }
    label_byte[label.id] = static_cast<uint8_t>(class_names_.size());
    class_names_.push_back(label.name);
  }
  if (class_names_.empty()) {
    return InvalidArgument("nothing to pack: no labelled item with frames in " +
                           store_.dir().string());
  }
  report.classes.resize(class_names_.size());
  for (size_t i = 0; i < class_names_.size(); ++i) report.classes[i].name = class_names_[i];

  selected_.reserve(entries.size());
  for (const PackEntry& entry : entries) {
    auto byte = label_byte.find(entry.label_id);
    if (byte == label_byte.end()) continue;  // retired label still attached (cannot happen)
    const std::string& unit =
        options_.split_unit == SplitUnit::kImage ? entry.blob : entry.group_key;
    selected_.push_back({&entry, OrderKey(entry.blob, options_.seed), byte->second,
                         SplitOf(unit, options_.seed, options_.test_fraction)});
  }
  std::sort(selected_.begin(), selected_.end(),
            [](const Selected& a, const Selected& b) { return a.order < b.order; });
  if (options_.max_per_class > 0) {
    std::vector<int64_t> kept(class_names_.size(), 0);
    std::erase_if(selected_, [&](const Selected& item) {
      if (kept[item.label] >= options_.max_per_class) {
        ++report.classes[item.label].capped;
        return true;
      }
      ++kept[item.label];
      return false;
    });
  }
  if (options_.balance_split) {
    // Sides from the kept items' classes (after the cap), unit by unit (store/split.h).
    std::map<std::string_view, size_t> unit_of;
    std::vector<SplitGroup> units;
    std::vector<size_t> item_unit(selected_.size());
    for (size_t i = 0; i < selected_.size(); ++i) {
      const PackEntry& entry = *selected_[i].entry;
      const std::string_view key =
          options_.split_unit == SplitUnit::kImage ? entry.blob : entry.group_key;
      auto [it, added] = unit_of.emplace(key, units.size());
      if (added) units.push_back({key, {}});
      auto& counts = units[it->second].items;
      auto label = std::find_if(counts.begin(), counts.end(),
                                [&](const auto& c) { return c.first == selected_[i].label; });
      if (label == counts.end()) {
        counts.emplace_back(selected_[i].label, 1);
      } else {
        ++label->second;
      }
      item_unit[i] = it->second;
    }
    const std::vector<Split> sides = BalancedSplit(units, options_.seed, options_.test_fraction);
    for (size_t i = 0; i < selected_.size(); ++i) selected_[i].split = sides[item_unit[i]];
  }
  if (options_.test_group) {
    for (Selected& item : selected_) {
      item.split = options_.test_group(item.entry->group_key) ? Split::kTest : Split::kTrain;
    }
  }
  // Groups with items in each split; a group counted in both straddles the split (only
  // possible with SplitUnit::kImage).
  std::map<std::string_view, int> sides;  // bit 0: train, bit 1: test
  for (const Selected& item : selected_) {
    sides[item.entry->group_key] |= item.split == Split::kTest ? 2 : 1;
  }
  for (const auto& [key, bits] : sides) {
    if (bits & 1) ++groups_per_split_[0];
    if (bits & 2) ++groups_per_split_[1];
    if (bits == 3) ++groups_straddling_;
  }
  return Status::Ok();
}

Status PackRun::NextTrainShard() {
  ++train_index_;
  train_name_ = "data_batch_" + std::to_string(train_index_) + ".bin";
  train_ = std::make_unique<ShardWriter>(temp_ / train_name_, image_size_);
  return train_->status();
}

Status PackRun::CloseTrainShard(PackReport& report) {
  if (!train_) return Status::Ok();
  MEMES_ASSIGN_OR_RETURN(WrittenFile file, train_->Finish());
  report.files.push_back(std::move(file));
  train_.reset();
  return Status::Ok();
}

Status PackRun::WriteItem(const Selected& item, Result<ItemFrames> frames, PackReport& report) {
  const PackEntry& entry = *item.entry;
  if (frames.ok() && frames->count != entry.kept_frames) {
    frames = Corrupt("frames record holds " + std::to_string(frames->count) +
                         " frames, the catalog " + std::to_string(entry.kept_frames),
                     entry.frames_at.in_segment()
                         ? SegmentPath(store_.dir() / "frames", entry.frames_at.segment).string() +
                               " @" + std::to_string(entry.frames_at.offset)
                         : store_.FramesPath(entry.blob).string());
  }
  if (!frames.ok()) {
    report.failures.push_back(frames.status().ToString());
    return Status::Ok();
  }
  const bool test = item.split == Split::kTest;
  const int rotations = (test ? options_.rotate_test : options_.rot4) ? 4 : 1;
  ClassReport& counts = report.classes[item.label];
  ++(test ? counts.test_items : counts.train_items);
  const size_t plane = static_cast<size_t>(image_size_) * image_size_;
  std::string lines;
  for (int k = 0; k < frames->count; ++k) {
    const std::span<const uint8_t> frame = frames->Frame(k);
    if (!test) stats_.Add(frame, plane, rotations);
    for (int turn = 0; turn < rotations; ++turn) {
      std::span<const uint8_t> pixels = frame;
      if (turn != 0) {
        RotatePlanar(frame, rotated_, image_size_, 3, turn);
        pixels = rotated_;
      }
      ShardWriter* writer = test_.get();
      if (!test) {
        if (!train_ || train_->records() == static_cast<uint64_t>(options_.records_per_batch)) {
          MEMES_RETURN_IF_ERROR(CloseTrainShard(report));
          MEMES_RETURN_IF_ERROR(NextTrainShard());
        }
        writer = train_.get();
      }
      const uint64_t record = writer->records();
      const uint32_t crc = writer->Add(item.label, pixels);
      MEMES_RETURN_IF_ERROR(writer->status());
      char row[64];
      std::snprintf(row, sizeof row, "\t%llu\t", static_cast<unsigned long long>(record));
      lines.append(test ? "test_batch.bin" : train_name_).append(row).append(entry.blob);
      std::snprintf(row, sizeof row, "\t%d\t%d\t%d\t", entry.frame_indices[k], turn, item.label);
      lines.append(row).append(class_names_[item.label]);
      std::snprintf(row, sizeof row, "\t%08x\n", crc);
      lines.append(row);
      ++(test ? counts.test_records : counts.train_records);
      ++(test ? report.test_records : report.train_records);
    }
  }
  index_->Append(lines);
  return index_->status();
}

Status PackRun::WriteMeta(PackReport& report) {
  std::string meta;
  for (const std::string& name : class_names_) meta += name + "\n";
  FileWriter meta_file(temp_ / "batches.meta.txt");
  meta_file.Append(meta);
  MEMES_ASSIGN_OR_RETURN(WrittenFile meta_written, meta_file.Finish());
  report.files.push_back(meta_written);

  nlohmann::ordered_json json;
  json["format"] = "memes-cifar";
  json["format_version"] = 1;
  json["image_size"] = image_size_;
  json["channels"] = 3;
  json["record_bytes"] = 1 + 3 * image_size_ * image_size_;
  // The rest of the image settings the frames were made with: predict and eval fit a new
  // picture exactly so (train copies them into the checkpoint).
  const ImageSettings& image = store_.image_settings();
  json["fit"] = FitModeName(image.fit);
  json["background"] = BackgroundHex(image.background);
  json["max_frames"] = image.max_frames;
  json["classes"] = class_names_;
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  for (const WrittenFile& file : report.files) {
    nlohmann::ordered_json entry;
    if (file.name.ends_with(".bin")) entry["records"] = file.records;
    entry["bytes"] = file.bytes;
    entry["sha256"] = file.sha256;
    files[file.name] = entry;
  }
  json["files"] = files;
  nlohmann::ordered_json counts, items;
  for (const char* split : {"train", "test"}) {
    counts[split] = nlohmann::ordered_json::object();
    items[split] = nlohmann::ordered_json::object();
  }
  for (const ClassReport& c : report.classes) {
    counts["train"][c.name] = c.train_records;
    counts["test"][c.name] = c.test_records;
    items["train"][c.name] = c.train_items;
    items["test"][c.name] = c.test_items;
  }
  json["counts"] = counts;
  json["items"] = items;
  json["groups"] = {{"train", groups_per_split_[0]},
                    {"test", groups_per_split_[1]},
                    {"both", groups_straddling_}};
  std::vector<double> mean(3, 0.0), stddev(3, 0.0);
  if (stats_.pixels > 0) {
    for (int c = 0; c < 3; ++c) {
      const double n = static_cast<double>(stats_.pixels);
      const double m = stats_.sum[c] / n / 255.0;
      const double second = stats_.sum_squares[c] / n / (255.0 * 255.0);
      mean[c] = m;
      stddev[c] = std::sqrt(std::max(0.0, second - m * m));
    }
  }
  json["mean"] = mean;
  json["std"] = stddev;
  json["augment"] = options_.rot4 ? "rot4" : "none";
  json["rotate_test"] = options_.rotate_test;
  json["test_fraction"] = options_.test_fraction;
  json["seed"] = options_.seed;
  json["max_per_class"] = options_.max_per_class;
  json["split_unit"] = options_.split_unit == SplitUnit::kImage ? "image" : "group";
  json["split_assign"] = options_.balance_split ? "balanced" : "hash";
  json["rotation"] = "quarter turns counter-clockwise (numpy.rot90 k)";
  json["created_by"] = std::string("memes ") + kMemesVersion;
  return WriteFileAtomic(temp_ / "dataset.json", json.dump(2) + "\n");
}

Status PackRun::Run(PackReport& report) {
  image_size_ = store_.image_settings().size;
  rotated_.resize(3u * image_size_ * image_size_);
  MEMES_ASSIGN_OR_RETURN(std::vector<PackEntry> entries, store_.catalog().PackIndex());
  MEMES_RETURN_IF_ERROR(SelectItems(entries, report));

  test_ = std::make_unique<ShardWriter>(temp_ / "test_batch.bin", image_size_);
  MEMES_RETURN_IF_ERROR(test_->status());
  index_ = std::make_unique<FileWriter>(temp_ / "index.tsv");
  index_->Append("file\trecord\tblob\tframe\trotation\tlabel\tclass\tcrc32\n");
  ProgressBar::Options bar_options;
  bar_options.enabled = options_.progress;
  ProgressBar bar("pack", selected_.size(), bar_options);
  FramesReadAhead reader(store_, selected_);
  int64_t written = 0;
  for (const Selected& item : selected_) {
    MEMES_RETURN_IF_ERROR(WriteItem(item, reader.Next(), report));
    bar.Add();
    ++written;
    if (options_.on_progress) options_.on_progress(written, int64_t(selected_.size()));
  }
  bar.Finish();
  MEMES_RETURN_IF_ERROR(CloseTrainShard(report));
  MEMES_ASSIGN_OR_RETURN(WrittenFile test_file, test_->Finish());
  report.files.push_back(test_file);
  MEMES_ASSIGN_OR_RETURN(WrittenFile index_file, index_->Finish());
  report.files.push_back(index_file);
  MEMES_RETURN_IF_ERROR(WriteMeta(report));
  for (const WrittenFile& file : report.files) report.bytes_written += file.bytes;

  for (const ClassReport& c : report.classes) {
    if (c.test_items < options_.min_test_items && options_.test_fraction > 0) {
      report.warnings.push_back("class '" + c.name + "' has only " +
                                CountOf(c.test_items, "test item", "test items") +
                                ": too small to test (add items or raise --test-fraction)");
    }
    if (c.train_items == 0) {
      report.warnings.push_back("class '" + c.name + "' has no training items");
    }
  }
  return FsyncDirectory(temp_);
}

}  // namespace

std::string PackReport::Table() const {
  std::ostringstream out;
  // Padded by display width, not bytes: 柴犬 takes four columns (six bytes).
  int width = 5;
  for (const ClassReport& c : classes) width = std::max(width, DisplayWidth(c.name));
  auto row = [&](const std::string& name, const auto& a, const auto& b, const auto& c,
                 const auto& d) {
    out << PadRight(name, width) << std::right << std::setw(12) << a << std::setw(14) << b
        << std::setw(12) << c << std::setw(14) << d << "\n";
  };
  row("class", "train items", "train records", "test items", "test records");
  int64_t totals[4] = {0, 0, 0, 0};
  for (const ClassReport& c : classes) {
    row(c.name, c.train_items, c.train_records, c.test_items, c.test_records);
    totals[0] += c.train_items, totals[1] += c.train_records;
    totals[2] += c.test_items, totals[3] += c.test_records;
  }
  row("total", totals[0], totals[1], totals[2], totals[3]);
  return out.str();
}

namespace {

// True when `inner` is `outer` or lies below it (both absolute and normalised).
bool IsWithin(const fs::path& inner, const fs::path& outer) {
  return std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end()).first == outer.end();
}

// The shards folder `out` resolved (symbolic links followed, so the swap happens where the data
// is), or a usage error when replacing it could destroy anything but a previous shard set.
Result<fs::path> CheckOutput(const fs::path& store_dir, const fs::path& requested) {
  std::error_code error;
  const fs::path out = fs::weakly_canonical(fs::absolute(requested), error).lexically_normal();
  if (error || out.empty() || !out.has_relative_path()) {
    return InvalidArgument("--out: cannot use this folder as a shards folder", requested.string());
  }
  fs::path clean = out;
  if (clean.filename().empty()) clean = clean.parent_path();
  const fs::path store = fs::weakly_canonical(fs::absolute(store_dir), error).lexically_normal();
  const auto refuse = [&](const std::string& why) -> Result<fs::path> {
    return InvalidArgument("--out " + requested.string() + ": " + why +
                               "; pack replaces its output folder whole, so it must be new, "
                               "empty, or hold a previous shard set (dataset.json with "
                               "\"format\": \"memes-cifar\")",
                           clean.string());
  };
  if (!error && IsWithin(store, clean)) {
    return refuse(clean == store ? "is the store folder" : "holds the store folder");
  }
  if (!error && (IsWithin(clean, store / "blobs") || IsWithin(clean, store / "frames"))) {
    return refuse("lies inside the store's blobs/ or frames/");
  }
  const fs::path cwd = fs::current_path(error);
  if (!error && IsWithin(cwd, clean)) return refuse("is the current folder or holds it");
  const fs::file_status status = fs::status(clean, error);
  if (status.type() == fs::file_type::not_found) return clean;
  if (error) return IoError("cannot look at the output folder: " + error.message(), clean.string());
  if (status.type() != fs::file_type::directory) return refuse("exists and is not a folder");
  bool empty = true;
  for (auto it = fs::directory_iterator(clean, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    empty = false;
    if (it->is_directory()) {
      // A shard set never has subfolders: this one is someone's (a training run, say).
      return refuse("holds a subfolder (" + it->path().filename().string() +
                    "), which no shard set has");
    }
  }
  if (error) return IoError("cannot list the output folder: " + error.message(), clean.string());
  if (empty) return clean;
  const Result<std::vector<uint8_t>> manifest = ReadWholeFile(clean / "dataset.json");
  if (!manifest.ok()) return refuse("is not empty and holds no dataset.json");
  const nlohmann::json json = nlohmann::json::parse(manifest->begin(), manifest->end(), nullptr,
                                                    /*allow_exceptions=*/false);
  const auto format = json.is_object() ? json.find("format") : json.end();
  if (!json.is_object() || format == json.end() || *format != "memes-cifar") {
    return refuse("holds a dataset.json that is not a memes shard set's");
  }
  return clean;
}

}  // namespace

Result<PackReport> Pack(Store& store, const PackOptions& options) {
  if (options.test_fraction < 0 || options.test_fraction > 1) {
    return InvalidArgument("--test-fraction must be within 0..1");
  }
  if (options.records_per_batch <= 0) return InvalidArgument("records per batch must be > 0");
  const auto start = std::chrono::steady_clock::now();
  MEMES_ASSIGN_OR_RETURN(const fs::path out, CheckOutput(store.dir(), options.out));
  std::error_code error;
  fs::create_directories(out.parent_path(), error);
  if (error) return IoError("cannot create folder: " + error.message(), out.parent_path().string());

  PackLock lock;
  MEMES_RETURN_IF_ERROR(lock.Acquire(fs::path(out.string() + ".lock")));
  // Under the lock: another pack may have filled the folder since the check above.
  MEMES_RETURN_IF_ERROR(CheckOutput(store.dir(), out).status());
  RemoveStaleOutputs(out);
  const fs::path temp = TempSibling(out);
  fs::create_directory(temp, error);
  if (error) return IoError("cannot create folder: " + error.message(), temp.string());

  PackReport report;
  Status status;
  {
    PackRun run(store, options, temp);
    status = run.Run(report);
  }  // writers closed (unfinished ones abandoned) before the folder is swapped or removed
  // A pack that lost items keeps the previous shards unless told to replace them anyway: a
  // transient read error must not silently shrink a dataset someone trains on.
  report.replaced = status.ok() && (report.failures.empty() || options.replace_despite_failures);
  if (report.replaced) status = SwapIn(temp, out);
  if (!status.ok() || !report.replaced) {
    fs::remove_all(temp, error);
    if (!status.ok()) return status;
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace memes::store
