#include "train/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <cassert>
#include <cstdlib>
#include <mutex>

#include "core/log.h"
#include "core/log_prefix.h"

namespace memes::train {

namespace {

// What a failed collective means to the person who launched the job.
Status CollectiveFailed(const DistEnv& env, const std::string& what, const std::exception& error) {
  return Status(
      StatusCode::kIoError,
      "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + ": " + what +
          " failed; another rank exited or stopped answering (see its log): " + error.what());
}

// All-reduce (sum) inside the model's forward or backward, where no Status can be returned: a
// failure is thrown as a std::runtime_error that says what happened (RunTraining turns it into a
// Status; autograd rethrows it from backward()).
void AllReduceInModel(c10d::ProcessGroup& group, std::vector<torch::Tensor>& tensors) {
  try {
    group.allreduce(tensors)->wait();
  } catch (const std::exception& error) {
    DistEnv env;
    env.rank = group.getRank();
    env.world_size = group.getSize();
    throw std::runtime_error(
        CollectiveFailed(env, "the BatchNorm statistics' all-reduce (--sync-bn)", error).message());
  }
}

// Synchronised BatchNorm in training mode, x: (N, C, H, W). Forward gets the global batch's
// mean and 1/std (computed by the caller, constants here); backward needs the global sums of
// dy and dy·x̂ over all ranks, as PyTorch's SyncBatchNorm does. The input gradient it returns
// is this rank's share of the gradient of the sum of all ranks' losses; the averaging of
// parameter gradients across ranks (AverageGradients) then makes it the gradient of their mean.
class SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& mean, const torch::Tensor& invstd,
                               double global_count, c10d::ProcessGroup* group) {
    const auto shape = std::vector<int64_t>{1, x.size(1), 1, 1};
    auto x_hat = (x - mean.view(shape)) * invstd.view(shape);  // (N, C, H, W)
    ctx->save_for_backward({x_hat, weight, invstd});
    ctx->saved_data["count"] = global_count;
    ctx->saved_data["group"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(group));
    return x_hat * weight.view(shape) + bias.view(shape);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& x_hat = saved[0];
    const auto& weight = saved[1];
    const auto& invstd = saved[2];
    const double count = ctx->saved_data["count"].toDouble();
    auto* group = reinterpret_cast<c10d::ProcessGroup*>(
        static_cast<intptr_t>(ctx->saved_data["group"].toInt()));
    const auto& dy = grad_outputs[0];  // (N, C, H, W)
    const int64_t channels = dy.size(1);
    auto sum_dy = dy.sum({0, 2, 3});                                     // (C)
    auto sum_dy_xhat = (dy * x_hat).sum({0, 2, 3});                      // (C)
    std::vector<torch::Tensor> sums{torch::cat({sum_dy, sum_dy_xhat})};  // (2C)
    AllReduceInModel(*group, sums);
    const auto shape = std::vector<int64_t>{1, channels, 1, 1};
    auto mean_dy = (sums[0].slice(0, 0, channels) / count).view(shape);
    auto mean_dy_xhat = (sums[0].slice(0, channels) / count).view(shape);
    auto dx = (dy - mean_dy - x_hat * mean_dy_xhat) * (weight * invstd).view(shape);
    return {dx,
            sum_dy_xhat,
            sum_dy,
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

struct DataParallel::Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;

  // Gradient buckets. Invariant: buckets[b].work is set iff b < next_launch.
  struct Bucket {
    torch::Tensor flat;              // (sum of its parameters' numel), the parameters' dtype
    std::vector<size_t> parameters;  // indices into `parameters`
    std::vector<int64_t> offsets;    // where each one starts in `flat`
    size_t pending = 0;              // gradients not yet copied in this step
    c10::intrusive_ptr<c10d::Work> work;
  };
  std::vector<torch::Tensor> parameters;
  std::vector<size_t> bucket_of, offset_of;
  std::vector<bool> arrived;  // per parameter, this step
  std::vector<Bucket> buckets;
  size_t next_launch = 0;
  std::mutex mutex;  // hooks may run on autograd's device threads

  void Launch(size_t b) {
    std::vector<torch::Tensor> tensors{buckets[b].flat};
    buckets[b].work = group->allreduce(tensors);
  }
  // Starts every bucket, in order, whose gradients are all in (collectives must be issued in
  // the same order on every rank, whatever order backward produced the gradients in).
  void LaunchReady() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      Launch(next_launch++);
    }
  }
  void OnGradient(size_t index, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    // A leaf's hook runs once per backward, with the gradient summed over all its uses.
    assert(!arrived[index]);
    arrived[index] = true;
    Bucket& bucket = buckets[bucket_of[index]];
    bucket.flat.narrow(0, offset_of[index], grad.numel()).copy_(grad.reshape(-1));
    --bucket.pending;
    LaunchReady();
  }
};

