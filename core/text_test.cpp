#include "core/text.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace memes {
namespace {

TEST(Text, DisplayWidthCountsWideCharactersTwice) {
  EXPECT_EQ(DisplayWidth(""), 0);
  EXPECT_EQ(DisplayWidth("shiba"), 5);
  EXPECT_EQ(DisplayWidth("柴犬"), 4);
  EXPECT_EQ(DisplayWidth("熊本熊kumamon"), 13);
  EXPECT_EQ(DisplayWidth("ｓｈｉｂａ"), 10) << "fullwidth Latin";
  EXPECT_EQ(DisplayWidth("ひらがな"), 8);
  EXPECT_EQ(DisplayWidth("곰"), 2);
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1) << "a combining accent takes no column";
  EXPECT_EQ(DisplayWidth("caf\xC3\xA9"), 4);
}

TEST(Text, InvalidUtf8CountsOneColumnPerBadByte) {
  EXPECT_EQ(DecodeUtf8("a\xFF"
                       "b"),
            (std::vector<char32_t>{'a', 0xFFFD, 'b'}));
  EXPECT_EQ(DecodeUtf8("\xE6\x9F"), (std::vector<char32_t>{0xFFFD, 0xFFFD})) << "truncated";
  EXPECT_EQ(DecodeUtf8("\xC0\xAF"), (std::vector<char32_t>{0xFFFD, 0xFFFD})) << "overlong";
  EXPECT_EQ(DecodeUtf8("柴"), (std::vector<char32_t>{0x67F4}));
}

TEST(Text, PaddingUsesDisplayWidth) {
  EXPECT_EQ(PadRight("柴犬", 6), "柴犬  ");
  EXPECT_EQ(PadRight("shiba", 6), "shiba ");
  EXPECT_EQ(PadLeft("柴犬", 6), "  柴犬");
  EXPECT_EQ(PadRight("熊本熊表情包", 4), "熊本熊表情包") << "never truncates";
  EXPECT_EQ(DisplayWidth(PadRight("柴犬", 10)), DisplayWidth(PadRight("frog", 10)));
}

TEST(Text, EditDistanceIsOverCodePoints) {
  EXPECT_EQ(EditDistance("mushroom_head", "mushroom_haed"), 1) << "a swap counts one";
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("kumamon", "kumamon"), 0);
  EXPECT_EQ(EditDistance("", "frog"), 4);
  EXPECT_EQ(EditDistance("柴犬", "柴大"), 1) << "one character, three bytes";
}

TEST(Text, TrimRemovesSpacesLineEndsAndByteOrderMarks) {
  EXPECT_EQ(TrimText("  shiba \r\n"), "shiba");
  EXPECT_EQ(TrimText("\xEF\xBB\xBF"
                     "柴犬"),
            "柴犬");
  EXPECT_EQ(TrimText(" \xEF\xBB\xBF frog\t"), "frog");
  EXPECT_EQ(TrimText("a b"), "a b");
  EXPECT_EQ(TrimText(" \r "), "");
}

TEST(Text, FormatFixedRounds) {
  EXPECT_EQ(FormatFixed(5.94118, 2), "5.94");
  EXPECT_EQ(FormatFixed(0.0528515, 2), "0.05");
  EXPECT_EQ(FormatFixed(3, 1), "3.0");
}

TEST(Text, CountOfAgrees) {
  EXPECT_EQ(CountOf(1, "test item", "test items"), "1 test item");
  EXPECT_EQ(CountOf(0, "test item", "test items"), "0 test items");
  EXPECT_EQ(CountOf(2, "thread", "threads"), "2 threads");
}

TEST(Text, LocalTimeIsIso8601WithOffset) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  EXPECT_EQ(FormatLocalTime(0), "1970-01-01T00:00:00+00:00");
  ::setenv("TZ", "CST-8", 1);  // POSIX form: no tzdata needed
  ::tzset();
  EXPECT_EQ(FormatLocalTime(1'700'000'000), "2023-11-15T06:13:20+08:00");
  ::unsetenv("TZ");
  ::tzset();
}

}  // namespace
}  // namespace memes
