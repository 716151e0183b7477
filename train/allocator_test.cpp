#include "train/allocator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <vector>

namespace memes::train {
namespace {

// The compiled-in settings are in effect: jemalloc read the program's malloc_conf. (MALLOC_CONF
// in the environment would override them; the test suite does not set it.)
TEST(Allocator, JemallocRunsWithDecayOff) {
  if (!JemallocLinked()) GTEST_SKIP() << "built with -DMEMES_JEMALLOC=OFF: glibc malloc";
  if (std::getenv("MALLOC_CONF") != nullptr) GTEST_SKIP() << "MALLOC_CONF is set: it overrides";
  // An allocation through plain malloc is jemalloc's (the symbol interposes glibc's).
  std::vector<char> block(1 << 20);
  std::memset(block.data(), 1, block.size());
  EXPECT_EQ(JemallocOption("opt.dirty_decay_ms"), -1);
  EXPECT_EQ(JemallocOption("opt.muzzy_decay_ms"), -1);
  EXPECT_NE(AllocatorDescription().find("jemalloc 5"), std::string::npos) << AllocatorDescription();
}

TEST(Allocator, DescriptionNamesTheAllocator) {
  const std::string text = AllocatorDescription();
  EXPECT_TRUE(text.starts_with(JemallocLinked() ? "jemalloc" : "glibc")) << text;
  EXPECT_EQ(JemallocOption("opt.no_such_option"), std::nullopt);
}

}  // namespace
}  // namespace memes::train
