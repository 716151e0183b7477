#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace memes {
namespace {

TEST(ProgressBar, RendersCountRateAndEta) {
  const std::string text = ProgressBar::Render("fetch", 50, 100, 10.0, "failed 2", 10);
  EXPECT_NE(text.find("fetch [#####.....] 50/100 (50%)"), std::string::npos) << text;
  EXPECT_NE(text.find("5.0/s"), std::string::npos) << text;
  EXPECT_NE(text.find("ETA 10s"), std::string::npos) << text;
  EXPECT_NE(text.find("failed 2"), std::string::npos) << text;
}

TEST(ProgressBar, UnknownTotalShowsCountAndElapsed) {
  const std::string text = ProgressBar::Render("pages", 7, 0, 65.0, "", 0);
  EXPECT_EQ(text, "pages 7 0.1/s 1m05s");
}

TEST(ProgressBar, PlainLinesWhenNotATerminal) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* stream = open_memstream(&buffer, &size);
  ASSERT_NE(stream, nullptr);
  {
    ProgressBar::Options options;
    options.stream = stream;
    options.force_terminal = 0;
    options.plain_interval = std::chrono::hours(1);
    ProgressBar bar("decode", 1000, options);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 250; ++i) bar.Add();
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(bar.count(), 1000u);
  }
  std::fclose(stream);
  const std::string out(buffer, size);
  std::free(buffer);
  // One line at the start, one at the finish; no carriage returns or escape codes.
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  EXPECT_EQ(out.find('\033'), std::string::npos) << out;
  EXPECT_NE(out.find("1000/1000 (100%)"), std::string::npos) << out;
}

TEST(HumanUnits, BytesAndDurations) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(3 * 1024 * 1024 + 400 * 1024), "3.4 MiB");
  EXPECT_EQ(HumanDuration(42), "42s");
  EXPECT_EQ(HumanDuration(185), "3m05s");
  EXPECT_EQ(HumanDuration(3720), "1h02m");
}

}  // namespace
}  // namespace memes
