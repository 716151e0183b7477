#include "core/sha256.h"

#include <gtest/gtest.h>

#include <fstream>

namespace memes {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256Of(std::string_view(""))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256Of(std::string_view("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 hasher;
  hasher.Update(std::string_view("a"));
  hasher.Update(std::string_view("bc"));
  EXPECT_EQ(hasher.Finish(), Sha256Of(std::string_view("abc")));
}

TEST(Sha256, FileAndMissingFile) {
  const auto path = std::filesystem::path(::testing::TempDir()) / "sha_test.bin";
  std::ofstream(path, std::ios::binary) << "abc";
  auto digest = Sha256OfFile(path);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Sha256Of(std::string_view("abc")));
  auto missing = Sha256OfFile(path.string() + ".missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().ToString().find("sha_test.bin.missing"), std::string::npos);
}

}  // namespace
}  // namespace memes
