// The networks in LibTorch, built from a ModelConfig (see train/model_config.h): SE-ResNeXt and
// the airbench-style "fast" network, with the fast recipe's whitening stem, dirac init, frozen
// BatchNorm weights and lookahead buffers; test-time augmentation.
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

// One conv group of the airbench network, x: (N, in, H, W) -> (N, out, H/2, W/2):
//   conv1 3x3 in -> out, max-pool 2, norm1, GELU, conv2 3x3 out -> out, norm2, GELU.
class ConvGroupImpl : public torch::nn::Module {
 public:
  // dirac: identity init of both convs; fast_bn: airbench's BatchNorm (frozen weight, momentum
  // 0.4, eps 1e-12), else LibTorch's (the `--recipe-off` ablation).
  ConvGroupImpl(int in, int out, bool dirac = true, bool fast_bn = true);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d norm1_{nullptr}, norm2_{nullptr};
};
TORCH_MODULE(ConvGroup);

// The whole network (either family; the name stays for the checkpoints and callers that hold
// it), x: (N, 3, S, S) normalised -> logits (N, num_classes).
class SeResNeXtImpl : public torch::nn::Module {
 public:
  // Requires: ValidateConfig(config).ok().
  explicit SeResNeXtImpl(const ModelConfig& config);
  torch::Tensor forward(torch::Tensor x);
  const ModelConfig& config() const { return config_; }
  // Applies to every BatchNorm layer of the SE-ResNeXt network from the next forward on (the
  // fast preset's conv groups keep their own; the trainer refuses --sync-bn with it).
  void SetBatchNorm(BatchNormFunction norm);
  // The frozen whitening conv (3 -> kWhitenWidth, 2x2) of the fast recipe; null otherwise.
  torch::nn::Conv2d whitening() const { return whiten_; }
  // BatchNorm biases (the fast recipe gives them a higher learning rate).
  std::vector<torch::Tensor> BatchNormBiases();
  // The fast recipe's lookahead copy, one buffer per LookaheadTracked(*this) tensor, same order;
  // empty for the classic recipe.
  std::vector<torch::Tensor> LookaheadBuffers();

 private:
  void BuildSeResNeXt();

  std::shared_ptr<const BatchNormFunction> norm_;
  ModelConfig config_;
  torch::nn::Conv2d whiten_{nullptr};
  torch::nn::ModuleList groups_{nullptr};  // airbench: groups[g] is a ConvGroup
  torch::nn::Linear head_{nullptr};        // airbench: no bias
  std::shared_ptr<torch::nn::Module> lookahead_;
  torch::nn::Conv2d stem_conv_{nullptr};
  torch::nn::BatchNorm2d stem_bn_{nullptr};
  torch::nn::ModuleList stages_{nullptr};  // stages[s][b] is a Block
  torch::nn::Linear fc_{nullptr};
};
TORCH_MODULE(SeResNeXt);

// Test-time augmentation. Level 0: the image; 1: mean of the image and its mirror; 2 (airbench's
// six views): 0.5 * level 1 + 0.5 * the mean of level 1 on the image translated by (-1, -1) and
// (+1, +1) pixels (reflect padding). x: (N, 3, S, S) -> logits (N, classes), float32.
torch::Tensor ForwardTta(SeResNeXt& model, const torch::Tensor& x, int level);
// The views of level 2 in order: x, mirror, shifted (-1,-1), its mirror, shifted (+1,+1), its
// mirror; each (N, 3, S, S). A view shifted by (dy, dx) holds pixel (y + dy, x + dx) of x.
std::vector<torch::Tensor> TtaViews(const torch::Tensor& x);
// Level 2's weight of each view of TtaViews: 1/4, 1/4, 1/8, 1/8, 1/8, 1/8.
std::vector<double> TtaWeights();

// Number of elements in the trainable parameters of a built module.
int64_t ParameterCount(torch::nn::Module& module);

// Where the model runs. "auto" picks CUDA when torch::cuda::is_available(), else the CPU;
// "cuda" without a visible GPU is an InvalidArgument.
Result<torch::Device> ResolveDevice(const std::string& name);

// Sizes LibTorch's intra-op pool (Debian's LibTorch defaults to 1 thread) and returns the count
// the caller should give oneTBB too (0 = all cores). The two pools share the cores: the loader
// works only between model steps, so both get every core. OpenMP's wait policy cannot be set
// here (libgomp reads it when loaded): see PassiveOpenMpEnvironment.
int ConfigureThreads(int requested);

// 4-d parameters to channels-last memory format (CUDA always; CPU with --channels-last).
void ToChannelsLast(torch::nn::Module& module);

// Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX-BF16 in /proc/cpuinfo).
bool CpuHasBf16();

// GFLOP/s of a float32 n x n torch::mm on the current LibTorch threads: the yardstick that the
// trainer's achieved GFLOP/s is compared with.
double MatmulGflops(int n = 512, int repeats = 6);

}  // namespace memes::train
