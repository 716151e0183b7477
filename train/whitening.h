// The fast recipe's first layer: a 2x2 convolution whose filters whiten image patches, set once
// from the training data and then frozen (airbench's init_whitening_conv).
// Thread-safety: a function of its arguments; call from the training thread.
#pragma once

#include <torch/torch.h>

namespace memes::train {

// Sets conv's weight (2k, C, 2, 2) from the covariance of all 2x2 patches of `images`
// (N, C, S, S), normalised float: the k = 4C eigenvectors, largest eigenvalue first, each
// scaled by 1 / sqrt(eigenvalue + eps), then the same filters negated (so a following ReLU/GELU
// keeps both signs). The output of the first k channels has the identity as covariance (up to
// eps), the patches' second moment (the data is normalised, so not centred again).
// Eigenvalues below zero (rounding, e.g. grey images copied to 3 channels) count as 0.
// Requires: conv has 8C output channels, C input channels, kernel 2x2; N >= 1, S >= 2.
void InitWhitening(torch::nn::Conv2dImpl& conv, const torch::Tensor& images, double eps = 5e-4);

}  // namespace memes::train
