// A progress bar for long jobs: count, total, rate and ETA.
//
// On a terminal it redraws one line in place (at most 10 times a second); elsewhere (CI logs,
// pipes) it prints a plain line at most every `plain_interval` so logs stay readable.
// Thread-safe: Add() may be called from any flow-graph node concurrently (atomic counter; the
// thread that crosses a redraw deadline draws).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace memes {

class ProgressBar {
 public:
  struct Options {
    std::FILE* stream = stderr;
    // nullopt-like: -1 means "decide from isatty(stream)".
    int force_terminal = -1;
    std::chrono::milliseconds plain_interval{5000};
    bool enabled = true;  // false under -q
  };

  // `total` 0 means unknown (no percentage, no ETA).
  ProgressBar(std::string label, uint64_t total);
  ProgressBar(std::string label, uint64_t total, Options options);
  ~ProgressBar();  // calls Finish() if not yet called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Add(uint64_t n = 1);
  void SetTotal(uint64_t total);
  // Free text shown after the counts ("kept 120 failed 3").
  void SetDetail(std::string detail);
  // Draws the final line and releases the terminal line.
  void Finish();

  uint64_t count() const { return count_.load(); }

  // The text of the bar for the given state; pure, for tests.
  static std::string Render(const std::string& label, uint64_t count, uint64_t total,
                            double elapsed_seconds, const std::string& detail, int width);

 private:
  void MaybeDraw(bool force);

  std::string label_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> total_;
  Options options_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_;
  std::mutex draw_mutex_;
  std::chrono::steady_clock::time_point next_draw_;  // guarded by draw_mutex_
  std::string detail_;                                // guarded by draw_mutex_
  bool finished_ = false;                             // guarded by draw_mutex_
};

// "1.2 KiB", "3.4 MiB": human sizes for summaries.
std::string HumanBytes(uint64_t bytes);
// "42s", "3m05s", "1h02m".
std::string HumanDuration(double seconds);

}  // namespace memes
