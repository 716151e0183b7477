#include "train/whitening.h"

#include <cassert>

namespace memes::train {

void InitWhitening(torch::nn::Conv2dImpl& conv, const torch::Tensor& images, double eps) {
  torch::NoGradGuard no_grad;
  const int64_t c = images.size(1);
  assert(conv.weight.size(0) == 8 * c && conv.weight.size(1) == c);
  assert(conv.weight.size(2) == 2 && conv.weight.size(3) == 2);
  // (N, C, S, S) -> (N, C, S-1, S-1, 2, 2) -> (N*(S-1)^2, C*2*2), channel-major like the weight.
  const auto patches = images.to(torch::kDouble)
                           .unfold(2, 2, 1)
                           .unfold(3, 2, 1)
                           .permute({0, 2, 3, 1, 4, 5})
                           .reshape({-1, c * 4});
  const auto covariance = patches.t().mm(patches) / static_cast<double>(patches.size(0));
  auto [eigenvalues, eigenvectors] = torch::linalg::eigh(covariance, "U");  // ascending
  eigenvalues = eigenvalues.flip(0).clamp_min(0);                           // largest first
  // Columns are eigenvectors: transpose so that row i is filter i.
  auto filters = eigenvectors.t().flip(0) / (eigenvalues + eps).sqrt().unsqueeze(1);
  filters = filters.reshape({c * 4, c, 2, 2}).to(conv.weight.dtype());
  conv.weight.copy_(torch::cat({filters, -filters}));
}

}  // namespace memes::train
