// memes_store_fill: a test-only program that fills a store with generated items (blobs, frames,
// labels, sources) through the public store API, one catalog transaction per item like the
// crawl does, so end-to-end, kill and benchmark runs have a store without the network.
//   memes_store_fill STORE --items N [--first I] [--classes K] [--max-frames F]
//                    [--group-size G] [--seed S] [--size S] [--no-fsync]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "store/file_util.h"
#include "store/store.h"
#include "tests/store_fixture.h"

using namespace memes;
using namespace memes::testing;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: memes_store_fill STORE --items N [options]\n");
    return 2;
  }
  const std::string dir = argv[1];
  int items = 100, first = 0, classes = 3, max_frames = 2, group_size = 1, size = 32;
  uint64_t seed = 0;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--no-fsync") {  // bulk load for benchmarks: no fsync, same rename atomicity
      store::SetDurableWrites(false);
      --i;
      continue;
    }
    if (i + 1 >= argc) break;
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (flag == "--items")
      items = static_cast<int>(value);
    else if (flag == "--first")
      first = static_cast<int>(value);
    else if (flag == "--classes")
      classes = static_cast<int>(value);
    else if (flag == "--max-frames")
      max_frames = static_cast<int>(value);
    else if (flag == "--group-size")
      group_size = static_cast<int>(value);
    else if (flag == "--seed")
      seed = static_cast<uint64_t>(value);
    else if (flag == "--size")
      size = static_cast<int>(value);
    else {
      std::fprintf(stderr, "memes_store_fill: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  store::StoreOptions options;
  options.image_settings.size = size;
  auto opened = store::Store::Open(dir, options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  const int s = store.image_settings().size;
  for (int item = first; item < first + items; ++item) {
    const std::string bytes = FixtureBlobBytes(seed, item);
    auto blob = store.PutBlob(
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    if (!blob.ok()) {
      std::fprintf(stderr, "%s\n", blob.status().ToString().c_str());
      return 1;
    }
    const int kept = FixtureFrames(item, max_frames);
    std::vector<std::vector<uint8_t>> pixels(kept, std::vector<uint8_t>(3u * s * s));
    std::vector<store::FrameData> frames;
    for (int k = 0; k < kept; ++k) {
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < s; ++y) {
          for (int x = 0; x < s; ++x) {
            pixels[k][(c * s + y) * s + x] = FixturePixel(item, k, c, y, x);
          }
        }
      }
      frames.push_back({{3 * k, 40 * k, FixturePhash(seed, item, group_size)}, pixels[k]});
    }
    const store::SourceRecord source{"http://fixture.test/img/" + std::to_string(item) + ".gif",
                                     "http://fixture.test/page",
                                     "fixture",
                                     "fixture",
                                     1700000000 + item,
                                     200};
    const store::ItemRecord record{*blob, bytes.size(), "gif",          64,
                                   64,    3 * kept,     store::kItemOk, ""};
    auto added = store.AddItem(record, &source, frames, FixtureClass(item, classes));
    if (!added.ok()) {
      std::fprintf(stderr, "%s\n", added.status().ToString().c_str());
      return 1;
    }
  }
  std::printf("added %d items to %s\n", items, dir.c_str());
  return 0;
}
