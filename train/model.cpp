#include "train/model.h"

#include <cassert>
#include <thread>

#include <ATen/Parallel.h>

namespace memes::train {
namespace {

torch::nn::Conv2d Conv(int in, int out, int kernel, int stride = 1, int groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .groups(groups)
                               .bias(false));
}

}  // namespace

BlockImpl::BlockImpl(int in, int inner, int out, int cardinality, int stride, int se_ratio) {
  conv_reduce_ = register_module("conv_reduce", Conv(in, inner, 1));
  bn_reduce_ = register_module("bn_reduce", torch::nn::BatchNorm2d(inner));
  conv_group_ = register_module("conv_group", Conv(inner, inner, 3, stride, cardinality));
  bn_group_ = register_module("bn_group", torch::nn::BatchNorm2d(inner));
  conv_expand_ = register_module("conv_expand", Conv(inner, out, 1));
  bn_expand_ = register_module("bn_expand", torch::nn::BatchNorm2d(out));
  se_reduce_ = register_module("se_reduce", torch::nn::Linear(out, out / se_ratio));
  se_expand_ = register_module("se_expand", torch::nn::Linear(out / se_ratio, out));
  if (in != out || stride != 1) {
    shortcut_conv_ = register_module("shortcut_conv", Conv(in, out, 1, stride));
    shortcut_bn_ = register_module("shortcut_bn", torch::nn::BatchNorm2d(out));
  }
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  // x: (N, in, H, W)
  auto y = torch::relu(Norm(bn_reduce_, conv_reduce_(x)));                     // (N, inner, H, W)
  y = torch::relu(Norm(bn_group_, conv_group_(y)));                            // (N, inner, H', W')
  y = Norm(bn_expand_, conv_expand_(y));                                       // (N, out, H', W')
  auto squeeze = y.mean({2, 3});                                               // (N, out)
  auto excite = torch::sigmoid(se_expand_(torch::relu(se_reduce_(squeeze))));  // (N, out)
  y = y * excite.unsqueeze(-1).unsqueeze(-1);                                  // (N, out, H', W')
  auto shortcut = shortcut_conv_ ? Norm(shortcut_bn_, shortcut_conv_(x)) : x;
  return torch::relu(y + shortcut);
}

SeResNeXtImpl::SeResNeXtImpl(const ModelConfig& config) : config_(config) {
  assert(ValidateConfig(config).ok());
  stem_conv_ = register_module("stem_conv", Conv(3, config.stem_channels, 3));
  stem_bn_ = register_module("stem_bn", torch::nn::BatchNorm2d(config.stem_channels));
  stages_ = register_module("stages", torch::nn::ModuleList());
  int in = config.stem_channels;
  for (size_t s = 0; s < config.widths.size(); ++s) {
    torch::nn::ModuleList stage;
    for (int b = 0; b < config.blocks_per_stage[s]; ++b) {
      const int stride = (s > 0 && b == 0) ? 2 : 1;
      stage->push_back(Block(in, config.InnerWidth(static_cast<int>(s)), config.widths[s],
                             config.cardinality, stride, config.se_ratio));
      in = config.widths[s];
    }
    stages_->push_back(stage);
  }
  fc_ = register_module("fc", torch::nn::Linear(in, config.num_classes));

  // He initialisation for convs; BN starts as identity; the last BN of each block at zero so
  // every residual block starts as the identity (helps short schedules).
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
  for (const auto& named : named_parameters()) {
    if (named.key().ends_with("bn_expand.weight")) torch::nn::init::zeros_(named.value());
  }
}

void SeResNeXtImpl::SetBatchNorm(BatchNormFunction norm) {
  norm_ = std::make_shared<const BatchNormFunction>(std::move(norm));
  for (const auto& stage : *stages_) {
    for (const auto& block : *stage->as<torch::nn::ModuleList>()) {
      block->as<Block>()->SetBatchNorm(norm_);
    }
  }
}

torch::Tensor SeResNeXtImpl::forward(torch::Tensor x) {
  // x: (N, 3, S, S) -> (N, stem, S, S)
  x = torch::relu(norm_ ? (*norm_)(*stem_bn_, stem_conv_(x)) : stem_bn_(stem_conv_(x)));
  for (const auto& stage : *stages_) {
    for (const auto& block : *stage->as<torch::nn::ModuleList>()) {
      x = block->as<Block>()->forward(x);  // stage s: (N, widths[s], S/2^s, S/2^s)
    }
  }
  x = x.mean({2, 3});  // (N, widths.back())
  return fc_(x);       // (N, num_classes)
}

int64_t ParameterCount(torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

Result<torch::Device> ResolveDevice(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "auto") return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda") {
    if (!cuda) return InvalidArgument("--device cuda: this LibTorch sees no CUDA device");
    return torch::Device(torch::kCUDA);
  }
  return InvalidArgument("--device must be auto, cpu or cuda (got '" + name + "')");
}

int ConfigureThreads(int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = requested > 0 ? requested : cores;
  at::set_num_threads(threads);
  return threads;
}

void ToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

}  // namespace memes::train
