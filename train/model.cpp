#include "train/model.h"

#include <cassert>
#include <chrono>
#include <fstream>
#include <thread>

#include <ATen/Parallel.h>

#include "train/ema.h"

namespace memes::train {
namespace {

torch::nn::Conv2d Conv(int in, int out, int kernel, int stride = 1, int groups = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .groups(groups)
                               .bias(false));
}

// airbench's BatchNorm: weight frozen at 1 (only the bias learns), running statistics with
// airbench's momentum 0.6, which is LibTorch's 0.4 (LibTorch weighs the new batch by momentum).
// With `--recipe-off bn`: LibTorch's BatchNorm (weight learns, momentum 0.1, eps 1e-5).
torch::nn::BatchNorm2d FastNorm(int channels, double eps, bool fast_bn) {
  if (!fast_bn) return torch::nn::BatchNorm2d(channels);
  torch::nn::BatchNorm2d norm(torch::nn::BatchNorm2dOptions(channels).momentum(0.4).eps(eps));
  norm->weight.requires_grad_(false);
  return norm;
}

// airbench's conv init: LibTorch's default, then the identity on the first min(in, out) output
// channels, so a fresh network passes its input through (dirac). Grouped convs keep the default.
void DiracInit(torch::nn::Conv2dImpl& conv) {
  torch::NoGradGuard no_grad;
  auto& w = conv.weight;  // (out, in / groups, k, k)
  if (conv.options.groups() != 1) return;
  const int64_t n = std::min(w.size(0), w.size(1));
  torch::nn::init::dirac_(w.narrow(0, 0, n));
}

// frozen: set from the data (train/whitening.h), then frozen; else (`--recipe-off whitening`) a
// trainable conv with LibTorch's init, same shape.
torch::nn::Conv2d Whitening(bool frozen) {
  auto conv = torch::nn::Conv2d(torch::nn::Conv2dOptions(3, kWhitenWidth, 2).padding(0).bias(true));
  if (!frozen) return conv;
  conv->weight.requires_grad_(false);
  torch::NoGradGuard no_grad;
  conv->bias.zero_();
  return conv;
}

}  // namespace

ConvGroupImpl::ConvGroupImpl(int in, int out, bool dirac, bool fast_bn) {
  conv1_ = register_module("conv1", Conv(in, out, 3));
  norm1_ = register_module("norm1", FastNorm(out, 1e-12, fast_bn));
  conv2_ = register_module("conv2", Conv(out, out, 3));
  norm2_ = register_module("norm2", FastNorm(out, 1e-12, fast_bn));
  if (!dirac) return;
  DiracInit(*conv1_);
  DiracInit(*conv2_);
}

torch::Tensor ConvGroupImpl::forward(const torch::Tensor& x) {
  auto y = torch::max_pool2d(conv1_(x), 2);  // (N, out, H/2, W/2)
  y = torch::gelu(norm1_(y));
  return torch::gelu(norm2_(conv2_(y)));
}

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
  if (config.Whitened()) {
    whiten_ = register_module("whiten", Whitening(config.RecipeHas("whitening")));
  }
  if (config.family == "airbench") {
    groups_ = register_module("groups", torch::nn::ModuleList());
    int in = kWhitenWidth;
    for (int width : config.widths) {
      groups_->push_back(ConvGroup(in, width, config.RecipeHas("dirac"), config.RecipeHas("bn")));
      in = width;
    }
    head_ = register_module(
        "head", torch::nn::Linear(torch::nn::LinearOptions(in, config.num_classes).bias(false)));
  } else {
    BuildSeResNeXt();
  }
  if (config.RecipeHas("lookahead")) {
    // Registered last, so that LookaheadTracked (parameters and buffers) excludes them.
    lookahead_ = register_module("lookahead", std::make_shared<torch::nn::Module>());
    int i = 0;
    for (const auto& tensor : LookaheadTracked(*this)) {
      lookahead_->register_buffer(std::to_string(i++), tensor.detach().clone());
    }
  }
}

