// `memes train SHARDS --out RUN`: trains an SE-ResNeXt from packed shards (train/train_api.h).
#include <memory>

#include "core/log.h"

#include "pipelines/cli.h"
#include "pipelines/command.h"
#include "train/train_api.h"

namespace memes::pipelines {

void AddTrainCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("train", "Train an SE-ResNeXt from packed shards");
  auto options = std::make_shared<train::TrainOptions>();
  command
      ->add_option("shards", options->shards,
                   "Folder of data_batch_*.bin, test_batch.bin (and dataset.json); with --resume "
                   "the run's own shards when left out")
      ->check(CLI::ExistingDirectory);
  command
      ->add_option("-o,--out", options->run_dir,
                   "Run folder: run.json, last.pt, best.pt, metrics.jsonl, curves.png. A folder "
                   "holding a run is refused unless --resume or --force")
      ->required();
  command->add_flag("--resume", options->resume,
                    "Continue the run in --out from last.pt, with run.json's preset, recipe and "
                    "schedule (--epochs N larger than the run's extends it)");
  command->add_flag("--force", options->force,
                    "Move a run already in --out aside to OUT.old-YYYYmmdd-HHMMSS (never "
                    "deleted), then start a new one");
  command
      ->add_option("--preset", options->preset,
                   "Model: se-resnext29-8x64 | small | tiny | fast (airbench-style network, "
                   "fast recipe)")
      ->capture_default_str()
      ->check(CLI::IsMember({"se-resnext29-8x64", "small", "tiny", "fast"}));
  command
      ->add_option("--recipe", options->recipe,
                   "classic | fast: fast adds a frozen patch-whitening first layer, dirac init, "
                   "frozen BatchNorm weights, lookahead, alternating flip, 6-view test-time "
                   "augmentation and airbench's defaults for the options not given (default: "
                   "fast for --preset fast, else classic)")
      ->check(CLI::IsMember({"classic", "fast"}));
  command
      ->add_option("--recipe-off", options->recipe_off,
                   "Ablation: fast-recipe parts to switch off, comma-separated: whitening (the "
                   "2x2 first layer learns from a random init), dirac (default conv init), bn "
                   "(BatchNorm weights learn, common bias rate, LibTorch momentum/eps), lookahead, "
                   "tta (one test view). Kept in the checkpoint, so eval agrees")
      ->delimiter(',')
      ->check(CLI::IsMember({"whitening", "dirac", "bn", "lookahead", "tta"}));
  command
      ->add_option("--precision", options->precision,
                   "fp32 | bf16 (CPU bfloat16 autocast; needs AVX512-BF16 or AMX)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  command->add_flag("--channels-last", options->channels_last,
                    "CPU: channels-last memory format (always on CUDA)");
  command->add_flag("--tta-every-epoch", options->tta_every_epoch,
                    "Fast recipe: score every epoch's test with the 6 TTA views (default: only the "
                    "last epoch; the others on the plain view, 1/6 of the cost)");
  command
      ->add_option("--blocks", options->blocks_per_stage,
                   "Blocks per stage, overriding the preset (e.g. 3,3,3)")
      ->delimiter(',')
      ->check(IntegerRange(1, 64));
  command->add_option("--widths", options->widths, "Output width per stage (e.g. 256,512,1024)")
      ->delimiter(',')
      ->check(IntegerRange(1, 16384));
  command->add_option("--cardinality", options->cardinality, "Groups C of the 3x3 convs")
      ->check(IntegerRange(1, 1024));
  command->add_option("--group-width", options->group_width, "Width D of each group in stage 1")
      ->check(IntegerRange(1, 4096));
  command->add_option("--stem", options->stem_channels, "Stem channels")
      ->check(IntegerRange(1, 4096));
  command->add_option("--epochs", options->epochs, "Passes over the training split")
      ->capture_default_str()
      ->check(IntegerRange(1, 100000));
  command
      ->add_option("--batch-size", options->batch_size,
                   "Images per optimizer step; under torchrun/mpirun/srun the global batch, "
                   "split evenly over the ranks")
      ->capture_default_str()
      ->check(IntegerRange(2, 65536));
  command->add_option("--lr", options->learning_rate, "Peak learning rate")
      ->capture_default_str()
      ->check(FiniteRange(0, 100, /*low_open=*/true));
  command->add_option("--momentum", options->momentum, "Nesterov momentum (0: plain SGD)")
      ->capture_default_str()
      ->check(FiniteRange(0, 0.9999));
  command
      ->add_option("--weight-decay", options->weight_decay,
                   "Weight decay (not on BatchNorm parameters and biases)")
      ->capture_default_str()
      ->check(FiniteRange(0, 1));
  command
      ->add_option("--label-smoothing", options->label_smoothing,
                   "Share of the target spread evenly over all classes")
      ->capture_default_str()
      ->check(FiniteRange(0, 0.9999));
  command
      ->add_option("--schedule", options->schedule,
                   "Learning-rate schedule: step | cosine | onecycle | triangular")
      ->capture_default_str()
      ->check(CLI::IsMember({"step", "cosine", "onecycle", "triangular"}));
  command->add_option("--warmup", options->warmup_epochs, "Warm-up epochs (cosine, onecycle)")
      ->capture_default_str()
      ->check(FiniteRange(0, 100000));
  command
      ->add_option("--milestones", options->step_milestones,
                   "step schedule: epochs where the rate drops ÷10 (default 50%,75%)")
      ->delimiter(',')
      ->check(IntegerRange(1, 100000));
  command->add_flag("!--no-augment", options->augment, "No random crop or flip");
  command->add_option("--seed", options->seed, "Deterministic on the CPU for a given seed")
      ->capture_default_str();
  command->add_option("--device", options->device, "auto | cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  command
      ->add_option("--threads", options->threads,
                   "CPU threads for LibTorch: auto (0) times 1 thread against all cores while "
                   "training and keeps the faster, checking again as the load changes; N fixes "
                   "the count (bit-identical reruns need the same N)")
      ->default_str("auto")
      ->transform(CLI::Transformer({{"auto", "0"}}))
      ->check(IntegerRange(0, 1024));
  command->add_option("--limit-train", options->limit_train, "Use only the first N training images")
      ->check(IntegerRange(0, INT64_MAX));
  command->add_option("--limit-test", options->limit_test, "Use only the first N test images")
      ->check(IntegerRange(0, INT64_MAX));
  command
      ->add_option("--stop-after-steps", options->stop_after_steps,
                   "Save and stop after N optimizer steps in total, as Ctrl-C would")
      ->check(IntegerRange(0, INT64_MAX));
  command->add_flag("!--no-verify", options->verify_hashes, "Skip the sha256 check of the shards");
  command->add_flag("--sync-bn", options->sync_bn,
                    "Distributed runs: BatchNorm statistics over the global batch (default: each "
                    "rank's own batch)");
  command
      ->add_option("--dist-timeout", options->dist_timeout_seconds,
                   "Distributed runs: seconds a rank waits for the others (start-up, each "
                   "collective) before it fails; longer than rank 0's evaluation of an epoch")
      ->capture_default_str()
      ->check(IntegerRange(1, 86400));
  registry.Add(
      command,
      [options, command] {
        options->progress = LogEnabled(LogLevel::kInfo);
        options->given_options = GivenOptions(*command);
        return ExitCodeFor(Train().train(*options), "train");
      },
      /*needs_model=*/true);
}

}  // namespace memes::pipelines
