// libFuzzer target over the label CSV reader (store/label_csv.h, ReadLabelCsv: RFC 4180
// parsing, header, hash/label/dropped checks, catalog lookups). Read-only: nothing is applied.
// Build: -DMEMES_FUZZ=ON with clang (store/fuzz/README.md); seeds: store/fuzz/corpus/label_csv.
// Besides "no crash, no sanitizer report": an error names the file, and every accepted row is
// a known blob hash whose label has no tab or line break.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "store/file_util.h"
#include "store/label_csv.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using namespace memes::store;

// A store with two items (hashes 00…0 and 11…1), made once per process in a private folder.
struct Fixture {
  fs::path dir;
  std::unique_ptr<Store> store;
  Fixture() {
    dir = fs::temp_directory_path() / ("memes-label-csv-fuzz-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    SetDurableWrites(false);
    auto opened = Store::Open(dir);
    if (!opened.ok()) std::abort();
    store = std::move(opened).value();
    for (char digit : {'0', '1'}) {
      const ItemRecord item{std::string(64, digit), 1, "png", 1, 1, 1, kItemOk, ""};
      if (!store->catalog().AddItem(item, nullptr, {}, std::string("class") + digit).ok()) {
        std::abort();
      }
    }
  }
  ~Fixture() {
    store.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const fs::path csv = fixture.dir / "input.csv";
  if (!WriteFileAtomic(csv, std::span<const uint8_t>(data, size)).ok()) std::abort();
  const memes::Result<std::vector<memes::store::LabelRow>> rows =
      ReadLabelCsv(fixture.store->catalog(), csv);
  if (!rows.ok()) {
    if (rows.status().message().empty()) std::abort();
    if (rows.status().where().find("input.csv") == std::string::npos) std::abort();
    return 0;
  }
  for (const memes::store::LabelRow& row : *rows) {
    if (!IsBlobHash(row.blob)) std::abort();
    if (row.label.find_first_of("\t\r\n") != std::string::npos) std::abort();
  }
  return 0;
}
