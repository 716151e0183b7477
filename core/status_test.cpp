#include "core/status.h"

#include <gtest/gtest.h>

namespace memes {
namespace {

Result<int> ParsePositive(int x) {
  if (x <= 0) return InvalidArgument("must be positive", "x");
  return x;
}

Result<int> Doubled(int x) {
  MEMES_ASSIGN_OR_RETURN(int value, ParsePositive(x));
  return value * 2;
}

Status Check(int x) {
  MEMES_RETURN_IF_ERROR(ParsePositive(x).status());
  return Status::Ok();
}

TEST(Status, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, CarriesWhatAndWhere) {
  Status s = Corrupt("truncated GIF after frame 7", "a.gif");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorrupt);
  EXPECT_EQ(s.ToString(), "a.gif: truncated GIF after frame 7");
  EXPECT_EQ(s.At("pack.zip").ToString(), "pack.zip: a.gif: truncated GIF after frame 7");
  EXPECT_EQ(Corrupt("bad").At("b.gif").ToString(), "b.gif: bad");
}

TEST(Result, ValueOrStatus) {
  EXPECT_EQ(Doubled(4).value(), 8);
  Result<int> bad = Doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().where(), "x");
  EXPECT_TRUE(Check(3).ok());
  EXPECT_FALSE(Check(0).ok());
}

TEST(Status, CodeNames) {
  EXPECT_EQ(StatusCodeName(StatusCode::kLimitExceeded), "limit exceeded");
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "ok");
}

}  // namespace
}  // namespace memes
