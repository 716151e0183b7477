#include "train/ema.h"

#include <cassert>
#include <cmath>

namespace memes::train {

std::vector<torch::Tensor> LookaheadTracked(torch::nn::Module& model) {
  std::vector<torch::Tensor> tracked;
  auto skip = [](const std::string& name) { return name.rfind("lookahead.", 0) == 0; };
  for (const auto& named : model.named_parameters()) {
    if (!skip(named.key())) tracked.push_back(named.value());
  }
  for (const auto& named : model.named_buffers()) {
    if (!skip(named.key()) && named.value().is_floating_point()) tracked.push_back(named.value());
  }
  return tracked;
}

void LookaheadUpdate(const std::vector<torch::Tensor>& ema, const std::vector<torch::Tensor>& net,
                     double decay) {
  assert(ema.size() == net.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < ema.size(); ++i) {
    auto average = ema[i];
    auto weights = net[i];
    average.lerp_(weights, 1.0 - decay);
    weights.copy_(average);
  }
}

double LookaheadDecay(int64_t step, int64_t total_steps) {
  const double share =
      static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total_steps));
  return std::pow(0.95, 5) * share * share * share;
}

}  // namespace memes::train
