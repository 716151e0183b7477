#include "store/shard_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/sha256.h"
#include "store/file_util.h"

namespace memes::store {
namespace {

namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("memes-shard-writer-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ShardWriter, FinishRenamesAndReportsSizeAndHash) {
  const fs::path dir = TempDir("finish");
  std::vector<uint8_t> pixels(3 * 4 * 4, 9);
  {
    ShardWriter writer(dir / "data_batch_1.bin", 4);
    EXPECT_EQ(writer.record_bytes(), 49u);
    writer.Add(3, pixels);
    writer.Add(4, pixels);
    EXPECT_FALSE(fs::exists(dir / "data_batch_1.bin")) << "nothing under the final name yet";
    auto written = writer.Finish();
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(written->records, 2u);
    EXPECT_EQ(written->bytes, 98u);
    auto bytes = ReadWholeFile(dir / "data_batch_1.bin");
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(written->sha256, ToHex(Sha256Of(*bytes)));
    EXPECT_EQ((*bytes)[0], 3);
    EXPECT_EQ((*bytes)[49], 4);
  }
  size_t files = 0;
  for (auto& entry : fs::directory_iterator(dir)) files += !entry.path().empty();
  EXPECT_EQ(files, 1u) << "no temporary left behind";
  fs::remove_all(dir);
}

TEST(ShardWriter, AbandonLeavesNothing) {
  const fs::path dir = TempDir("abandon");
  {
    ShardWriter writer(dir / "x.bin", 2);
    std::vector<uint8_t> pixels(12, 1);
    writer.Add(0, pixels);
    writer.Abandon();
  }
  {
    ShardWriter writer(dir / "y.bin", 2);  // destroyed unfinished
    std::vector<uint8_t> pixels(12, 1);
    writer.Add(0, pixels);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST(ShardWriter, OpenFailureIsAStatusNamingThePath) {
  ShardWriter writer("/nonexistent-memes-dir/data_batch_1.bin", 32);
  EXPECT_FALSE(writer.status().ok());
  EXPECT_NE(writer.status().ToString().find("nonexistent-memes-dir"), std::string::npos);
  auto written = writer.Finish();
  EXPECT_FALSE(written.ok());
}

TEST(ShardWriter, Crc32MatchesZlibReference) {
  const std::string text = "123456789";
  EXPECT_EQ(Crc32(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), 9)),
            0xCBF43926u);
}

}  // namespace
}  // namespace memes::store
