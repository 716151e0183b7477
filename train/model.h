// The SE-ResNeXt network in LibTorch (built from a ModelConfig, see train/model_config.h).
// Thread-safety: a module is used by one thread at a time (LibTorch parallelises inside ops).
// Parameter names match train/python/se_resnext.py, so a state dict moves between the two.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "train/model_config.h"

namespace memes::train {

// How a BatchNorm2d layer is applied, x: (N, C, H, W) -> (N, C, H, W). Unset: the layer's own
// forward. Data-parallel training sets one that uses the whole global batch's statistics
// (DataParallel::SynchroniseBatchNorm).
using BatchNormFunction =
    std::function<torch::Tensor(torch::nn::BatchNorm2dImpl&, const torch::Tensor&)>;

// One SE-ResNeXt bottleneck block, x: (N, in, H, W) -> (N, out, H/stride, W/stride):
//   conv_reduce 1x1 in -> inner, BN, ReLU                  (N, inner, H, W)
//   conv_group 3x3 inner -> inner, groups C, stride, BN, ReLU (N, inner, H', W')
//   conv_expand 1x1 inner -> out, BN                       (N, out, H', W')
//   SE: mean over H',W' (N, out) -> se_reduce (N, out/r), ReLU -> se_expand (N, out), sigmoid,
//       scale the channels                                  (N, out, H', W')
//   + shortcut (identity, or 1x1 conv with stride + BN when the shape changes), ReLU.
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int in, int inner, int out, int cardinality, int stride, int se_ratio);
  torch::Tensor forward(const torch::Tensor& x);
  void SetBatchNorm(std::shared_ptr<const BatchNormFunction> norm) { norm_ = std::move(norm); }

 private:
  torch::Tensor Norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
    return norm_ ? (*norm_)(*bn, x) : bn(x);
  }
  std::shared_ptr<const BatchNormFunction> norm_;
  torch::nn::Conv2d conv_reduce_{nullptr}, conv_group_{nullptr}, conv_expand_{nullptr};
  torch::nn::BatchNorm2d bn_reduce_{nullptr}, bn_group_{nullptr}, bn_expand_{nullptr};
  torch::nn::Linear se_reduce_{nullptr}, se_expand_{nullptr};
  torch::nn::Conv2d shortcut_conv_{nullptr};
  torch::nn::BatchNorm2d shortcut_bn_{nullptr};
};
TORCH_MODULE(Block);

// The whole network, x: (N, 3, S, S) normalised -> logits (N, num_classes).
class SeResNeXtImpl : public torch::nn::Module {
 public:
  // Requires: ValidateConfig(config).ok().
  explicit SeResNeXtImpl(const ModelConfig& config);
  torch::Tensor forward(torch::Tensor x);
  const ModelConfig& config() const { return config_; }
  // Applies to every BatchNorm layer of the network from the next forward on.
  void SetBatchNorm(BatchNormFunction norm);

 private:
  std::shared_ptr<const BatchNormFunction> norm_;
  ModelConfig config_;
  torch::nn::Conv2d stem_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  torch::nn::ModuleList stages_{nullptr};  // stages[s][b] is a Block
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(SeResNeXt);

// Number of elements in the trainable parameters of a built module.
int64_t ParameterCount(torch::nn::Module& module);

// Where the model runs. "auto" picks CUDA when torch::cuda::is_available(), else the CPU;
// "cuda" without a visible GPU is an InvalidArgument.
Result<torch::Device> ResolveDevice(const std::string& name);

// Sizes LibTorch's intra-op pool (Debian's LibTorch defaults to 1 thread) and returns the count
// the caller should give oneTBB too (0 = all cores). The two pools share the cores: the loader
// works only between model steps, so both get every core.
int ConfigureThreads(int requested);

// CUDA fast path: 4-d parameters and buffers to channels-last memory format.
void ToChannelsLast(torch::nn::Module& module);

}  // namespace memes::train
