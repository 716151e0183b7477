// End-to-end: the NumPy reader printed in store/FORMAT.md (between the numpy-reader markers)
// reads what `memes pack` writes: the same record counts, labels, pixels and (UTF-8) class names
// as a byte-level read of the shards here. The snippet is taken from the document itself, so
// the document and the format cannot drift apart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;

// The Python code between the markers, without the Markdown fence lines.
std::string NumpyReaderFromFormatMd() {
  const std::string md = Slurp(MEMES_FORMAT_MD);
  const std::string begin = "<!-- numpy-reader:begin -->", end = "<!-- numpy-reader:end -->";
  const size_t from = md.find(begin), to = md.find(end);
  if (from == std::string::npos || to == std::string::npos || to < from) return "";
  std::stringstream block(md.substr(from + begin.size(), to - from - begin.size()));
  std::string code;
  for (std::string line; std::getline(block, line);) {
    if (!line.starts_with("```")) code += line + "\n";
  }
  return code;
}

// What a split holds, summed the same way in Python and here.
struct SplitDigest {
  int64_t records = 0, label_sum = 0, pixel_sum = 0;
  int first_label = -1, first_rgb[3] = {-1, -1, -1};  // record 0, pixel (y=3, x=5)
  std::string Line(const std::string& name) const {
    std::string line = name + " " + std::to_string(records) + " 32 32 3 " +
                       std::to_string(label_sum) + " " + std::to_string(pixel_sum);
    if (records > 0) {
      line += " " + std::to_string(first_label) + " " + std::to_string(first_rgb[0]) + " " +
              std::to_string(first_rgb[1]) + " " + std::to_string(first_rgb[2]);
    }
    return line;
  }
};

SplitDigest Digest(const std::vector<fs::path>& files) {
  SplitDigest digest;
  for (const fs::path& file : files) {
    const std::string bytes = Slurp(file);
    for (size_t at = 0; at + 3073 <= bytes.size(); at += 3073) {
      const auto byte = [&](size_t offset) { return static_cast<uint8_t>(bytes[at + offset]); };
      if (digest.records == 0) {
        digest.first_label = byte(0);
        for (int c = 0; c < 3; ++c) digest.first_rgb[c] = byte(1 + c * 1024 + 3 * 32 + 5);
      }
      ++digest.records;
      digest.label_sum += byte(0);
      for (size_t i = 1; i < 3073; ++i) digest.pixel_sum += byte(i);
    }
  }
  return digest;
}

TEST(NumpyReader, TheFormatMdSnippetReadsPackedShards) {
  const std::string reader = NumpyReaderFromFormatMd();
  ASSERT_NE(reader.find("def read_memes_shards"), std::string::npos)
      << "store/FORMAT.md lost its numpy-reader block";
  const fs::path dir = fs::temp_directory_path() / ("memes-numpy-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string store = (dir / "store").string();
  RunResult run = RunProgram({MEMES_STORE_FILL_PATH, store, "--items", "23", "--classes", "3"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  ASSERT_EQ(RunMemes({"label", "--store", store, "rename", "class0", "柴犬"}).exit_code, 0);
  // Small batches are not a pack option: 23 items × up to 2 frames × 4 rotations stay in one
  // training file, which is what the reader's sort and concatenation must also handle.
  run = RunMemes({"pack", "--store", store, "--test-fraction", "0.3"});
  ASSERT_EQ(run.exit_code, 0) << run.Describe();
  const fs::path shards = dir / "store" / "shards";

  const std::string script = reader +
                             "import sys\n"
                             "splits, classes = read_memes_shards(sys.argv[1])\n"
                             "print('classes ' + '|'.join(classes))\n"
                             "for name in ('train', 'test'):\n"
                             "    x, y = splits[name]\n"
                             "    assert x.dtype == np.uint8 and y.dtype == np.uint8\n"
                             "    line = [name, len(y), *x.shape[1:], int(y.sum()),\n"
                             "            int(x.astype(np.int64).sum())]\n"
                             "    if len(y):\n"
                             "        line += [int(y[0]), *(int(v) for v in x[0, 3, 5])]\n"
                             "    print(' '.join(str(v) for v in line))\n";
  // Debian's python3 (with python3-numpy), not another one earlier in PATH.
  RunOptions utf8;
  utf8.extra_env = {"PYTHONIOENCODING=utf-8"};
  run = RunProgram({"/usr/bin/python3", "-c", script, shards.string()}, utf8);
  ASSERT_EQ(run.exit_code, 0) << "needs Debian's python3-numpy: " << run.Describe();

  std::vector<fs::path> train;
  for (const auto& entry : fs::directory_iterator(shards)) {
    if (entry.path().filename().string().starts_with("data_batch_")) train.push_back(entry.path());
  }
  std::sort(train.begin(), train.end());
  ASSERT_FALSE(train.empty());
  const SplitDigest train_digest = Digest(train), test_digest = Digest({shards / "test_batch.bin"});
  ASSERT_GT(test_digest.records, 0) << "the test split should not be empty at 0.3";
  const std::string expected = "classes 柴犬|class1|class2\n" + train_digest.Line("train") + "\n" +
                               test_digest.Line("test") + "\n";
  EXPECT_EQ(run.out, expected) << run.Describe();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::testing
