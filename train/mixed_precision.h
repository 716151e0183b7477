// Mixed precision in the training step: the CPU's bfloat16 autocast scope and the dynamic loss
// scaler of CUDA's float16 autocast. Thread-safety: none; the training thread owns them (autocast
// state is per thread).
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace memes::train {

// Dynamic loss scaling for float16 autocast on CUDA (LibTorch 1.13 has no C++ GradScaler):
// the loss is multiplied by `scale` before backward; gradients are divided by it before the
// step; a non-finite gradient skips the step and halves the scale; 2000 clean steps double it.
class LossScaler {
 public:
  explicit LossScaler(bool enabled) : enabled_(enabled) {}
  torch::Tensor Scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }
  // Unscales gradients in place; returns false when the step must be skipped.
  bool Unscale(const std::vector<torch::Tensor>& parameters) {
    if (!enabled_) return true;
    torch::NoGradGuard no_grad;
    bool finite = true;
    for (const auto& p : parameters) {
      if (!p.grad().defined()) continue;
      p.grad().div_(scale_);
      finite = finite && torch::isfinite(p.grad()).all().item<bool>();
    }
    if (!finite) {
      scale_ = std::max(1.0, scale_ / 2);
      clean_steps_ = 0;
    } else if (++clean_steps_ >= 2000) {
      scale_ *= 2;
      clean_steps_ = 0;
    }
    return finite;
  }
  double scale() const { return scale_; }
  void set_scale(double scale) { scale_ = scale; }

 private:
  bool enabled_;
  double scale_ = 65536.0;
  int clean_steps_ = 0;
};

// Runs the forward pass in bfloat16 autocast on the CPU while alive (fp32 elsewhere).
class CpuAutocast {
 public:
  explicit CpuAutocast(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  ~CpuAutocast() {
    if (!enabled_) return;
    at::autocast::clear_cache();
    at::autocast::set_cpu_enabled(false);
  }
  CpuAutocast(const CpuAutocast&) = delete;
  CpuAutocast& operator=(const CpuAutocast&) = delete;

 private:
  bool enabled_;
};

}  // namespace memes::train