void SeResNeXtImpl::BuildSeResNeXt() {
  const ModelConfig& config = config_;
  const bool fast = config.recipe == "fast";
  stem_conv_ = register_module("stem_conv", Conv(fast ? kWhitenWidth : 3, config.stem_channels, 3));
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
  if (!fast) return;
  // The fast recipe's BatchNorm on SE-ResNeXt: airbench's frozen weights and momentum, except
  // bn_expand, whose weight starts at 0 (the block starts as the identity) and so must learn.
  // No dirac init here: on top of the zero-init residual blocks it kept `small --recipe fast`
  // 4-30 points behind He init at equal steps (docs/benchmarks.md); the convs keep He init.
  for (auto& named : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* bn = named.value()->as<torch::nn::BatchNorm2d>(); bn && config.RecipeHas("bn")) {
      bn->options.momentum(0.4);
      if (!named.key().ends_with("bn_expand")) bn->weight.requires_grad_(false);
    }
  }
}

void SeResNeXtImpl::SetBatchNorm(BatchNormFunction norm) {
  norm_ = std::make_shared<const BatchNormFunction>(std::move(norm));
  if (!stages_) return;  // the fast preset's network: its conv groups keep their own BatchNorm
  for (const auto& stage : *stages_) {
    for (const auto& block : *stage->as<torch::nn::ModuleList>()) {
      block->as<Block>()->SetBatchNorm(norm_);
    }
  }
}

torch::Tensor SeResNeXtImpl::forward(torch::Tensor x) {
  // x: (N, 3, S, S) -> whitened (N, 24, S-1, S-1) with the fast recipe
  if (whiten_) x = torch::gelu(whiten_(x));
  if (groups_) {
    for (const auto& group : *groups_) x = group->as<ConvGroup>()->forward(x);  // side halves
    x = std::get<0>(x.flatten(2).max(2));  // global max pool: (N, widths.back())
    return head_(x) * (1.0 / 9);           // airbench's output scale, (N, num_classes)
  }
  // x: (N, 3 or 24, S', S') -> (N, stem, S', S')
  x = torch::relu(norm_ ? (*norm_)(*stem_bn_, stem_conv_(x)) : stem_bn_(stem_conv_(x)));
  for (const auto& stage : *stages_) {
    for (const auto& block : *stage->as<torch::nn::ModuleList>()) {
      x = block->as<Block>()->forward(x);  // stage s: (N, widths[s], S/2^s, S/2^s)
    }
  }
  x = x.mean({2, 3});  // (N, widths.back())
  return fc_(x);       // (N, num_classes)
}

std::vector<torch::Tensor> SeResNeXtImpl::BatchNormBiases() {
  std::vector<torch::Tensor> biases;
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) biases.push_back(bn->bias);
  }
  return biases;
}

std::vector<torch::Tensor> SeResNeXtImpl::LookaheadBuffers() {
  if (!lookahead_) return {};
  return lookahead_->buffers();
}

std::vector<torch::Tensor> TtaViews(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  const int64_t s = x.size(-1);
  const auto padded = F::pad(x, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect));
  // padded(y, x) = x(y - 1, x - 1): the window at (0, 0) is x shifted by (-1, -1).
  const auto minus = padded.narrow(2, 0, s).narrow(3, 0, s);
  const auto plus = padded.narrow(2, 2, s).narrow(3, 2, s);
  return {x, x.flip(-1), minus, minus.flip(-1), plus, plus.flip(-1)};
}

std::vector<double> TtaWeights() { return {0.25, 0.25, 0.125, 0.125, 0.125, 0.125}; }

torch::Tensor ForwardTta(SeResNeXt& model, const torch::Tensor& x, int level) {
  if (level <= 0) return model->forward(x).to(torch::kFloat);
  if (level == 1) {
    return 0.5 *
           (model->forward(x).to(torch::kFloat) + model->forward(x.flip(-1)).to(torch::kFloat));
  }
  const auto views = TtaViews(x);
  const auto weights = TtaWeights();
  torch::Tensor sum;
  for (size_t i = 0; i < views.size(); ++i) {
    auto logits = model->forward(views[i].contiguous(x.suggest_memory_format())).to(torch::kFloat) *
                  weights[i];
    sum = sum.defined() ? sum + logits : logits;
  }
  return sum;
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
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
  }
}

bool CpuHasBf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) == 0) {
      return line.find(" avx512_bf16") != std::string::npos ||
             line.find(" amx_bf16") != std::string::npos;
    }
  }
  return false;
}

double MatmulGflops(int n, int repeats) {
  torch::NoGradGuard no_grad;
  const auto a = torch::randn({n, n});
  const auto b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up: first call allocates and wakes the pool
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return 2.0 * n * n * n / best / 1e9;
}

}  // namespace memes::train
