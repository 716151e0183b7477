#include "train/training_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace memes::train {

Result<Schedule> Schedule::Make(const std::string& name, double peak, int epochs,
                                double warmup_epochs, std::vector<int> milestones) {
  if (name != "step" && name != "cosine" && name != "onecycle" && name != "triangular") {
    return InvalidArgument("--schedule must be step, cosine, onecycle or triangular (got '" + name +
                           "')");
  }
  if (!(peak > 0) || epochs < 1 || warmup_epochs < 0) {
    return InvalidArgument("schedule needs a positive learning rate, epochs >= 1, warm-up >= 0");
  }
  Schedule schedule;
  schedule.name_ = name;
  schedule.peak_ = peak;
  schedule.epochs_ = epochs;
  schedule.warmup_ = std::min<double>(warmup_epochs, epochs);
  if (name == "onecycle") schedule.warmup_ = std::max(schedule.warmup_, 0.3 * epochs);
  if (milestones.empty()) milestones = {std::max(1, epochs / 2), std::max(1, epochs * 3 / 4)};
  std::sort(milestones.begin(), milestones.end());
  schedule.milestones_ = std::move(milestones);
  return schedule;
}

double Schedule::At(double progress) const {
  if (name_ == "step") {
    const int epoch = static_cast<int>(std::floor(progress));
    double rate = peak_;
    for (int milestone : milestones_) {
      if (epoch >= milestone) rate /= 10;
    }
    return rate;
  }
  if (name_ == "triangular") {
    const double rise = 0.23 * epochs_;
    if (progress < rise) return peak_ * (0.2 + 0.8 * progress / rise);
    const double done = std::clamp((progress - rise) / (epochs_ - rise), 0.0, 1.0);
    return peak_ * (1.0 - 0.93 * done);
  }
  const double floor_rate = name_ == "onecycle" ? peak_ / 25 : 0.0;
  if (progress < warmup_) {
    const double start = name_ == "onecycle" ? peak_ / 25 : 0.0;
    // Cosine warm-up starts just above 0 so the first step still moves.
    const double share = name_ == "onecycle" ? progress / warmup_ : (progress + 1e-3) / warmup_;
    return start + (peak_ - start) * std::min(1.0, share);
  }
  const double span = std::max(1e-9, epochs_ - warmup_);
  const double done = std::clamp((progress - warmup_) / span, 0.0, 1.0);
  const double end = name_ == "onecycle" ? floor_rate / 1e4 : 0.0;
  return end + (peak_ - end) * 0.5 * (1 + std::cos(std::numbers::pi * done));
}

}  // namespace memes::train
