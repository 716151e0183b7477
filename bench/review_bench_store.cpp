// review_bench_store: writes a store from CIFAR-layout records (1 label byte + 3x32x32 planar
// RGB each), one item per record, for bench/review_bench.sh.
//   review_bench_store STORE RECORDS.bin CLASSES.txt [GROUPS.txt]
// Without GROUPS.txt every item is its own near-duplicate group; with it (one integer a line,
// one line per record) records of the same number share a perceptual hash and so a group (the
// emoji bench: one emoji's Apple, Google and Twitter art), which review's folds keep together.
// Item i's blob is the bytes "review-bench record i" (so the script knows its SHA-256); its label
// is the record's label byte (the script injects the noise before).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "store/file_util.h"
#include "store/store.h"

using namespace memes;

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: review_bench_store STORE RECORDS.bin CLASSES.txt [GROUPS.txt]\n");
    return 2;
  }
  std::ifstream records_file(argv[2], std::ios::binary);
  const std::vector<char> records((std::istreambuf_iterator<char>(records_file)), {});
  std::vector<std::string> classes;
  std::ifstream classes_file(argv[3]);
  for (std::string line; std::getline(classes_file, line);) classes.push_back(line);
  std::vector<uint64_t> groups;
  if (argc == 5) {
    std::ifstream groups_file(argv[4]);
    for (uint64_t group; groups_file >> group;) groups.push_back(group);
  }
  constexpr size_t kRecord = 3073;
  if (records.empty() || records.size() % kRecord != 0 || classes.empty() ||
      (argc == 5 && groups.size() != records.size() / kRecord)) {
    std::fprintf(stderr, "review_bench_store: bad records or classes file\n");
    return 2;
  }
  store::SetDurableWrites(false);  // a bulk load: no fsync, same rename atomicity
  auto opened = store::Store::Open(argv[1]);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  const size_t count = records.size() / kRecord;
  for (size_t i = 0; i < count; ++i) {
    const std::string bytes = "review-bench record " + std::to_string(i);
    auto blob = store.PutBlob(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!blob.ok()) {
      std::fprintf(stderr, "%s\n", blob.status().ToString().c_str());
      return 1;
    }
    const auto* record = reinterpret_cast<const uint8_t*>(records.data() + i * kRecord);
    // A distinct 64-bit "perceptual hash" per group: far apart (about 32 bits differ), so an
    // item joins only its own group.
    uint64_t phash = 0x9e3779b97f4a7c15ULL * ((groups.empty() ? i : groups[i]) + 1);
    phash ^= phash >> 29;
    const store::FrameData frame{{0, 0, phash}, std::span<const uint8_t>(record + 1, kRecord - 1)};
    const store::ItemRecord item{*blob, bytes.size(), "png", 32, 32, 1, store::kItemOk, ""};
    const store::SourceRecord source{
        "http://bench.test/" + std::to_string(i) + ".png", "", "bench", "bench", 1700000000, 200};
    auto added = store.AddItem(item, &source, std::span<const store::FrameData>(&frame, 1),
                               classes.at(record[0]));
    if (!added.ok()) {
      std::fprintf(stderr, "%s\n", added.status().ToString().c_str());
      return 1;
    }
  }
  std::printf("added %zu items to %s\n", count, argv[1]);
  return 0;
}
