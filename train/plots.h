// Pictures a person would rather look at than read: training curves and the confusion matrix.
// Drawn with OpenCV into PNG files, written with store::WriteFileAtomic.
// Thread-safety: reentrant.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace memes::train {

struct EpochMetrics {
  int epoch = 0;  // 1-based
  double learning_rate = 0;
  double train_loss = 0, train_accuracy = 0;  // accuracy in 0..1
  double test_loss = 0, test_accuracy = 0;
  double images_per_second = 0;
  double seconds = 0;
  double train_cpu_seconds = 0;  // CPU time (all threads) of the training phase
  int test_views = 1;            // views averaged per test image (6: the fast recipe's TTA)
};

// Two panels side by side: loss and accuracy per epoch, train and test.
Status DrawCurves(const std::vector<EpochMetrics>& epochs, const std::filesystem::path& png);

// Rows: true class, columns: predicted; cells shaded by row-normalised share, counts written.
// Requires: matrix is classes.size() squared.
Status DrawConfusion(const std::vector<std::vector<int64_t>>& matrix,
                     const std::vector<std::string>& classes, const std::filesystem::path& png);

}  // namespace memes::train
