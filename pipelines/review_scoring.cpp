#include "pipelines/review_scoring.h"
#include "core/mix.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace memes::pipelines {

namespace {

uint64_t KeyHash(const std::string& key, uint64_t seed) {
  uint64_t hash = SplitMix64(seed);
  for (unsigned char c : key) hash = SplitMix64(hash ^ c);
  return hash;
}

}  // namespace

std::vector<int> AssignFolds(std::span<const FoldGroup> groups, int folds, uint64_t seed) {
  assert(folds >= 1);
  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::vector<uint64_t> hashes(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) hashes[g] = KeyHash(groups[g].key, seed);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (groups[a].items != groups[b].items) return groups[a].items > groups[b].items;
    if (hashes[a] != hashes[b]) return hashes[a] < hashes[b];
    return groups[a].key < groups[b].key;
  });
  std::vector<int64_t> load(folds, 0);
  std::vector<int> fold_of(groups.size(), 0);
  for (size_t g : order) {
    const int fold = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
    fold_of[g] = fold;
    load[fold] += groups[g].items;
  }
  return fold_of;
}

LabelScores ScoreLabels(std::span<const float> probs, std::span<const int> labels, int classes) {
  assert(classes >= 2 && probs.size() == labels.size() * static_cast<size_t>(classes));
  LabelScores scores;
  const size_t n = labels.size();
  scores.self_confidence.resize(n);
  scores.normalized_margin.resize(n);
  scores.suggested.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * classes;
    const int given = labels[i];
    assert(given >= 0 && given < classes);
    int best_other = given == 0 ? 1 : 0;
    for (int k = 0; k < classes; ++k) {
      if (k != given && row[k] > row[best_other]) best_other = k;
    }
    scores.self_confidence[i] = row[given];
    scores.normalized_margin[i] = (row[given] - row[best_other] + 1.0f) / 2.0f;
    scores.suggested[i] = best_other;
  }
  return scores;
}

namespace {

// Integers rounded from `values` (half to even) whose sum is the rounded sum of `values`: the
// cells with the largest remainders move up (or the smallest down) first. cleanlab's
// round_preserving_sum, so that a row of the calibrated joint keeps its label count.
std::vector<int64_t> RoundPreservingSum(const std::vector<double>& values) {
  std::vector<double> ints(values.size());
  double sum = 0, int_sum = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    ints[i] = std::nearbyint(values[i]);
    sum += values[i];
    int_sum += ints[i];
  }
  const double target = std::nearbyint(sum);
  while (std::abs(int_sum - target) > 1e-6) {
    const int step = target < int_sum ? -1 : 1;
    const size_t changes =
        std::min(static_cast<size_t>(std::llround(std::abs(target - int_sum))), values.size());
    std::vector<size_t> order(values.size());
    std::iota(order.begin(), order.end(), size_t{0});
    // Up: largest remainder first, down: smallest first; ties as NumPy's argsort (stable on
    // a row this short) and its reversal order them: up, the later cell first.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return values[a] - ints[a] < values[b] - ints[b]; });
    if (step > 0) std::reverse(order.begin(), order.end());
    for (size_t r = 0; r < changes; ++r) ints[order[r]] += step;
    int_sum = std::accumulate(ints.begin(), ints.end(), 0.0);
  }
  return std::vector<int64_t>(ints.begin(), ints.end());
}

// The sum of `values` added in the order NumPy's pairwise summation adds a contiguous float64
// array: the calibrated joint hits exact halves (159.5 items) that the rounding then splits, so
// the last bit of its total decides which cell a tie goes to, as it does in cleanlab.
double PairwiseSum(const double* values, size_t count) {
  if (count < 8) {
    double sum = 0;  // NumPy starts from -0.0; the same for any sum of these (non-negative) cells
    for (size_t i = 0; i < count; ++i) sum += values[i];
    return sum;
  }
  if (count <= 128) {
    double partial[8];
    for (int j = 0; j < 8; ++j) partial[j] = values[j];
    size_t i = 8;
    for (; i + 8 <= count; i += 8) {
      for (int j = 0; j < 8; ++j) partial[j] += values[i + j];
    }
    double sum = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                 ((partial[4] + partial[5]) + (partial[6] + partial[7]));
    for (; i < count; ++i) sum += values[i];
    return sum;
  }
  size_t half = count / 2;
  half -= half % 8;
  return PairwiseSum(values, half) + PairwiseSum(values + half, count - half);
}

}  // namespace

