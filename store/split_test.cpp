#include "store/split.h"

#include <gtest/gtest.h>

#include <string>

namespace memes::store {
namespace {

TEST(Split, IsDeterministicAndDependsOnSeed) {
  EXPECT_EQ(SplitPoint("abc", 0), SplitPoint("abc", 0));
  EXPECT_NE(SplitPoint("abc", 0), SplitPoint("abc", 1));
  EXPECT_NE(SplitPoint("abc", 0), SplitPoint("abd", 0));
}

TEST(Split, FractionIsRespectedOverManyGroups) {
  int test = 0;
  const int groups = 20000;
  for (int i = 0; i < groups; ++i) {
    test += SplitOf("group-" + std::to_string(i), 7, 0.2) == Split::kTest;
  }
  EXPECT_NEAR(test / double(groups), 0.2, 0.015);
  EXPECT_EQ(SplitOf("x", 0, 0.0), Split::kTrain);
  EXPECT_EQ(SplitOf("x", 0, 1.0), Split::kTest);
}

}  // namespace
}  // namespace memes::store
