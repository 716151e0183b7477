#include "core/progress.h"

#include <cmath>
#include <cstdio>

#include "core/terminal.h"

namespace memes {

ProgressBar::ProgressBar(std::string label, uint64_t total)
    : ProgressBar(std::move(label), total, Options{}) {}

ProgressBar::ProgressBar(std::string label, uint64_t total, Options options)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      terminal_(options.force_terminal >= 0 ? options.force_terminal == 1
                                            : IsTerminal(options.stream)),
      start_(std::chrono::steady_clock::now()),
      next_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Add(uint64_t n) {
  count_.fetch_add(n, std::memory_order_relaxed);
  MaybeDraw(false);
}

void ProgressBar::SetTotal(uint64_t total) { total_.store(total); }

void ProgressBar::SetDetail(std::string detail) {
  std::lock_guard lock(draw_mutex_);
  detail_ = std::move(detail);
}

void ProgressBar::Finish() {
  MaybeDraw(true);
  std::lock_guard lock(draw_mutex_);
  if (finished_) return;
  finished_ = true;
  if (options_.enabled && terminal_) {
    SetStatusLine(options_.stream, "");
  }
}

void ProgressBar::MaybeDraw(bool force) {
  if (!options_.enabled) return;
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(draw_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    if (!force) return;  // another thread is drawing; the next deadline catches up
    lock.lock();
  }
  if (finished_) return;
  if (!force && now < next_draw_) return;
  next_draw_ = now + (terminal_ ? std::chrono::milliseconds(100) : options_.plain_interval);
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string text =
      Render(label_, count_.load(), total_.load(), elapsed, detail_, terminal_ ? 30 : 0);
  if (terminal_) {
    if (force) {
      WriteAboveProgress(options_.stream, text + "\n");
    } else {
      SetStatusLine(options_.stream, text);
    }
  } else {
    WriteAboveProgress(options_.stream, text + "\n");
  }
}

std::string ProgressBar::Render(const std::string& label, uint64_t count, uint64_t total,
                                double elapsed_seconds, const std::string& detail, int width) {
  std::string out = label;
  out += ' ';
  char buf[160];
  if (total > 0 && width > 0) {
    const double frac = std::min(1.0, static_cast<double>(count) / static_cast<double>(total));
    const int filled = static_cast<int>(std::lround(frac * width));
    out += '[';
    out.append(filled, '#');
    out.append(width - filled, '.');
    out += "] ";
  }
  if (total > 0) {
    std::snprintf(buf, sizeof buf, "%llu/%llu (%.0f%%)", static_cast<unsigned long long>(count),
                  static_cast<unsigned long long>(total), 100.0 * count / total);
  } else {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(count));
  }
  out += buf;
  const double rate = elapsed_seconds > 0 ? count / elapsed_seconds : 0.0;
  std::snprintf(buf, sizeof buf, " %.1f/s", rate);
  out += buf;
  if (total > 0 && count < total && rate > 0) {
    out += " ETA " + HumanDuration((total - count) / rate);
  } else {
    out += " " + HumanDuration(elapsed_seconds);
  }
  if (!detail.empty()) out += "  " + detail;
  return out;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, units[unit]);
  }
  return buf;
}

std::string HumanDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = std::lround(seconds);
  char buf[32];
  if (total < 60) {
    std::snprintf(buf, sizeof buf, "%lds", total);
  } else if (total < 3600) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  }
  return buf;
}

}  // namespace memes
