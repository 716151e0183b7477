#include "store/split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

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

namespace memes::store {
namespace {

TEST(BalancedSplit, HitsEveryClassTargetWhateverTheInputOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) keys.push_back("g" + std::to_string(i));
  std::vector<SplitGroup> units;
  for (int i = 0; i < 400; ++i) {
    // Class i % 2; one group in ten holds 8 items, one in fifty also items of class 2.
    SplitGroup unit{keys[i], {{i % 2, i % 10 == 0 ? 8 : 1}}};
    if (i % 50 == 0) unit.items.emplace_back(2, 3);
    units.push_back(unit);
  }
  const auto sides = BalancedSplit(units, 5, 0.25);
  std::map<int, double> test, all;
  for (size_t i = 0; i < units.size(); ++i) {
    for (const auto& [label, items] : units[i].items) {
      all[label] += items;
      if (sides[i] == Split::kTest) test[label] += items;
    }
  }
  for (const auto& [label, items] : all) {
    // Class 2 comes only in mixed 8+3 groups: it can miss by one group's share.
    EXPECT_NEAR(test[label], 0.25 * items, label == 2 ? 3.0 : 1.0) << "class " << label;
  }
  std::vector<SplitGroup> reversed(units.rbegin(), units.rend());
  auto reversed_sides = BalancedSplit(reversed, 5, 0.25);
  std::reverse(reversed_sides.begin(), reversed_sides.end());
  EXPECT_EQ(reversed_sides, sides);
  EXPECT_NE(BalancedSplit(units, 6, 0.25), sides);
}

TEST(BalancedSplit, ExtremesAndAGroupLargerThanItsShare) {
  const std::vector<SplitGroup> units = {{"big", {{0, 50}}}, {"a", {{0, 1}}}, {"b", {{0, 1}}},
                                         {"c", {{0, 1}}},    {"d", {{0, 1}}}, {"e", {{0, 1}}}};
  for (const Split side : BalancedSplit(units, 0, 0.0)) EXPECT_EQ(side, Split::kTrain);
  for (const Split side : BalancedSplit(units, 0, 1.0)) EXPECT_EQ(side, Split::kTest);
  // 20 % of 55 items is 11: the 50-item group never fits; the five single items all do.
  const auto sides = BalancedSplit(units, 0, 0.2);
  EXPECT_EQ(sides[0], Split::kTrain);
  for (size_t i = 1; i < units.size(); ++i) EXPECT_EQ(sides[i], Split::kTest);
}

}  // namespace
}  // namespace memes::store
