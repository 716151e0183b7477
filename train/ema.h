// The fast recipe's lookahead (airbench's "LookaheadState"): an exponential moving average of the
// weights that, every few steps, also replaces them. The averaged copy lives in the model as
// buffers (SeResNeXtImpl::LookaheadBuffers), so checkpoints carry it and a resume is exact.
// Thread-safety: functions of their arguments; call from the training thread.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace memes::train {

// The tensors the lookahead averages: every parameter (frozen ones too) and floating-point
// buffer (BatchNorm running statistics) of `model`, in registration order, excluding the
// module named "lookahead" and integer buffers (BatchNorm's batch counter).
std::vector<torch::Tensor> LookaheadTracked(torch::nn::Module& model);

// ema <- ema + (1 - decay) * (net - ema), then net <- ema, tensor by tensor.
// Requires: ema.size() == net.size() and matching shapes.
void LookaheadUpdate(const std::vector<torch::Tensor>& ema, const std::vector<torch::Tensor>& net,
                     double decay);

// Steps between lookahead updates, and the decay at `step` of `total_steps`:
// 0.95^5 * (step / total)^3, so the average follows the weights closely early and smooths late.
inline constexpr int64_t kLookaheadEvery = 5;
double LookaheadDecay(int64_t step, int64_t total_steps);

}  // namespace memes::train
