// store_bench: the crawl's serial commit stage alone (durable: items/s with one transaction per
// batch of 64 against one per item, in the same run); repack after a relabel of N items × 4
// rotations, against plain `cp` of the same bytes on the same disk; peak RSS of pack at two
// store sizes (it must not grow beyond the index).
//
//   store_bench [--items 100000] [--small 10000] [--commits 20000] [--dir /var/tmp]
//
// Each pack runs in a fresh child process (this program re-executed with --pack) so that its
// peak RSS (getrusage of the child) is the pack's alone. Fill uses no fsync (a bulk load);
// the packs are durable (fsync of every file), cp is not, and `cp` + `sync FILES` is shown too.
#include "core/mix.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "store/file_util.h"
#include "store/pack.h"
#include "store/store.h"

extern char** environ;

using namespace memes;
namespace fs = std::filesystem;

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// N items, one 32×32 frame each, 10 classes, distinct perceptual hashes.
void Fill(const fs::path& dir, int items) {
  store::SetDurableWrites(false);
  auto opened = store::Store::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  store::Store& store = **opened;
  std::vector<uint8_t> pixels(3072);
  for (int i = 0; i < items; ++i) {
    const std::string bytes = "bench item " + std::to_string(i);
    auto blob = store.PutBlob(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    uint64_t state = memes::SplitMix64(i);
    for (size_t p = 0; p < pixels.size(); p += 8) {
      state = memes::SplitMix64(state);
      std::memcpy(pixels.data() + p, &state, 8);
    }
    const store::FrameData frames[] = {{{0, 0, memes::SplitMix64(i + 1000000007ULL)}, pixels}};
    auto added = store.AddItem({*blob, bytes.size(), "png", 32, 32, 1, store::kItemOk, ""}, nullptr,
                               frames, "class" + std::to_string(i % 10));
    if (!blob.ok() || !added.ok()) {
      std::fprintf(stderr, "fill failed at item %d\n", i);
      std::exit(1);
    }
  }
  store::SetDurableWrites(true);
}

// The commit stage alone, durable: `items` new items (one 32×32 frame, a source, a label), whose
// blobs are already stored (store_and_decode's work, not timed), committed `batch` per
// Store::CommitBatch, or each by its own Store::AddItem when batch is 1 (a transaction and a
// frames fsync per item, as before batching). Returns items/s.
double CpuSeconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct Rate {
  double per_second = 0;      // items / wall seconds
  double per_cpu_second = 0;  // items / CPU seconds of this process (what a loaded machine hides)
};

Rate CommitRate(const fs::path& dir, int items, int batch) {
  auto opened = store::Store::Open(dir);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  store::Store& store = **opened;
  std::vector<std::string> blobs;
  store::SetDurableWrites(false);
  for (int i = 0; i < items; ++i) {
    const std::string bytes = "commit item " + std::to_string(i);
    auto blob = store.PutBlob(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!blob.ok()) std::exit(1);
    blobs.push_back(*blob);
  }
  store::SetDurableWrites(true);
  std::vector<uint8_t> pixels(3072, 0x33);
  auto add = [&](int i) {
    std::memcpy(pixels.data(), &i, sizeof i);
    const store::FrameData frames[] = {{{0, 0, memes::SplitMix64(i + 7)}, pixels}};
    store::SourceRecord source{"http://127.0.0.1/img/" + std::to_string(i) + ".png",
                               "http://127.0.0.1/search?page=1",
                               "keyword",
                               "bench",
                               0,
                               200};
    return store
        .AddItem({blobs[i], 20, "png", 32, 32, 1, store::kItemOk, ""}, &source, frames,
                 "class" + std::to_string(i % 10))
        .status();
  };
  const double start = Now();
  const double cpu_start = CpuSeconds();
  for (int first = 0; first < items; first += batch) {
    const int end = std::min(items, first + batch);
    const Status status = batch == 1 ? add(first) : store.CommitBatch([&]() -> Status {
      for (int i = first; i < end; ++i) MEMES_RETURN_IF_ERROR(add(i));
      return Status::Ok();
    });
    if (!status.ok()) {
      std::fprintf(stderr, "commit failed: %s\n", status.ToString().c_str());
      std::exit(1);
    }
  }
  return {items / (Now() - start), items / (CpuSeconds() - cpu_start)};
}

// Child mode: one durable pack; writes "seconds bytes records" to OUT.result.
int PackChild(const fs::path& store_dir, const fs::path& out) {
  auto opened = store::Store::Open(store_dir);
  if (!opened.ok()) return 1;
  store::PackOptions options;
  options.out = out;
  options.progress = false;
  auto report = store::Pack(**opened, options);
  if (!report.ok()) {
    std::fprintf(stderr, "%s\n", report.status().ToString().c_str());
    return 1;
  }
  std::ofstream(out.string() + ".result") << report->seconds << " " << report->bytes_written << " "
                                          << report->train_records + report->test_records << "\n";
  return 0;
}

struct ChildRun {
  double wall = 0;
  long max_rss_kb = 0;
  int status = -1;
};

ChildRun Run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  ChildRun run;
  const double start = Now();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return run;
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  run.wall = Now() - start;
  run.max_rss_kb = usage.ru_maxrss;
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

struct PackFigures {
  double seconds = 0;
  double bytes = 0;
  long records = 0;
  long rss_kb = 0;
};

PackFigures PackInChild(const std::string& self, const fs::path& store_dir, const fs::path& out,
                        bool durable = true) {
  const ChildRun run =
      Run({self, durable ? "--pack" : "--pack-no-fsync", store_dir.string(), out.string()});
  if (run.status != 0) {
    std::fprintf(stderr, "pack child failed\n");
    std::exit(1);
  }
  PackFigures figures;
  std::ifstream(out.string() + ".result") >> figures.seconds >> figures.bytes >> figures.records;
  figures.rss_kb = run.max_rss_kb;
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--pack") return PackChild(argv[2], argv[3]);
  if (argc == 4 && std::string(argv[1]) == "--pack-no-fsync") {
    store::SetDurableWrites(false);
    return PackChild(argv[2], argv[3]);
  }
  int items = 100000, small = 10000, commits = 20000;
  fs::path base = "/var/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--items")
      items = std::atoi(argv[i + 1]);
    else if (flag == "--small")
      small = std::atoi(argv[i + 1]);
    else if (flag == "--commits")
      commits = std::atoi(argv[i + 1]);
    else if (flag == "--dir")
      base = argv[i + 1];
  }
  const std::string self = fs::canonical("/proc/self/exe").string();
  const fs::path dir = base / ("memes-store-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);

  // The serial commit stage, durable, batched vs one item per transaction (fewer items: it is
  // slow), same disk, same run.
  const int single_items = std::max(1, commits / 20);
  const Rate batched = CommitRate(dir / "commit-batched", commits, 64);
  const Rate single = CommitRate(dir / "commit-single", single_items, 1);
  std::printf(
      "commit stage, durable: %d items in batches of 64: %.0f items/s (%.0f per CPU s); %d items "
      "one per transaction: %.0f items/s (%.0f per CPU s); ratio %.1f\n",
      commits, batched.per_second, batched.per_cpu_second, single_items, single.per_second,
      single.per_cpu_second, batched.per_second / single.per_second);
  std::fflush(stdout);
  fs::remove_all(dir / "commit-batched");
  fs::remove_all(dir / "commit-single");

  double t = Now();
  Fill(dir / "big", items);
  std::printf("fill %d items (no fsync): %.1f s\n", items, Now() - t);
  Fill(dir / "small", small);

  const PackFigures first = PackInChild(self, dir / "big", dir / "big" / "shards");
  const PackFigures small_pack = PackInChild(self, dir / "small", dir / "small" / "shards");

  // Relabel 5% of the items, then repack: the measured job.
  {
    auto opened = store::Store::Open(dir / "big");
    auto index = (*opened)->catalog().PackIndex();
    std::vector<std::string> relabel;
    std::mt19937 random(1);
    for (const auto& entry : *index) {
      if (random() % 20 == 0) relabel.push_back(entry.blob);
    }
    t = Now();
    const Status status = (*opened)->catalog().SetLabel(relabel, "relabelled");
    std::printf("relabel %zu items: %.2f s (%s)\n", relabel.size(), Now() - t,
                status.ok() ? "ok" : status.ToString().c_str());
  }
  const PackFigures repack = PackInChild(self, dir / "big", dir / "big" / "shards");
  const PackFigures repack_no_fsync =
      PackInChild(self, dir / "big", dir / "big" / "shards", /*durable=*/false);

  const ChildRun cp = Run(
      {"/bin/cp", "-r", (dir / "big" / "shards").string(), (dir / "big" / "shards-cp").string()});
  fs::remove_all(dir / "big" / "shards-cp");
  // cp, then fsync of each copied file (coreutils `sync FILE…`), like pack's per-file fsync.
  const std::string copy = (dir / "big" / "shards-cp").string();
  const ChildRun cp_sync = Run({"/bin/sh", "-c",
                                "cp -r '" + (dir / "big" / "shards").string() + "' '" + copy +
                                    "' && sync '" + copy + "'/*"});

  // Peer 3: write() of the same number of bytes in 1 MiB chunks (what any program that makes
  // its output, rather than copying a file, must pay), no fsync.
  double write_seconds = 0;
  {
    const fs::path path = dir / "big" / "write-peer.bin";
    std::vector<uint8_t> chunk(1 << 20, 0x5a);
    const double start = Now();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    for (double left = repack.bytes; left > 0; left -= chunk.size()) {
      const size_t n = static_cast<size_t>(std::min<double>(left, chunk.size()));
      if (::write(fd, chunk.data(), n) != static_cast<ssize_t>(n)) break;
    }
    ::close(fd);
    write_seconds = Now() - start;
    fs::remove(path);
  }

  const double mb = repack.bytes / 1e6;
  std::printf("\nrepack after relabel: %ld records (%d items x 4 rotations in train), %.1f MB\n",
              repack.records, items, mb);
  std::printf("  memes pack (fsync each file): %6.2f s  %7.1f MB/s\n", repack.seconds,
              mb / repack.seconds);
  std::printf("  memes pack (no fsync):        %6.2f s  %7.1f MB/s\n", repack_no_fsync.seconds,
              mb / repack_no_fsync.seconds);
  std::printf("  cp -r of the shards:          %6.2f s  %7.1f MB/s\n", cp.wall, mb / cp.wall);
  std::printf("  cp -r + sync of each file:    %6.2f s  %7.1f MB/s\n", cp_sync.wall,
              mb / cp_sync.wall);
  std::printf("  write() of as many bytes:      %6.2f s  %7.1f MB/s\n", write_seconds,
              mb / write_seconds);
  std::printf(
      "  throughput ratio: pack(no fsync)/cp %.2f   pack(fsync)/(cp+sync) %.2f   "
      "pack(no fsync)/write() %.2f\n",
      cp.wall / repack_no_fsync.seconds, cp_sync.wall / repack.seconds,
      write_seconds / repack_no_fsync.seconds);
  std::printf("\npeak RSS of the pack process:\n");
  std::printf("  %6d items: %7.1f MiB (pack %.2f s)\n", small, small_pack.rss_kb / 1024.0,
              small_pack.seconds);
  std::printf("  %6d items: %7.1f MiB (first pack %.2f s; repack %.1f MiB)\n", items,
              first.rss_kb / 1024.0, first.seconds, repack.rss_kb / 1024.0);
  std::printf("  growth per item: %.0f bytes\n",
              (first.rss_kb - small_pack.rss_kb) * 1024.0 / (items - small));
  fs::remove_all(dir);
  return 0;
}