DataParallel::DataParallel(const DistEnv& env) : env_(env) {}
DataParallel::~DataParallel() = default;

Result<std::unique_ptr<DataParallel>> DataParallel::Start(const DistEnv& env, torch::Device device,
                                                          std::chrono::seconds timeout) {
  std::unique_ptr<DataParallel> dp(new DataParallel(env));
  if (!env.distributed()) return dp;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  auto group = std::make_unique<Group>();
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = env.world_size;
    store_options.timeout = timeout;
    group->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& error) {
    return Status(StatusCode::kIoError,
                  std::string("rank ") + std::to_string(env.rank) + " of " +
                      std::to_string(env.world_size) +
                      ": cannot meet the other ranks at the rendezvous store (rank 0 listens "
                      "there; did every rank start, within --dist-timeout?): " +
                      error.what(),
                  where);
  }
  try {
    if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      group->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(group->store, env.rank,
                                                                 env.world_size, options);
#else
      return Unsupported(
          "--device cuda with more than one rank needs LibTorch's NCCL process group, and this "
          "memes was built against a LibTorch without it (Debian's libtorch is CPU-only); "
          "rebuild against a CUDA LibTorch with -DMEMES_C10D_NCCL=ON, or train on the CPU "
          "(--device cpu, Gloo)");
#endif
    } else {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // The local address Gloo's TCP pairs bind to, as PyTorch picks it: GLOO_SOCKET_IFNAME's
      // interface when set; loopback when rank 0 is this machine's loopback (every rank here);
      // else the address this machine's host name resolves to.
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      const bool loopback = env.master_addr == "localhost" || env.master_addr.starts_with("127.");
      options->devices.push_back(interface != nullptr && *interface != '\0'
                                     ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                 : loopback
                                     ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
      options->threads = 2;  // its own I/O threads; the model's pool is --threads
      group->group = c10::make_intrusive<c10d::ProcessGroupGloo>(group->store, env.rank,
                                                                 env.world_size, options);
    }
  } catch (const std::exception& error) {
    return Status(StatusCode::kIoError,
                  "rank " + std::to_string(env.rank) + ": cannot form the process group of " +
                      std::to_string(env.world_size) + " ranks: " + error.what(),
                  where);
  }
  dp->group_ = std::move(group);
  MEMES_LOG(kInfo) << "rank " << env.rank << " of " << env.world_size << " (from " << env.launcher
                   << "'s variables, local rank " << env.local_rank << "), process group "
                   << (device.is_cuda() ? "NCCL" : "Gloo") << " via " << where;
  return dp;
}

Result<std::unique_ptr<DataParallel>> StartDataParallel(const TrainOptions& options) {
  MEMES_ASSIGN_OR_RETURN(const DistEnv env, ReadDistEnv());
  if (!env.distributed()) return DataParallel::Start(env, torch::Device(torch::kCPU), {});
  SetLogPrefix("memes[" + std::to_string(env.rank) + "/" + std::to_string(env.world_size) + "]: ");
  if (options.batch_size % env.world_size != 0 || options.batch_size / env.world_size < 2) {
    return InvalidArgument("--batch-size " + std::to_string(options.batch_size) +
                           " is the global batch: it must split into " +
                           std::to_string(env.world_size) +
                           " equal per-rank batches of at least 2 images");
  }
  if (options.dist_timeout_seconds < 1) return InvalidArgument("--dist-timeout must be >= 1");
  MEMES_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options.device));
  if (device.is_cuda()) {
    // One GPU per rank on a machine: the trainer's torch::kCUDA (no index) means the current
    // device, which becomes the LOCAL_RANK-th.
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
    c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(device);
  }
  return DataParallel::Start(env, device, std::chrono::seconds(options.dist_timeout_seconds));
}

