#include "pipelines/review_scoring.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace memes::pipelines {

namespace {

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t KeyHash(const std::string& key, uint64_t seed) {
  uint64_t hash = Mix(seed);
  for (unsigned char c : key) hash = Mix(hash ^ c);
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

ConfidentLearning FindLabelIssues(std::span<const float> probs, std::span<const int> labels,
                                  int classes) {
  assert(classes >= 2 && probs.size() == labels.size() * static_cast<size_t>(classes));
  const size_t n = labels.size();
  const auto p = [&](size_t i, int k) { return static_cast<double>(probs[i * classes + k]); };
  ConfidentLearning result;

  // t_j: the mean self-confidence of the items labelled j.
  std::vector<int64_t> label_count(classes, 0);
  result.thresholds.assign(classes, 0.0);
  for (size_t i = 0; i < n; ++i) {
    ++label_count[labels[i]];
    result.thresholds[labels[i]] += p(i, labels[i]);
  }
  for (int j = 0; j < classes; ++j) {
    result.thresholds[j] = label_count[j] ? result.thresholds[j] / label_count[j] : 1.0;
  }

  // The confident joint: each item counts once, in (given, most likely class above threshold).
  result.confident_joint.assign(static_cast<size_t>(classes) * classes, 0);
  for (size_t i = 0; i < n; ++i) {
    int best = -1;
    for (int k = 0; k < classes; ++k) {
      // A small tolerance as cleanlab's: a probability equal to its threshold is above it.
      if (p(i, k) >= result.thresholds[k] - 1e-6 && (best < 0 || p(i, k) > p(i, best))) best = k;
    }
    if (best >= 0) ++result.confident_joint[static_cast<size_t>(labels[i]) * classes + best];
  }

  // Calibrate: each row to its label count, then the whole matrix to sum 1.
  result.joint.assign(static_cast<size_t>(classes) * classes, 0.0);
  double total = 0;
  for (int i = 0; i < classes; ++i) {
    int64_t row_sum = 0;
    for (int j = 0; j < classes; ++j) row_sum += result.confident_joint[i * classes + j];
    if (row_sum == 0) continue;
    for (int j = 0; j < classes; ++j) {
      const double calibrated =
          static_cast<double>(result.confident_joint[i * classes + j]) / row_sum * label_count[i];
      result.joint[i * classes + j] = calibrated;
      total += calibrated;
    }
  }
  if (total > 0) {
    for (double& q : result.joint) q /= total;
  }

  // prune_by_noise_rate: per off-diagonal cell, the items with the largest margin towards j.
  std::vector<std::vector<size_t>> by_label(classes);
  for (size_t i = 0; i < n; ++i) by_label[labels[i]].push_back(i);
  std::vector<char> flagged(n, 0);
  for (int i = 0; i < classes; ++i) {
    for (int j = 0; j < classes; ++j) {
      if (i == j) continue;
      auto count = static_cast<int64_t>(std::llround(n * result.joint[i * classes + j]));
      // Never empty a class: keep at least one item of every given label (as cleanlab does).
      count = std::min<int64_t>(count, static_cast<int64_t>(by_label[i].size()) - 1);
      if (count <= 0) continue;
      std::vector<size_t> members = by_label[i];
      const auto margin = [&](size_t x) { return p(x, j) - p(x, i); };
      std::partial_sort(members.begin(), members.begin() + count, members.end(),
                        [&](size_t a, size_t b) {
                          const double ma = margin(a), mb = margin(b);
                          return ma != mb ? ma > mb : a < b;
                        });
      for (int64_t r = 0; r < count; ++r) flagged[members[r]] = 1;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!flagged[i]) continue;
    int argmax = 0;
    for (int k = 1; k < classes; ++k) {
      if (p(i, k) > p(i, argmax)) argmax = k;
    }
    if (argmax != labels[i]) result.flagged.push_back(static_cast<int64_t>(i));
  }
  return result;
}

}  // namespace memes::pipelines