ConfidentLearning FindLabelIssues(std::span<const float> probs, std::span<const int> labels,
                                  int classes) {
  assert(classes >= 2 && probs.size() == labels.size() * static_cast<size_t>(classes));
  const size_t n = labels.size();
  const auto p = [&](size_t i, int k) { return static_cast<double>(probs[i * classes + k]); };
  const auto cell = [&](int i, int j) { return static_cast<size_t>(i) * classes + j; };
  // cleanlab's fuzzy comparison (FLOATING_POINT_COMPARISON) and its lower bound on thresholds.
  constexpr double kTolerance = 1e-6;
  ConfidentLearning result;

  // t_j: the mean self-confidence of the items labelled j; a class nobody is labelled with gets
  // 2, which no probability reaches.
  std::vector<int64_t> label_count(classes, 0);
  result.thresholds.assign(classes, 0.0);
  for (size_t i = 0; i < n; ++i) {
    ++label_count[labels[i]];
    result.thresholds[labels[i]] += p(i, labels[i]);
  }
  for (int j = 0; j < classes; ++j) {
    result.thresholds[j] = label_count[j] ? result.thresholds[j] / label_count[j] : 2.0;
    result.thresholds[j] = std::max(result.thresholds[j], 2 * kTolerance);
  }

  // The confident joint: an item counts once, under the one class whose probability reaches its
  // threshold, or under its most likely class when several do (not counted when none does).
  result.confident_joint.assign(cell(classes, 0), 0);
  for (size_t i = 0; i < n; ++i) {
    int above = 0, only = -1, argmax = 0;
    for (int k = 0; k < classes; ++k) {
      if (p(i, k) >= result.thresholds[k] - kTolerance) ++above, only = k;
      if (p(i, k) > p(i, argmax)) argmax = k;
    }
    if (above > 0) ++result.confident_joint[cell(labels[i], above == 1 ? only : argmax)];
  }
  // Every class keeps at least one confidently right item, so no row calibrates to nothing.
  for (int j = 0; j < classes; ++j) {
    result.confident_joint[cell(j, j)] = std::max<int64_t>(result.confident_joint[cell(j, j)], 1);
  }

  // Calibrate: each row to its label count, then the whole matrix to N (Q: the same over N).
  // The operations in cleanlab's order: the ties of the rounding below depend on the last bit.
  std::vector<double> calibrated(cell(classes, 0), 0.0);
  for (int i = 0; i < classes; ++i) {
    int64_t row_sum = 0;
    for (int j = 0; j < classes; ++j) row_sum += result.confident_joint[cell(i, j)];
    for (int j = 0; j < classes; ++j) {
      calibrated[cell(i, j)] = static_cast<double>(result.confident_joint[cell(i, j)]) /
                               std::max<int64_t>(row_sum, 1) * label_count[i];
    }
  }
  const double total = PairwiseSum(calibrated.data(), calibrated.size());
  result.joint.assign(cell(classes, 0), 0.0);
  for (size_t x = 0; x < calibrated.size(); ++x) {
    if (total > 0) calibrated[x] = calibrated[x] / total * static_cast<double>(n);
    result.joint[x] = n ? calibrated[x] / n : 0.0;
  }

  // Prune counts: the calibrated joint in whole items (each row keeps its total); then at least
  // one item of every given label stays on the diagonal, what the diagonal gains taken evenly
  // from the row's other non-zero cells (counted as cleanlab does: non-zero cells minus one, at
  // least one), cells clipped at 0 and truncated.
  result.prune_counts.assign(cell(classes, 0), 0);
  for (int i = 0; i < classes; ++i) {
    const std::vector<int64_t> rounded = RoundPreservingSum(
        std::vector<double>(calibrated.begin() + cell(i, 0), calibrated.begin() + cell(i + 1, 0)));
    const int64_t raised = std::max<int64_t>(rounded[i], 1);
    const int64_t non_zero =
        std::count_if(rounded.begin(), rounded.end(), [](int64_t v) { return v != 0; });
    const double taken = static_cast<double>(raised - rounded[i]) /
                         std::max<double>(static_cast<double>(non_zero) - 1, 1.0);
    for (int j = 0; j < classes; ++j) {
      const double count = j == i ? raised : std::max(rounded[j] - taken, 0.0);
      result.prune_counts[cell(i, j)] = static_cast<int64_t>(count);
    }
  }

  // prune_by_noise_rate: per off-diagonal cell, the items with the largest margin towards j.
  std::vector<std::vector<size_t>> by_label(classes);
  for (size_t i = 0; i < n; ++i) by_label[labels[i]].push_back(i);
  std::vector<char> flagged(n, 0);
  for (int i = 0; i < classes; ++i) {
    if (by_label[i].size() <= 1) continue;  // cleanlab's min_examples_per_class
    for (int j = 0; j < classes; ++j) {
      if (i == j) continue;
      const auto count = static_cast<size_t>(
          std::min<int64_t>(result.prune_counts[cell(i, j)], by_label[i].size()));
      if (count == 0) continue;
      std::vector<size_t> members = by_label[i];
      const auto margin = [&](size_t x) { return p(x, j) - p(x, i); };
      std::partial_sort(members.begin(), members.begin() + count, members.end(),
                        [&](size_t a, size_t b) {
                          const double ma = margin(a), mb = margin(b);
                          return ma != mb ? ma > mb : a < b;
                        });
      for (size_t r = 0; r < count; ++r) flagged[members[r]] = 1;
    }
  }
  // As find_label_issues: an item the model predicts as its given label (within the tolerance)
  // is not an issue.
  for (size_t i = 0; i < n; ++i) {
    if (!flagged[i]) continue;
    const int given = labels[i];
    const auto nudged = [&](int k) { return p(i, k) + (k == given ? kTolerance : 0.0); };
    int argmax = 0;
    for (int k = 1; k < classes; ++k) {
      if (nudged(k) > nudged(argmax)) argmax = k;
    }
    if (argmax != given) result.flagged.push_back(static_cast<int64_t>(i));
  }
  return result;
}

}  // namespace memes::pipelines