Status DataParallel::BroadcastParameters(torch::nn::Module& model) {
  if (!distributed()) return Status::Ok();
  torch::NoGradGuard no_grad;
  try {
    std::vector<torch::Tensor> tensors = model.parameters();
    for (const auto& buffer : model.buffers()) tensors.push_back(buffer);
    for (auto& tensor : tensors) {
      std::vector<torch::Tensor> one{tensor.is_contiguous() ? tensor : tensor.contiguous()};
      c10d::BroadcastOptions options;
      options.rootRank = 0;
      group_->group->broadcast(one, options)->wait();
      if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
    }
  } catch (const std::exception& error) {
    return CollectiveFailed(env_, "the broadcast of rank 0's weights", error);
  }
  return Status::Ok();
}

void DataParallel::WatchGradients(const std::vector<torch::Tensor>& parameters,
                                  int64_t bucket_bytes) {
  if (!distributed()) return;
  Group& g = *group_;
  assert(g.parameters.empty());
  g.parameters = parameters;
  g.bucket_of.resize(parameters.size());
  g.offset_of.resize(parameters.size());
  g.arrived.assign(parameters.size(), false);
  // Backward produces the last layers' gradients first: bucket in reverse order so that the
  // first bucket fills first and its all-reduce overlaps the rest of backward.
  int64_t bytes = bucket_bytes;  // of the bucket being filled
  for (size_t k = parameters.size(); k-- > 0;) {
    const auto& p = parameters[k];
    const int64_t p_bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool same_kind = !g.buckets.empty() &&
                           g.buckets.back().flat.scalar_type() == p.scalar_type() &&
                           g.buckets.back().flat.device() == p.device();
    if (!same_kind || bytes + p_bytes > bucket_bytes) {
      g.buckets.emplace_back();
      g.buckets.back().flat = torch::zeros({0}, p.options().requires_grad(false));
      bytes = 0;
    }
    auto& bucket = g.buckets.back();
    g.bucket_of[k] = g.buckets.size() - 1;
    g.offset_of[k] = bytes / p.element_size();
    bucket.parameters.push_back(k);
    bucket.offsets.push_back(g.offset_of[k]);
    bytes += p_bytes;
  }
  for (auto& bucket : g.buckets) {
    int64_t elements = 0;
    for (size_t k : bucket.parameters) elements += parameters[k].numel();
    bucket.flat = torch::zeros({elements}, bucket.flat.options());
    bucket.pending = bucket.parameters.size();
  }
  for (size_t k = 0; k < parameters.size(); ++k) {
    Group* group = &g;
    auto param = parameters[k];
    param.register_hook([group, k](torch::Tensor grad) { group->OnGradient(k, grad); });
  }
  MEMES_LOG(kDebug) << "gradient all-reduce: " << g.buckets.size()
                    << " bucket(s) of <= " << (bucket_bytes >> 20) << " MiB";
}

