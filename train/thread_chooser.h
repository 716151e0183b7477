// `--threads auto` (the default): picks LibTorch's intra-op thread count while training runs, by
// timing windows of steps at 1 thread and at all cores and keeping the faster, then checking
// again periodically because the load on a shared machine changes. LibTorch-free: the trainer
// feeds it each step's wall time and sets at::set_num_threads(threads()) before the next step.
// Thread-safety: none; one training thread owns it.
//
// Why: with another process on the second of 2 cores, two OpenMP threads wait at every barrier
// for a descheduled partner and trained 10–35× slower than one (docs/benchmarks.md, "Threads on
// a shared machine"); on idle cores two are ~1.6× faster. Neither fixed count is right for long.
//
// "Never slower than one thread" is built in, not hoped for:
//   - the first window runs 1 thread (the incumbent); more threads must then be `gain_needed`
//     times faster per image to be chosen;
//   - later probes time only the challenger: the incumbent's last steps are its fresh window;
//   - a challenger's window ends after one step that is `abort_ratio` times slower than the
//     incumbent's median (`warmup_abort_ratio` for its warm-up step), so probing a bad count
//     costs one or two of its steps;
//   - the chosen count then runs for at least `exploit_per_probe` times what probing the loser
//     again is expected to cost (and `min_exploit_seconds`, `min_exploit_steps`), so probing
//     costs at most ~1/exploit_per_probe of the run; a count that lost badly is checked rarely;
//   - each probe that confirms the count doubles the wait before the next (`max_backoff`);
//   - while more than one thread is chosen, steps `slowdown_ratio` times slower than at its
//     probe (load arrived) start a probe of 1 thread at once. One thread that speeds up (load
//     left) waits for the periodic probe: probing more threads early could cost 30x a step.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace memes::train {

struct ThreadChooserOptions {
  int max_threads = 2;              // the candidate besides 1 (all cores); 1: never probes
  int warmup_steps = 1;             // steps after a switch: timed for the cost, not compared
  int measure_steps = 3;            // steps compared per candidate (median time per image)
  double abort_ratio = 2.0;         // a challenger's measured step this much slower ends it
  double warmup_abort_ratio = 8;    // the same for its warm-up step (new kernels, waking threads)
  double gain_needed = 1.1;         // more threads must be this much faster per image to win
  double min_exploit_seconds = 20;  // the chosen count runs at least this long between probes
  int min_exploit_steps = 10;       // and at least this many steps
  double exploit_per_probe = 10;    // and at least this many times the last probe's extra cost
  double slowdown_ratio = 1.5;      // >1 thread chosen: steps this much slower re-probe early
  // Each probe that keeps the count chosen before doubles the wait before the next, up to this
  // factor; a probe that changes it starts again at 1. On a machine whose load does not change
  // the probes then cost ~1 % of the run instead of ~10 % (a full Fashion-MNIST epoch ran 8 of
  // its 59 steps at 1 thread without it), while a load that arrives is still caught by the
  // slowdown check at once.
  double max_backoff = 8;
};

class ThreadChooser {
 public:
  // Requires: options.max_threads >= 1, measure_steps >= 1, warmup_steps >= 0.
  explicit ThreadChooser(const ThreadChooserOptions& options);

  // The thread count for the next step.
  int threads() const { return current_; }

  // Records the step just run at threads(): its wall time and images. Returns a line for the
  // log when a probe ends with a decision (what each count measured and what is kept).
  // Requires: seconds >= 0, images >= 1.
  std::optional<std::string> Record(double seconds, int64_t images);

  // Steps recorded at each thread count so far (index = threads; index 0 unused).
  const std::vector<int64_t>& steps_at() const { return steps_at_; }
  // Probes that ended in a decision so far.
  int decisions() const { return decisions_; }

 private:
  enum class Phase { kIncumbent, kChallenger, kExploit };
  struct Window {
    int threads = 1;
    int steps = 0;                  // warm-up and measured
    std::vector<double> per_image;  // measured steps' seconds per image
    double seconds = 0;             // all steps of the window
    int64_t images = 0;
    bool aborted = false;
    double Median() const;
    double Rate() const;  // seconds per image: the median, or the mean of an aborted window
  };
  struct Step {
    double seconds;
    int64_t images;
  };

  void StartProbe();
  void StartChallenger();
  std::optional<std::string> Decide();

  ThreadChooserOptions options_;
  int current_ = 1;
  int chosen_ = 1;
  Phase phase_ = Phase::kIncumbent;
  Window incumbent_, challenger_;
  double chosen_per_image_ = 0;  // the chosen count's probe median
  double exploit_seconds_ = 0;
  int exploit_steps_ = 0;
  double exploit_needed_ = 0;  // seconds of exploit before the next probe
  double backoff_ = 1;         // 2^(probes in a row that kept the count), <= max_backoff
  std::vector<Step> recent_;   // the last measure_steps exploit steps
  std::vector<int64_t> steps_at_;
  int decisions_ = 0;
};

}  // namespace memes::train
