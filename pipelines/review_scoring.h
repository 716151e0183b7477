// `memes review`'s arithmetic, free of the store and of LibTorch: folds of near-duplicate groups,
// label-quality scores of out-of-fold probabilities, and confident learning's selection of the
// likely mislabelled items (Northcutt, Jiang, Chuang: "Confident Learning: Estimating Uncertainty
// in Dataset Labels", JAIR 70, 2021; prune_by_noise_rate, as cleanlab.filter.find_label_issues).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace memes::pipelines {

struct FoldGroup {
  std::string key;    // the group's key (its founder blob)
  int64_t items = 0;  // items in it
};

// The fold (0..folds-1) of each group, deterministically balanced by size: groups go largest
// first (ties by a hash of key and seed) to the fold with the fewest items so far (ties: the
// lowest fold). Requires: folds >= 1. Same groups and seed -> same folds, whatever their order.
std::vector<int> AssignFolds(std::span<const FoldGroup> groups, int folds, uint64_t seed);

// Per item scores of out-of-fold probabilities `probs` (N, C) row-major and given labels.
struct LabelScores {
  std::vector<float> self_confidence;  // p[i][label[i]], in [0, 1]
  // cleanlab's normalized margin: (p[i][label] - max_{k != label} p[i][k] + 1) / 2, in [0, 1]
  std::vector<float> normalized_margin;
  std::vector<int> suggested;  // argmax_{k != label} p[i][k]: the best other class
};
// Requires: probs.size() == labels.size() * classes, classes >= 2, 0 <= labels[i] < classes.
LabelScores ScoreLabels(std::span<const float> probs, std::span<const int> labels, int classes);

// Confident learning's estimate of the label noise and the items it selects, with the details
// of cleanlab 2.x's find_label_issues (count.py, filter.py), which #14 names as the reference:
// bench/confident_learning.py's variant "cleanlab" is the NumPy peer of exactly this.
struct ConfidentLearning {
  // t_j: mean p[i][j] over the items labelled j, at least 2e-6; 2 (never reached) for a class
  // nobody is labelled with (C).
  std::vector<double> thresholds;
  // The confident joint C[given][true] (C x C) row-major: item i counts in row label[i], column
  // the one class k with p[i][k] >= t_k - 1e-6, or argmax_k p[i][k] when several classes pass
  // (items with none are not counted); then every diagonal cell is raised to at least 1.
  std::vector<int64_t> confident_joint;
  // Q[given][true]: the confident joint calibrated to the label counts and normalised to sum 1.
  std::vector<double> joint;
  // How many items labelled i to flag as really j: N * Q rounded to whole items keeping each
  // row's total, then at least 1 on the diagonal (what it gains taken evenly from the row's other
  // non-zero cells, truncated): cleanlab's _keep_at_least_n_per_class.
  std::vector<int64_t> prune_counts;
  // prune_by_noise_rate: for each off-diagonal (i, j), the prune_counts[i][j] items labelled i
  // with the largest margin p[x][j] - p[x][i] (a label held by one item is never pruned); then
  // items whose given label is their argmax once it gets 1e-6 more are kept out. Sorted by item
  // index.
  std::vector<int64_t> flagged;
};
// Requires as ScoreLabels.
ConfidentLearning FindLabelIssues(std::span<const float> probs, std::span<const int> labels,
                                  int classes);

}  // namespace memes::pipelines