Status DataParallel::AverageGradients() {
  if (!distributed()) return Status::Ok();
  Group& g = *group_;
  try {
    {
      std::lock_guard<std::mutex> lock(g.mutex);
      // A parameter backward did not reach contributes zeros on this rank.
      for (size_t k = 0; k < g.parameters.size(); ++k) {
        if (g.arrived[k]) continue;
        auto& bucket = g.buckets[g.bucket_of[k]];
        bucket.flat.narrow(0, g.offset_of[k], g.parameters[k].numel()).zero_();
        g.arrived[k] = true;
        --bucket.pending;
      }
      g.LaunchReady();
      assert(g.next_launch == g.buckets.size());
    }
    torch::NoGradGuard no_grad;
    const double scale = 1.0 / world_size();
    for (auto& bucket : g.buckets) {
      bucket.work->wait();
      bucket.work.reset();
      bucket.flat.mul_(scale);
      for (size_t i = 0; i < bucket.parameters.size(); ++i) {
        auto& p = g.parameters[bucket.parameters[i]];
        auto averaged = bucket.flat.narrow(0, bucket.offsets[i], p.numel()).view(p.sizes());
        if (p.mutable_grad().defined()) {
          p.mutable_grad().copy_(averaged);
        } else {
          p.mutable_grad() = averaged.clone();
        }
      }
      bucket.pending = bucket.parameters.size();
    }
    std::fill(g.arrived.begin(), g.arrived.end(), false);
    g.next_launch = 0;
  } catch (const std::exception& error) {
    return CollectiveFailed(env_, "the gradient all-reduce", error);
  }
  return Status::Ok();
}

Result<bool> DataParallel::AnyRank(bool flag) {
  if (!distributed()) return flag;
  try {
    std::vector<torch::Tensor> one{torch::full({1}, flag ? 1.0f : 0.0f)};
    group_->group->allreduce(one)->wait();
    return one[0].item<float>() > 0;
  } catch (const std::exception& error) {
    return CollectiveFailed(env_, "the per-step stop check", error);
  }
}

Status DataParallel::SumEpochTotals(double& loss_sum, int64_t& correct, int64_t& seen) {
  if (!distributed()) return Status::Ok();
  try {
    // Doubles hold the counts exactly (below 2^53 images).
    std::vector<torch::Tensor> one{torch::tensor(
        {loss_sum, static_cast<double>(correct), static_cast<double>(seen)}, torch::kDouble)};
    group_->group->allreduce(one)->wait();
    loss_sum = one[0][0].item<double>();
    correct = static_cast<int64_t>(one[0][1].item<double>());
    seen = static_cast<int64_t>(one[0][2].item<double>());
  } catch (const std::exception& error) {
    return CollectiveFailed(env_, "the all-reduce of the epoch's training sums", error);
  }
  return Status::Ok();
}

void DataParallel::SynchroniseBatchNorm(SeResNeXtImpl& model) {
  if (!distributed()) return;
  c10d::ProcessGroup* group = group_->group.get();
  model.SetBatchNorm([group](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
    if (!bn.is_training()) return bn.forward(x);
    // x: (N, C, H, W); statistics over N, H, W of every rank.
    const int64_t channels = x.size(1);
    const auto shape = std::vector<int64_t>{1, channels, 1, 1};
    torch::Tensor mean, var;
    double count = 0;
    {
      torch::NoGradGuard no_grad;
      auto xf = x.detach().to(torch::kFloat);  // float16 sums under CUDA autocast lose digits
      const double local_count = static_cast<double>(x.numel() / channels);
      std::vector<torch::Tensor> sums{
          torch::cat({xf.sum({0, 2, 3}), torch::full({1}, local_count, xf.options())})};
      AllReduceInModel(*group, sums);
      count = sums[0][channels].item<double>();
      mean = sums[0].slice(0, 0, channels) / count;  // (C)
      // Two passes (mean first), as LibTorch's own BatchNorm: E[x²] - mean² loses digits.
      std::vector<torch::Tensor> squares{(xf - mean.view(shape)).pow(2).sum({0, 2, 3})};
      AllReduceInModel(*group, squares);
      var = squares[0] / count;  // biased, for normalising (C)
      if (bn.options.track_running_stats()) {
        const double momentum = bn.options.momentum().value_or(0.1);
        bn.running_mean.mul_(1 - momentum).add_(mean * momentum);
        bn.running_var.mul_(1 - momentum).add_(var * (count / std::max(1.0, count - 1)) * momentum);
        bn.num_batches_tracked.add_(1);
      }
    }
    auto invstd = (var + bn.options.eps()).rsqrt();
    return SyncBatchNormFunction::apply(x, bn.weight, bn.bias, mean, invstd, count, group);
  });
}

}  // namespace memes::train
