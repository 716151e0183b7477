#include "pipelines/review_scoring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

namespace memes::pipelines {
namespace {

TEST(ReviewFolds, BalancedBySizeDeterministicAndOrderFree) {
  std::vector<FoldGroup> groups = {{"a", 5}, {"b", 1}, {"c", 1}, {"d", 3},
                                   {"e", 2}, {"f", 1}, {"g", 1}};
  const std::vector<int> folds = AssignFolds(groups, 2, 7);
  std::vector<int64_t> load(2, 0);
  for (size_t g = 0; g < groups.size(); ++g) load[folds[g]] += groups[g].items;
  EXPECT_LE(std::abs(load[0] - load[1]), 1) << load[0] << " vs " << load[1];
  EXPECT_EQ(AssignFolds(groups, 2, 7), folds);
  std::vector<FoldGroup> reversed(groups.rbegin(), groups.rend());
  const std::vector<int> reversed_folds = AssignFolds(reversed, 2, 7);
  for (size_t g = 0; g < groups.size(); ++g) {
    EXPECT_EQ(reversed_folds[groups.size() - 1 - g], folds[g]) << groups[g].key;
  }
}

TEST(ReviewScores, SelfConfidenceMarginAndSuggestion) {
  const std::vector<float> probs = {0.7f, 0.2f, 0.1f,   // label 0: confident
                                    0.1f, 0.1f, 0.8f};  // label 1: looks like 2
  const std::vector<int> labels = {0, 1};
  const LabelScores scores = ScoreLabels(probs, labels, 3);
  EXPECT_FLOAT_EQ(scores.self_confidence[0], 0.7f);
  EXPECT_FLOAT_EQ(scores.normalized_margin[0], (0.7f - 0.2f + 1) / 2);
  EXPECT_EQ(scores.suggested[0], 1) << "the best class other than the given one";
  EXPECT_FLOAT_EQ(scores.self_confidence[1], 0.1f);
  EXPECT_FLOAT_EQ(scores.normalized_margin[1], (0.1f - 0.8f + 1) / 2);
  EXPECT_EQ(scores.suggested[1], 2);
}

// Three classes of well-separated items, 10% of the labels flipped: confident learning flags
// the flipped ones and (almost) nothing else, and its thresholds are the per-class mean
// self-confidence.
TEST(ReviewConfidentLearning, FlagsFlippedLabelsOfSeparableData) {
  std::mt19937 random(3);
  std::uniform_real_distribution<float> noise(0.0f, 0.15f);
  const int classes = 3, n = 300;
  std::vector<float> probs;
  std::vector<int> labels;
  std::vector<bool> flipped;
  for (int i = 0; i < n; ++i) {
    const int truth = i % classes;
    float row[3];
    for (int k = 0; k < classes; ++k) row[k] = noise(random);
    row[truth] = 1.0f;
    const float sum = row[0] + row[1] + row[2];
    for (float v : row) probs.push_back(v / sum);
    const bool flip = i % 10 == 0;
    labels.push_back(flip ? (truth + 1) % classes : truth);
    flipped.push_back(flip);
  }
  const ConfidentLearning cl = FindLabelIssues(probs, labels, classes);
  double mean0 = 0;
  int count0 = 0;
  for (int i = 0; i < n; ++i) {
    if (labels[i] == 0) mean0 += probs[i * classes], ++count0;
  }
  EXPECT_NEAR(cl.thresholds[0], mean0 / count0, 1e-9);
  int true_positives = 0;
  for (int64_t i : cl.flagged) true_positives += flipped[i];
  // A flipped item whose true-class probability falls just under that class's threshold is not
  // counted in the confident joint, so the estimate may come out an item or two short.
  EXPECT_GE(true_positives, n / 10 - 2);
  EXPECT_EQ(static_cast<size_t>(true_positives), cl.flagged.size()) << "no clean item flagged";
  double q = 0;
  for (double v : cl.joint) q += v;
  EXPECT_NEAR(q, 1.0, 1e-9);
  for (int i = 0; i < classes; ++i) {
    int64_t row = 0, items = std::count(labels.begin(), labels.end(), i);
    for (int j = 0; j < classes; ++j) row += cl.prune_counts[i * classes + j];
    EXPECT_EQ(row, items) << "prune counts keep row " << i << "'s label count";
  }
  EXPECT_TRUE(std::is_sorted(cl.flagged.begin(), cl.flagged.end()));
}

TEST(ReviewConfidentLearning, CleanLabelsFlagNothing) {
  const std::vector<float> probs = {0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f, 0.1f, 0.9f};
  const std::vector<int> labels = {0, 0, 1, 1};
  EXPECT_TRUE(FindLabelIssues(probs, labels, 2).flagged.empty());
}

// cleanlab's details (#14 names find_label_issues the reference; bench/confident_learning.py
// variant "cleanlab" is the peer). With two classes above their thresholds an item counts
// under its most likely class even when that one is below its own threshold.
TEST(ReviewConfidentLearning, SeveralClassesAboveThresholdCountUnderTheArgmax) {
  const std::vector<float> probs = {0.9f, 0.05f, 0.05f, 0.9f, 0.05f, 0.05f,
                                    0.9f, 0.05f, 0.05f, 0.9f, 0.05f, 0.05f,  // 0
                                    0.4f, 0.3f,  0.3f,                       // 1: x
                                    0.2f, 0.3f,  0.5f,                       // 1
                                    0.1f, 0.6f,  0.3f,  0.1f, 0.6f,  0.3f};  // 2
  const std::vector<int> labels = {0, 0, 0, 0, 1, 1, 2, 2};
  const ConfidentLearning cl = FindLabelIssues(probs, labels, 3);
  ASSERT_NEAR(cl.thresholds[0], 0.9, 1e-6);
  ASSERT_NEAR(cl.thresholds[1], 0.3, 1e-6);
  ASSERT_NEAR(cl.thresholds[2], 0.3, 1e-6);
  // x passes the thresholds of 1 and 2 (0.3 each), not of 0 (0.9), yet 0 is its argmax.
  EXPECT_EQ(cl.confident_joint[1 * 3 + 0], 1);
  EXPECT_EQ(cl.confident_joint[1 * 3 + 1], 0 + 1) << "the diagonal is raised to 1";
  EXPECT_EQ(cl.confident_joint[1 * 3 + 2], 1);
}

// An item whose given label ties with another class for the argmax is the model agreeing with
// its label: selected by the prune count, but spared (cleanlab adds 1e-6 to the given label).
TEST(ReviewConfidentLearning, ATieWithTheGivenLabelIsSpared) {
  const std::vector<float> probs = {
      0.45f, 0.3f,  0.25f, 0.45f, 0.3f, 0.25f, 0.45f, 0.3f, 0.25f, 0.45f, 0.3f, 0.25f,  // 0
      0.45f, 0.45f, 0.1f,                                                               // 1: tie
      0.1f,  0.8f,  0.1f,  0.1f,  0.8f, 0.1f,  0.1f,  0.8f, 0.1f,  0.1f,  0.8f, 0.1f,   // 1
      0.1f,  0.1f,  0.8f,  0.1f,  0.1f, 0.8f,  0.1f,  0.1f, 0.8f,  0.1f,  0.1f, 0.8f};  // 2
  const std::vector<int> labels = {0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2};
  const ConfidentLearning cl = FindLabelIssues(probs, labels, 3);
  ASSERT_EQ(cl.prune_counts[1 * 3 + 0], 1) << "the tie is the one item labelled 1 counted as 0";
  EXPECT_TRUE(cl.flagged.empty());
}

// A class nobody is labelled with has threshold 2: a probability of 1 for it is not confident
// evidence of noise (the class cannot be anyone's true class in the counts).
TEST(ReviewConfidentLearning, AClassWithoutItemsIsNeverConfident) {
  const std::vector<float> probs = {0.9f, 0.1f, 0.0f, 0.9f, 0.1f, 0.0f, 0.9f, 0.1f, 0.0f,
                                    0.0f, 0.0f, 1.0f,  // labelled 0, all on class 2
                                    0.1f, 0.9f, 0.0f, 0.1f, 0.9f, 0.0f, 0.1f, 0.9f, 0.0f};
  const std::vector<int> labels = {0, 0, 0, 0, 1, 1, 1};
  const ConfidentLearning cl = FindLabelIssues(probs, labels, 3);
  EXPECT_EQ(cl.thresholds[2], 2.0);
  EXPECT_EQ(cl.confident_joint[0 * 3 + 2], 0);
  EXPECT_TRUE(cl.flagged.empty());
}

}  // namespace
}  // namespace memes::pipelines
