#include "ingest/curl_errors.h"

#include <gtest/gtest.h>

namespace memes::ingest {
namespace {

TEST(ClassifyTransfer, MapsCurlCodesToErrorKinds) {
  EXPECT_EQ(ClassifyTransfer(CURLE_OK, 200, "", false, 10, 5).error, FetchError::kNone);
  const TransferError not_found = ClassifyTransfer(CURLE_OK, 404, "", false, 10, 5);
  EXPECT_EQ(not_found.error, FetchError::kHttpStatus);
  EXPECT_EQ(not_found.message, "http 404");
  EXPECT_EQ(ClassifyTransfer(CURLE_OPERATION_TIMEDOUT, 0, "slow", false, 10, 5).error,
            FetchError::kTimeout);
  EXPECT_EQ(ClassifyTransfer(CURLE_RECV_ERROR, 0, "reset", false, 10, 5).error, FetchError::kReset);
  EXPECT_EQ(ClassifyTransfer(CURLE_PARTIAL_FILE, 200, "short", false, 10, 5).error,
            FetchError::kTruncated);
  EXPECT_EQ(ClassifyTransfer(CURLE_FILESIZE_EXCEEDED, 200, "", false, 10, 5).error,
            FetchError::kTooLarge);
  EXPECT_EQ(ClassifyTransfer(CURLE_WRITE_ERROR, 200, "", true, 10, 5).error, FetchError::kTooLarge);
  EXPECT_EQ(ClassifyTransfer(CURLE_WRITE_ERROR, 200, "disk", false, 10, 5).error,
            FetchError::kOther);
  const TransferError loop = ClassifyTransfer(CURLE_TOO_MANY_REDIRECTS, 302, "", false, 10, 5);
  EXPECT_EQ(loop.error, FetchError::kRedirectLoop);
  EXPECT_EQ(loop.message, "more than 5 redirects");
  EXPECT_EQ(ClassifyTransfer(CURLE_UNSUPPORTED_PROTOCOL, 302, "", false, 10, 5).error,
            FetchError::kBadUrl);
  EXPECT_EQ(ClassifyTransfer(CURLE_PEER_FAILED_VERIFICATION, 0, "", false, 10, 5).error,
            FetchError::kTls);
}

TEST(ClassifyTransfer, RetryableKinds) {
  EXPECT_TRUE(IsRetryable(FetchError::kTimeout, 0));
  EXPECT_TRUE(IsRetryable(FetchError::kReset, 0));
  EXPECT_TRUE(IsRetryable(FetchError::kHttpStatus, 503));
  EXPECT_TRUE(IsRetryable(FetchError::kHttpStatus, 429));
  EXPECT_FALSE(IsRetryable(FetchError::kHttpStatus, 404));
  EXPECT_FALSE(IsRetryable(FetchError::kHttpStatus, 403));
  EXPECT_FALSE(IsRetryable(FetchError::kTooLarge, 200));
  EXPECT_FALSE(IsRetryable(FetchError::kRobotsForbidden, 0));
  EXPECT_FALSE(IsRetryable(FetchError::kRedirectLoop, 0));
}

}  // namespace
}  // namespace memes::ingest
