// RunTraining: the training loop, its schedule, loss scaling, metrics and checkpoints.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <oneapi/tbb/global_control.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <numeric>
#include <optional>
#include <random>

#include "core/log.h"
#include "core/progress.h"
#include "store/file_util.h"
#include "train/allocator.h"
#include "train/batch_prefetcher.h"
#include "train/checkpoint.h"
#include "train/distributed.h"
#include "train/ema.h"
#include "train/metrics_file.h"
#include "train/mixed_precision.h"
#include "train/plots.h"
#include "train/recipe.h"
#include "train/run_folder.h"
#include "train/train_api.h"
#include "train/training_schedule.h"
#include "train/training_threads.h"
#include "train/whitening.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void OnSigint(int) { g_interrupted.store(true); }

// Installs the SIGINT handler for the duration of a run, restores the previous one after.
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = OnSigint;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_);
  }
  ~SigintGuard() { sigaction(SIGINT, &previous_, nullptr); }
  SigintGuard(const SigintGuard&) = delete;
  SigintGuard& operator=(const SigintGuard&) = delete;

 private:
  struct sigaction previous_ {};
};

// User + system CPU seconds of every thread of this process so far.
double ProcessCpuSeconds() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::vector<uint32_t> EpochOrder(size_t count, uint64_t seed, int epoch) {
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937_64 random(Mix64(seed * 1000003ULL + static_cast<uint64_t>(epoch)));
  std::shuffle(order.begin(), order.end(), random);
  return order;
}

Result<ModelConfig> BuildConfig(const TrainOptions& options, const ShardDataset& data) {
  MEMES_ASSIGN_OR_RETURN(ModelConfig config,
                         PresetConfig(options.preset, data.num_classes(), data.image_size()));
  if (!options.blocks_per_stage.empty()) config.blocks_per_stage = options.blocks_per_stage;
  if (!options.widths.empty()) config.widths = options.widths;
  if (options.cardinality > 0) config.cardinality = options.cardinality;
  if (options.group_width > 0) config.group_width = options.group_width;
  if (options.stem_channels > 0) config.stem_channels = options.stem_channels;
  config.recipe = options.recipe;
  config.recipe_off = options.recipe_off;
  std::sort(config.recipe_off.begin(), config.recipe_off.end());
  MEMES_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

// The optimizer and, per parameter group, its learning rate as a multiple of the schedule's.
struct Optimizer {
  std::unique_ptr<torch::optim::SGD> sgd;
  std::vector<double> lr_scales;
};

// classic: two groups, weight decay on conv/linear weights, none on BN parameters and biases.
// fast (airbench): BatchNorm biases at kFastBiasLrScale times the rate, every other trainable
// parameter at the rate; both decay by options.weight_decay per step at the peak rate (LibTorch
// multiplies the decay by the rate, hence the division). Frozen parameters are left out.
Optimizer MakeOptimizer(SeResNeXt& model, const TrainOptions& options) {
  auto base = torch::optim::SGDOptions(options.learning_rate)
                  .momentum(options.momentum)
                  .nesterov(options.momentum > 0)
                  .dampening(0);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  Optimizer optimizer;
  if (options.recipe == "fast") {
    // `--recipe-off bn`, and SE-ResNeXt: the biases learn at the common rate.
    const double bias_lr_scale = BatchNormBiasLrScale(model->config());
    std::vector<torch::Tensor> biases = model->BatchNormBiases(), others;
    for (const auto& p : model->parameters()) {
      const bool bias = std::any_of(biases.begin(), biases.end(),
                                    [&](const torch::Tensor& b) { return b.is_same(p); });
      if (!bias && p.requires_grad()) others.push_back(p);
    }
    const double bias_lr = options.learning_rate * bias_lr_scale;
    groups.emplace_back(biases, std::make_unique<torch::optim::SGDOptions>(
                                    torch::optim::SGDOptions(base).lr(bias_lr).weight_decay(
                                        options.weight_decay / bias_lr)));
    groups.emplace_back(others, std::make_unique<torch::optim::SGDOptions>(
                                    torch::optim::SGDOptions(base).weight_decay(
                                        options.weight_decay / options.learning_rate)));
    optimizer.lr_scales = {bias_lr_scale, 1.0};
  } else {
    std::vector<torch::Tensor> decay, no_decay;
    for (const auto& named : model->named_parameters()) {
      (named.value().dim() <= 1 ? no_decay : decay).push_back(named.value());
    }
    groups.emplace_back(decay,
                        std::make_unique<torch::optim::SGDOptions>(
                            torch::optim::SGDOptions(base).weight_decay(options.weight_decay)));
    groups.emplace_back(no_decay, std::make_unique<torch::optim::SGDOptions>(
                                      torch::optim::SGDOptions(base).weight_decay(0)));
    optimizer.lr_scales = {1.0, 1.0};
  }
  optimizer.sgd = std::make_unique<torch::optim::SGD>(groups, base);
  return optimizer;
}

void SetLearningRate(Optimizer& optimizer, double learning_rate) {
  auto& groups = optimizer.sgd->param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    static_cast<torch::optim::SGDOptions&>(groups[g].options())
        .lr(learning_rate * optimizer.lr_scales[g]);
  }
}

