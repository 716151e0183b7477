#include "train/thread_chooser.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace memes::train {
namespace {

double MedianOf(std::vector<double> values) {
  assert(!values.empty());
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

std::string ThreadsText(int threads) {
  return std::to_string(threads) + (threads == 1 ? " thread" : " threads");
}

}  // namespace

double ThreadChooser::Window::Median() const { return MedianOf(per_image); }

double ThreadChooser::Window::Rate() const {
  if (aborted || per_image.empty())
    return seconds / static_cast<double>(std::max<int64_t>(1, images));
  return Median();
}

ThreadChooser::ThreadChooser(const ThreadChooserOptions& options)
    : options_(options), steps_at_(static_cast<size_t>(std::max(1, options.max_threads)) + 1, 0) {
  assert(options_.max_threads >= 1 && options_.measure_steps >= 1 && options_.warmup_steps >= 0);
  if (options_.max_threads == 1) {
    phase_ = Phase::kExploit;
    exploit_needed_ = 1e300;  // nothing to compare with: never probes
    return;
  }
  StartProbe();
}

void ThreadChooser::StartProbe() {
  incumbent_ = Window{};
  challenger_ = Window{};
  incumbent_.threads = chosen_;
  if (recent_.size() < static_cast<size_t>(options_.measure_steps)) {
    phase_ = Phase::kIncumbent;  // the first probe: time the incumbent too
    current_ = chosen_;
    return;
  }
  // The incumbent's last exploit steps ran at its count already: they are its window.
  for (const Step& step : recent_) {
    ++incumbent_.steps;
    incumbent_.seconds += step.seconds;
    incumbent_.images += step.images;
    incumbent_.per_image.push_back(step.seconds / static_cast<double>(step.images));
  }
  StartChallenger();
}

void ThreadChooser::StartChallenger() {
  phase_ = Phase::kChallenger;
  challenger_ = Window{};
  challenger_.threads = incumbent_.threads == 1 ? options_.max_threads : 1;
  current_ = challenger_.threads;
}

std::optional<std::string> ThreadChooser::Record(double seconds, int64_t images) {
  assert(seconds >= 0 && images >= 1);
  ++steps_at_[static_cast<size_t>(current_)];
  const double per_image = seconds / static_cast<double>(images);
  if (phase_ == Phase::kExploit) {
    exploit_seconds_ += seconds;
    ++exploit_steps_;
    recent_.push_back({seconds, images});
    if (recent_.size() > static_cast<size_t>(options_.measure_steps))
      recent_.erase(recent_.begin());
    const bool full = recent_.size() == static_cast<size_t>(options_.measure_steps);
    std::vector<double> recent_per_image;
    for (const Step& step : recent_) {
      recent_per_image.push_back(step.seconds / static_cast<double>(step.images));
    }
    // Only a count above 1 can be beaten by fewer threads when load arrives, and probing 1
    // thread costs little, so this check needs no minimum of exploit steps.
    const bool slowed = chosen_ > 1 && full &&
                        MedianOf(recent_per_image) > options_.slowdown_ratio * chosen_per_image_;
    const bool due =
        exploit_steps_ >= options_.min_exploit_steps && exploit_seconds_ >= exploit_needed_;
    if ((slowed || due) && full) StartProbe();
    return std::nullopt;
  }
  Window& window = phase_ == Phase::kIncumbent ? incumbent_ : challenger_;
  ++window.steps;
  window.seconds += seconds;
  window.images += images;
  const bool warming = window.steps <= options_.warmup_steps;
  if (!warming) window.per_image.push_back(per_image);
  const bool measured = window.per_image.size() >= static_cast<size_t>(options_.measure_steps);
  if (phase_ == Phase::kIncumbent) {
    if (measured) StartChallenger();
    return std::nullopt;
  }
  // The challenger: stop as soon as one step shows it is far behind the incumbent.
  const double limit =
      (warming ? options_.warmup_abort_ratio : options_.abort_ratio) * incumbent_.Median();
  if (per_image > limit) {
    window.aborted = true;
    return Decide();
  }
  if (measured) return Decide();
  return std::nullopt;
}

std::optional<std::string> ThreadChooser::Decide() {
  const bool incumbent_is_one = incumbent_.threads == 1;
  const Window& one = incumbent_is_one ? incumbent_ : challenger_;
  const Window& many = incumbent_is_one ? challenger_ : incumbent_;
  bool many_wins;
  if (many.aborted) {
    many_wins = false;
  } else if (one.aborted) {
    many_wins = true;
  } else {
    many_wins = many.Median() * options_.gain_needed < one.Median();
  }
  const int before = chosen_;
  chosen_ = many_wins ? options_.max_threads : 1;
  backoff_ = decisions_ > 0 && chosen_ == before ? std::min(2 * backoff_, options_.max_backoff) : 1;
  const Window& winner = many_wins ? many : one;
  const Window& loser = many_wins ? one : many;
  chosen_per_image_ = winner.Median();
  // What probing the loser again should cost beyond running the winner: the steps it would run
  // as the challenger (one when the warm-up step already shows it far behind, two when its
  // first measured step does, else the whole window) at the difference of their rates.
  const double loser_rate = loser.Rate();
  int loser_steps = options_.warmup_steps + options_.measure_steps;
  if (loser_rate > options_.warmup_abort_ratio * chosen_per_image_) {
    loser_steps = std::min(loser_steps, 1);
  } else if (loser_rate > options_.abort_ratio * chosen_per_image_) {
    loser_steps = std::min(loser_steps, options_.warmup_steps + 1);
  }
  const double images_per_step =
      static_cast<double>(loser.images) / static_cast<double>(std::max(1, loser.steps));
  const double expected_cost =
      std::max(0.0, (loser_rate - chosen_per_image_) * images_per_step * loser_steps);
  exploit_needed_ =
      backoff_ * std::max(options_.min_exploit_seconds, options_.exploit_per_probe * expected_cost);
  exploit_seconds_ = 0;
  exploit_steps_ = 0;
  recent_.clear();
  phase_ = Phase::kExploit;
  current_ = chosen_;
  ++decisions_;

  auto describe = [](const Window& w) {
    char text[128];
    if (w.aborted) {
      std::snprintf(text, sizeof text, "%s %.0f img/s (stopped after %d step%s)",
                    ThreadsText(w.threads).c_str(), 1.0 / std::max(w.Rate(), 1e-12), w.steps,
                    w.steps == 1 ? "" : "s");
    } else {
      std::snprintf(text, sizeof text, "%s %.0f img/s", ThreadsText(w.threads).c_str(),
                    1.0 / std::max(w.Median(), 1e-12));
    }
    return std::string(text);
  };
  char tail[96];
  std::snprintf(tail, sizeof tail, " -> %s; next check in %.0f s%s", ThreadsText(chosen_).c_str(),
                exploit_needed_, chosen_ > 1 ? " or on a slowdown" : "");
  return "threads auto: " + describe(incumbent_) + ", " + describe(challenger_) + tail;
}

}  // namespace memes::train
