// Learning-rate schedules, as a pure function of training progress (in epochs, fractional), so
// the schedule's whole state is the step counter a checkpoint already holds.
// Thread-safety: immutable value.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace memes::train {

class Schedule {
 public:
  // "step": peak ÷10 at each milestone epoch (empty: 50% and 75% of the epochs), as the original.
  // "cosine": linear warm-up from 0 over warmup_epochs, then cosine to 0 at the last epoch.
  // "onecycle": linear rise from peak/25 over max(warmup_epochs, 30% of the run), then cosine
  //   down to peak/25/1e4.
  // "triangular" (airbench): linear from 0.2 * peak to peak over the first 23% of the run, then
  //   linear down to 0.07 * peak at the end.
  static Result<Schedule> Make(const std::string& name, double peak, int epochs,
                               double warmup_epochs, std::vector<int> milestones);
  // Learning rate at `progress` epochs into the run (0 <= progress < epochs).
  double At(double progress) const;

 private:
  std::string name_;
  double peak_ = 0.1;
  double epochs_ = 1;
  double warmup_ = 0;
  std::vector<int> milestones_;
};

}  // namespace memes::train