// The fast recipe's whitening layer from the first kWhiteningImages training images (no
// augmentation); the lookahead copy restarts from the result.
void InitWhiteningFromData(SeResNeXt& model, const ShardDataset& data, size_t train_count,
                           const NormalizeTable& table) {
  const size_t n = std::min(train_count, kWhiteningImages);
  const int size = data.image_size();
  std::vector<uint32_t> indices(n);
  std::iota(indices.begin(), indices.end(), 0u);
  auto images = torch::empty({static_cast<int64_t>(n), 3, size, size});
  auto labels = torch::empty({static_cast<int64_t>(n)}, torch::kLong);
  AssembleBatch(data, Split::kTrain, indices, table, false, AugmentOptions{}, 0,
                std::span<float>(images.data_ptr<float>(), images.numel()),
                std::span<int64_t>(labels.data_ptr<int64_t>(), n));
  InitWhitening(*model->whitening(), images);
  torch::NoGradGuard no_grad;
  const auto tracked = LookaheadTracked(*model);
  const auto buffers = model->LookaheadBuffers();
  for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(tracked[i]);
}

struct TestResult {
  double loss = 0, accuracy = 0;
};

TestResult Evaluate(SeResNeXt& model, const ShardDataset& data, size_t count,
                    const NormalizeTable& table, torch::Device device, bool cuda, int batch_size,
                    int loader_threads, int tta_level, bool bf16, bool channels_last) {
  torch::NoGradGuard no_grad;
  model->eval();
  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  BatchPrefetcher batches(data, Split::kTest, std::move(order), batch_size, false, 0, table, cuda,
                          0, cuda ? loader_threads : 1);
  double loss_sum = 0;
  int64_t correct = 0;
  while (auto batch = batches.Next()) {
    auto images = batch->images.to(device, /*non_blocking=*/cuda);
    auto labels = batch->labels.to(device, cuda);
    if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor logits;
    {
      CpuAutocast autocast(bf16);
      logits = ForwardTta(model, images, tta_level);  // float32 (N, classes)
    }
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
  }
  model->train();
  return {loss_sum / std::max<size_t>(1, count),
          static_cast<double>(correct) / std::max<size_t>(1, count)};
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// What the refusal to replace a run says about it: its files and, when run.json and
// metrics.jsonl tell, how far it got ("4 of 4 epochs, test accuracy 97.5%").
std::string DescribeRun(const fs::path& run_dir, const std::vector<std::string>& files) {
  std::string text = Join(files);
  auto record = ReadRunRecord(run_dir);
  const auto metrics = ReadMetrics(run_dir / "metrics.jsonl", 1 << 30);
  if (!metrics.empty()) {
    char done[96];
    std::snprintf(done, sizeof done, "; %d%s epochs done, test accuracy %.1f%%",
                  metrics.back().epoch,
                  record.ok() ? (" of " + std::to_string(record->recipe.epochs)).c_str() : "",
                  100 * metrics.back().test_accuracy);
    text += done;
  }
  return text;
}

Status RunTrainingChecked(const TrainOptions& given) {
  if (given.epochs < 1 || given.batch_size < 2) {
    return InvalidArgument("--epochs must be >= 1 and --batch-size >= 2");
  }
  if (given.resume && given.force) {
    return InvalidArgument(
        "--resume continues the run in --out, --force moves it aside: choose one");
  }
  TrainOptions options = given;
  options.run_dir = NormalizeRunDir(given.run_dir);
  MEMES_ASSIGN_OR_RETURN(std::unique_ptr<DataParallel> dist, StartDataParallel(given));
  options.progress = options.progress && dist->IsRank0();
  const fs::path last_path = options.run_dir / "last.pt";
  const fs::path best_path = options.run_dir / "best.pt";
  const fs::path metrics_path = options.run_dir / "metrics.jsonl";

  // A run folder is never silently replaced: resume it, or move it aside with --force.
  std::optional<RunRecord> record;
  std::optional<LoadedModel> resumed;
  TrainingState state;  // a new run: epoch 0, batch 0, no best accuracy yet
  if (options.resume) {
    if (!fs::exists(last_path)) {
      return InvalidArgument(
          "--resume: no last.pt here, so there is no run to continue (start "
          "one without --resume)",
          options.run_dir.string());
    }
    auto read = ReadRunRecord(options.run_dir);
    if (!read.ok()) {
      return InvalidArgument("--resume needs the run's record: " + read.status().ToString());
    }
    record = *read;
    MEMES_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModel(last_path));
    MEMES_ASSIGN_OR_RETURN(state, ParseTrainingState(loaded.state, last_path.string()));
    resumed = std::move(loaded);
    const double epochs_done = state.epoch;
    MEMES_ASSIGN_OR_RETURN(ResumePlan plan, PlanResume(options, *record, epochs_done));
    options = plan.options;
    for (const auto& note : plan.notes) MEMES_LOG(kInfo) << "--resume: " << note;
    if (options.shards.empty()) options.shards = record->shards;
    // The recipe is part of the run's model config (its architecture side must match).
    MEMES_ASSIGN_OR_RETURN(ModelConfig run_model, ConfigFromJson(record->model));
    if (given.Given("--recipe") && !given.recipe.empty() && given.recipe != run_model.recipe) {
      return InvalidArgument(
          "--resume: --recipe " + given.recipe + " differs from the run's " + run_model.recipe,
          (options.run_dir / kRunRecordName).string());
    }
    options.recipe = run_model.recipe;
    if (given.Given("--recipe-off") && given.recipe_off != run_model.recipe_off) {
      std::vector<std::string> sorted = given.recipe_off;
      std::sort(sorted.begin(), sorted.end());
      if (sorted != run_model.recipe_off) {
        return InvalidArgument("--resume: --recipe-off differs from the run's",
                               (options.run_dir / kRunRecordName).string());
      }
    }
    options.recipe_off = run_model.recipe_off;
    if (state.epoch >= options.epochs && state.next_batch == 0) {
      MEMES_LOG(kInfo) << options.run_dir.string() << " finished all " << options.epochs
                       << " epochs: nothing to do (give a larger --epochs to extend it)";
      return Status::Ok();
    }
  } else {
    const std::vector<std::string> files = RunFilesIn(options.run_dir);
    if (!files.empty() && dist->IsRank0()) {
      if (!options.force) {
        return InvalidArgument("holds a training run (" + DescribeRun(options.run_dir, files) +
                                   "); give --resume to continue it, or --force to move it "
                                   "aside (it is never deleted), or choose another --out",
                               options.run_dir.string());
      }
      MEMES_ASSIGN_OR_RETURN(fs::path moved, MoveRunAside(options.run_dir));
      MEMES_LOG(kInfo) << "--force: moved the previous run " << options.run_dir.string() << " to "
                       << moved.string();
    }
    if (options.shards.empty()) {
      return InvalidArgument("give the SHARDS folder (only --resume takes it from the run)");
    }
  }

  MEMES_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options.device));
  const bool cuda = device.is_cuda();
  if (options.precision != "fp32" && options.precision != "bf16") {
    return InvalidArgument("--precision must be fp32 or bf16 (got '" + options.precision + "')");
  }
  const bool bf16 = !cuda && options.precision == "bf16";
  if (bf16 && !CpuHasBf16()) {
    return InvalidArgument(
        "--precision bf16: this CPU has neither AVX512-BF16 nor AMX (bfloat16 would be "
        "emulated, slower than fp32)");
  }
  const bool channels_last = cuda || options.channels_last;
  const int threads = ConfigureThreads(options.threads);
  // The loader's TBB pool and LibTorch's pool share the same cores (see ConfigureThreads).
  tbb::global_control tbb_threads(tbb::global_control::max_allowed_parallelism, threads);
  // --threads auto (0) on the CPU: the count of LibTorch's pool is chosen between steps by
  // timing 1 thread against all cores (train/thread_chooser.h). A fixed count never changes.
  TrainingThreads thread_plan(threads, /*auto_threads=*/options.threads == 0 && !cuda);

  ShardOpenOptions open_options;
  open_options.verify_hashes = options.verify_hashes;
  MEMES_ASSIGN_OR_RETURN(ShardDataset data, ShardDataset::Open(options.shards, open_options));
  if (record) {
    MEMES_RETURN_IF_ERROR(CheckSameClasses(record->classes, data.classes(),
                                           (options.run_dir / kRunRecordName).string(),
                                           options.shards.string()));
    MEMES_RETURN_IF_ERROR(CheckSameClasses(resumed->meta.classes, data.classes(),
                                           last_path.string(), options.shards.string()));
  }
  const size_t train_count = options.limit_train > 0
                                 ? std::min<size_t>(options.limit_train, data.size(Split::kTrain))
                                 : data.size(Split::kTrain);
  const size_t test_count = options.limit_test > 0
                                ? std::min<size_t>(options.limit_test, data.size(Split::kTest))
                                : data.size(Split::kTest);
  if (!options.resume) MEMES_RETURN_IF_ERROR(ApplyRecipeDefaults(options, train_count));
  const bool fast = options.recipe == "fast";
  MEMES_ASSIGN_OR_RETURN(ModelConfig config, BuildConfig(options, data));
  MEMES_ASSIGN_OR_RETURN(Schedule schedule,
                         Schedule::Make(options.schedule, options.learning_rate, options.epochs,
                                        options.warmup_epochs, options.step_milestones));
  std::error_code error;
  fs::create_directories(options.run_dir, error);
  if (error)
    return IoError("cannot create run folder: " + error.message(), options.run_dir.string());

  ModelMeta meta{config, data.classes(), data.mean(), data.std()};
  // predict fits new pictures as the crawl fitted these (dataset.json → checkpoint).
  meta.image = data.image_settings();
  meta.image_recorded = data.image_settings_recorded();
  const NormalizeTable table(data.mean(), data.std());
  torch::manual_seed(options.seed);
  SeResNeXt model(config);
  if (config.RecipeHas("whitening") && !resumed)
    InitWhiteningFromData(model, data, train_count, table);
  if (resumed) {
    if (ConfigToJson(resumed->meta.config) != ConfigToJson(config)) {
      return Corrupt("the checkpoint's architecture (" + Describe(resumed->meta.config) +
                         ") is not the one run.json records (" + Describe(config) + ")",
                     last_path.string());
    }
    model = resumed->model;
  }
  model->to(device);
  if (channels_last) ToChannelsLast(*model);
  model->train();
  Optimizer optimizer = MakeOptimizer(model, options);
  LossScaler scaler(cuda);
  if (options.resume) {
    MEMES_RETURN_IF_ERROR(LoadTrainingState(last_path, *optimizer.sgd));
    scaler.set_scale(state.loss_scale);
  }
  MEMES_RETURN_IF_ERROR(dist->BroadcastParameters(*model));
  if (config.family != "airbench" && std::find(config.recipe_off.begin(), config.recipe_off.end(),
                                               "dirac") != config.recipe_off.end()) {
    MEMES_LOG(kWarning) << "--recipe-off dirac changes nothing on " << config.preset
                        << ": the fast recipe on SE-ResNeXt keeps He init (train/README.md)";
  }
  if (options.sync_bn && config.preset == "fast") {
    return InvalidArgument(
        "--sync-bn is not supported with the fast preset (its conv groups keep "
        "per-rank BatchNorm statistics); leave it out or use an SE-ResNeXt preset");
  }
  if (options.sync_bn) dist->SynchroniseBatchNorm(*model);

  const int64_t parameters = ParameterCount(*model);
  const int64_t macs = CountMacs(config);
  char flops[96];
  std::snprintf(flops, sizeof flops, "%.1f MFLOPs per image forward (%.1f M multiply-adds)",
                macs * 2 / 1e6, macs / 1e6);
  MEMES_LOG(kInfo) << "model " << Describe(config);
  MEMES_LOG(kInfo) << "  " << parameters << " parameters, " << flops;
  MEMES_LOG(kInfo) << "data " << options.shards.string() << ": " << train_count << " train, "
                   << test_count << " test, " << data.num_classes() << " classes; device "
                   << (cuda ? "cuda (channels-last, float16 autocast, pinned memory)" : "cpu")
                   << (bf16 ? ", bfloat16 autocast" : "")
                   << (channels_last && !cuda ? ", channels-last" : "") << ", "
                   << thread_plan.Describe() << "; recipe " << options.recipe << ", batch "
                   << options.batch_size << ", lr " << options.learning_rate << "; "
                   << AllocatorDescription();
  // The yardstick for the achieved GFLOP/s logged after each epoch (docs/benchmarks.md).
  if (!cuda) {
    MEMES_LOG(kInfo) << thread_plan.ProbeMatmul();
  }
  if (dist->IsRank0()) {
    RunRecord run;
    run.preset = config.preset;
    run.model = ConfigToJson(config);
    run.recipe = {options.epochs,   options.batch_size,    options.learning_rate,
                  options.momentum, options.weight_decay,  options.label_smoothing,
                  options.schedule, options.warmup_epochs, options.step_milestones,
                  options.augment,  options.seed};
    run.classes = data.classes();
    run.shards = fs::absolute(options.shards).lexically_normal().string();
    run.parameters = parameters;
    run.macs_per_image = macs;
    run.threads = options.threads == 0 && !cuda ? 0 : threads;
    run.device = cuda ? "cuda" : "cpu";
    MEMES_RETURN_IF_ERROR(WriteRunRecord(options.run_dir, run));
  }

  const int64_t steps_per_epoch =
      BatchPrefetcher::BatchCount(train_count, options.batch_size, options.augment);
  int epoch = state.epoch;  // epochs completed
  int64_t next_batch = state.next_batch;
  double best_accuracy = state.best_acc;
  std::vector<EpochMetrics> history = ReadMetrics(metrics_path, epoch);
  SigintGuard sigint;
  // fast: airbench sums the loss over the batch (its learning rate is per image).
  const auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions()
          .label_smoothing(options.label_smoothing)
          .reduction(
              fast ? torch::nn::functional::CrossEntropyFuncOptions::reduction_t(torch::kSum)
                   : torch::nn::functional::CrossEntropyFuncOptions::reduction_t(torch::kMean));
  std::vector<torch::Tensor> parameter_list = model->parameters();
  const std::vector<torch::Tensor> lookahead = model->LookaheadBuffers();
  const std::vector<torch::Tensor> tracked = LookaheadTracked(*model);
  const int64_t total_steps = steps_per_epoch * options.epochs;
  AugmentOptions augment_options;
  if (fast) {
    augment_options.padding = 2;
    augment_options.alternate_flip = true;
    augment_options.flip_seed = Mix64(options.seed ^ 0x666c6970ULL);
  }

  dist->WatchGradients(parameter_list);

  for (; epoch < options.epochs; ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    const bool totals = dist->IsRank0();  // only rank 0 resumes the global partial sums
    double loss_sum = totals ? state.partial_loss_sum : 0.0;
    int64_t correct = totals ? state.partial_correct : 0;
    int64_t seen = totals ? state.partial_seen : 0;
    double resumed_seconds = state.partial_seconds;
    const double cpu_started = ProcessCpuSeconds() - state.partial_cpu_seconds;
    augment_options.odd_epoch = epoch % 2 == 1;
    if (auto whiten = model->whitening(); whiten && config.RecipeHas("whitening")) {
      // airbench trains the whitening bias for the first epochs only; an undefined gradient
      // makes SGD skip it (no momentum or decay moves it after that).
      const bool learn = epoch < kFastWhitenBiasEpochs;
      whiten->bias.requires_grad_(learn);
      if (!learn) whiten->bias.mutable_grad() = torch::Tensor();
    }
    BatchPrefetcher batches(data, Split::kTrain,
                            RankSlice(EpochOrder(train_count, options.seed, epoch),
                                      options.batch_size, dist->rank(), dist->world_size()),
                            options.batch_size / dist->world_size(), options.augment,
                            Mix64(options.seed + 7919ULL * static_cast<uint64_t>(epoch)), table,
                            cuda, next_batch, cuda ? threads : 1, 3, augment_options);
    ProgressBar::Options bar_options;
    bar_options.enabled = options.progress;
    // The bar counts this process's batches only, so its rate and ETA are true after a resume.
    std::string bar_label =
        "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs);
    if (next_batch > 0) bar_label += " from batch " + std::to_string(next_batch + 1);
    ProgressBar bar(bar_label, static_cast<uint64_t>(steps_per_epoch - next_batch), bar_options);
    const int64_t seen_before = seen;
    const auto process_started = std::chrono::steady_clock::now();
    thread_plan.StartEpoch();
    double learning_rate = 0;
    while (auto batch = batches.Next()) {
      thread_plan.BeforeStep();
      // The step's wall time, waiting for the batch excluded: what the thread count changes.
      const auto step_started = std::chrono::steady_clock::now();
      const int64_t step = epoch * steps_per_epoch + batch->index;
      learning_rate = schedule.At(static_cast<double>(step) / steps_per_epoch);
      SetLearningRate(optimizer, learning_rate);
      auto images = batch->images.to(device, /*non_blocking=*/cuda);  // (N, 3, S, S)
      auto labels = batch->labels.to(device, cuda);                   // (N)
      if (channels_last) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
      torch::Tensor logits;
      if (bf16) {
        CpuAutocast autocast(true);
        logits = model->forward(images);  // bfloat16 inside, (N, classes)
        logits = logits.to(torch::kFloat);
      } else if (cuda) {
        at::autocast::set_enabled(true);
        logits = model->forward(images);  // float16 inside, (N, classes)
        at::autocast::clear_cache();
        at::autocast::set_enabled(false);
        logits = logits.to(torch::kFloat);
      } else {
        logits = model->forward(images);  // (N, classes)
      }
      auto loss = torch::nn::functional::cross_entropy(logits, labels, loss_options);
      optimizer.sgd->zero_grad();
      scaler.Scale(loss).backward();
      MEMES_RETURN_IF_ERROR(dist->AverageGradients());
      if (scaler.Unscale(parameter_list)) optimizer.sgd->step();
      if (!lookahead.empty() && (step + 1) % kLookaheadEvery == 0) {
        LookaheadUpdate(lookahead, tracked, LookaheadDecay(step + 1, total_steps));
      }
      const int64_t n = labels.size(0);
      loss_sum += loss.item<double>() * (fast ? 1 : n);
      correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
      seen += n;
      next_batch = batch->index + 1;
      const std::string decision = thread_plan.AfterStep(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - step_started).count(),
          n);
      if (!decision.empty()) {
        MEMES_LOG(kInfo) << decision;
      }
      bar.Add();
      const double seconds =
          resumed_seconds +
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const double process_seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - process_started).count();
      char detail[128];
      std::snprintf(detail, sizeof detail, "loss %.3f acc %.1f%% lr %.4f %.0f img/s",
                    loss_sum / seen, 100.0 * correct / seen, learning_rate,
                    (seen - seen_before) / std::max(1e-9, process_seconds));
      bar.SetDetail(detail);
      const bool stop_requested =
          options.stop_after_steps > 0 && step + 1 >= options.stop_after_steps;
      MEMES_ASSIGN_OR_RETURN(const bool stop,
                             dist->AnyRank(g_interrupted.load() || stop_requested));
      if (stop) {
        bar.Finish();
        MEMES_RETURN_IF_ERROR(dist->SumEpochTotals(loss_sum, correct, seen));
        if (!dist->IsRank0()) return Status(StatusCode::kCancelled, "interrupted");
        state = {epoch,         next_batch, best_accuracy, loss_sum,
                 correct,       seen,       seconds,       ProcessCpuSeconds() - cpu_started,
                 scaler.scale()};
        MEMES_RETURN_IF_ERROR(SaveCheckpoint(last_path, model, optimizer.sgd.get(), meta, state));
        MEMES_LOG(kWarning) << "interrupted in epoch " << epoch + 1 << " after batch " << next_batch
                            << "; saved " << last_path.string() << " (continue with --resume)";
        return Status(StatusCode::kCancelled, "interrupted", options.run_dir.string());
      }
    }
    bar.Finish();
    MEMES_RETURN_IF_ERROR(dist->SumEpochTotals(loss_sum, correct, seen));
    // The end of the run: the weights become the lookahead average (airbench's final update).
    if (!lookahead.empty() && epoch + 1 == options.epochs) LookaheadUpdate(lookahead, tracked, 1.0);
    const double train_seconds =
        resumed_seconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!dist->IsRank0()) {  // rank 0 evaluates and writes; the others go on
      next_batch = 0;
      state = TrainingState{};
      state.epoch = epoch + 1;
      continue;
    }
    const bool tta =
        config.RecipeHas("tta") && (options.tta_every_epoch || epoch + 1 == options.epochs);
    const TestResult test =
        Evaluate(model, data, test_count, table, device, cuda, std::max(options.batch_size, 256),
                 threads, tta ? kFastTtaLevel : 0, bf16, channels_last);
    EpochMetrics m;
    m.epoch = epoch + 1;
    m.learning_rate = learning_rate;
    m.train_loss = seen ? loss_sum / seen : 0;
    m.train_accuracy = seen ? static_cast<double>(correct) / seen : 0;
    m.test_loss = test.loss;
    m.test_accuracy = test.accuracy;
    m.test_views = tta ? kFastTtaViews : 1;
    m.images_per_second = seen / std::max(1e-9, train_seconds);
    m.train_cpu_seconds = ProcessCpuSeconds() - cpu_started;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() +
                resumed_seconds;
    history.push_back(m);
    char summary[192];
    std::snprintf(summary, sizeof summary,
                  "epoch %d/%d: train loss %.4f acc %.2f%%, test%s loss %.4f acc %.2f%%, %.0f "
                  "img/s, %s",
                  m.epoch, options.epochs, m.train_loss, 100 * m.train_accuracy,
                  tta ? " (6 views)" : "", m.test_loss, 100 * m.test_accuracy, m.images_per_second,
                  HumanDuration(m.seconds).c_str());
    MEMES_LOG(kInfo) << summary;
    if (!cuda) {
      MEMES_LOG(kInfo) << thread_plan.EpochLine(m.images_per_second, macs);
    }
    next_batch = 0;
    const bool best = m.test_accuracy > best_accuracy;
    if (best) best_accuracy = m.test_accuracy;
    state = TrainingState{};  // at an epoch boundary: no partial sums
    state.epoch = epoch + 1;
    state.best_acc = best_accuracy;
    state.loss_scale = scaler.scale();
    MEMES_RETURN_IF_ERROR(SaveCheckpoint(last_path, model, optimizer.sgd.get(), meta, state));
    if (best) MEMES_RETURN_IF_ERROR(CopyAtomically(last_path, best_path));
    MEMES_RETURN_IF_ERROR(WriteMetrics(metrics_path, history));
    MEMES_RETURN_IF_ERROR(DrawCurves(history, options.run_dir / "curves.png"));
  }
  return Status::Ok();
}

}  // namespace

Status RunTraining(const TrainOptions& options) {
  // No exception leaves train/: LibTorch reports misuse by throwing c10::Error, whose what()
  // carries a C++ stack trace no user should read.
  try {
    return RunTrainingChecked(options);
  } catch (const c10::Error& error) {
    return Internal(std::string("LibTorch: ") + error.what_without_backtrace());
  } catch (const std::exception& error) {
    return Internal(error.what());
  }
}

}  // namespace memes::train
