// `memes train SHARDS --out RUN`: trains an SE-ResNeXt from packed shards (train/train_api.h).
#include <iostream>
#include <memory>

#include "core/log.h"

#include "pipelines/command.h"
#include "train/train_api.h"

namespace memes::pipelines {

// Shared by train, eval and predict: 2 for usage/configuration errors, 130 after Ctrl-C,
// 1 for everything else that failed.
int ExitCodeFor(const Status& status, const char* command) {
  if (status.ok()) return kExitOk;
  std::cerr << "memes " << command << ": " << status.ToString() << "\n";
  if (status.code() == StatusCode::kCancelled) return 130;
  if (status.code() == StatusCode::kInvalidArgument) return kExitUsage;
  return kExitItemsFailed;
}

void AddTrainCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("train", "Train an SE-ResNeXt from packed shards");
  auto options = std::make_shared<train::TrainOptions>();
  command
      ->add_option("shards", options->shards,
                   "Folder of data_batch_*.bin, test_batch.bin (and dataset.json)")
      ->required();
  command
      ->add_option("-o,--out", options->run_dir,
                   "Run folder: last.pt, best.pt, metrics.jsonl, curves.png")
      ->required();
  command->add_option("--preset", options->preset, "se-resnext29-8x64 | small | tiny")
      ->capture_default_str();
  command
      ->add_option("--blocks", options->blocks_per_stage,
                   "Blocks per stage, overriding the preset (e.g. 3,3,3)")
      ->delimiter(',');
  command->add_option("--widths", options->widths, "Output width per stage (e.g. 256,512,1024)")
      ->delimiter(',');
  command->add_option("--cardinality", options->cardinality, "Groups C of the 3x3 convs");
  command->add_option("--group-width", options->group_width, "Width D of each group in stage 1");
  command->add_option("--stem", options->stem_channels, "Stem channels");
  command->add_option("--epochs", options->epochs)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command->add_option("--batch-size", options->batch_size)
      ->capture_default_str()
      ->check(CLI::Range(2, 65536));
  command->add_option("--lr", options->learning_rate, "Peak learning rate")->capture_default_str();
  command->add_option("--momentum", options->momentum, "Nesterov momentum")->capture_default_str();
  command
      ->add_option("--weight-decay", options->weight_decay,
                   "Weight decay (not on BatchNorm parameters and biases)")
      ->capture_default_str();
  command->add_option("--label-smoothing", options->label_smoothing)->capture_default_str();
  command->add_option("--schedule", options->schedule, "step | cosine | onecycle")
      ->capture_default_str();
  command->add_option("--warmup", options->warmup_epochs, "Warm-up epochs (cosine, onecycle)")
      ->capture_default_str();
  command
      ->add_option("--milestones", options->step_milestones,
                   "step schedule: epochs where the rate drops ÷10 (default 50%,75%)")
      ->delimiter(',');
  command->add_flag("!--no-augment", options->augment, "No random crop or flip");
  command->add_option("--seed", options->seed, "Deterministic on the CPU for a given seed")
      ->capture_default_str();
  command->add_option("--device", options->device, "auto | cpu | cuda")->capture_default_str();
  command
      ->add_option("--threads", options->threads,
                   "CPU threads for LibTorch and the loader (0: all cores)")
      ->capture_default_str();
  command->add_flag("--resume", options->resume, "Continue exactly from RUN/last.pt");
  command->add_option("--limit-train", options->limit_train,
                      "Use only the first N training images");
  command->add_option("--limit-test", options->limit_test, "Use only the first N test images");
  command->add_option("--stop-after-steps", options->stop_after_steps,
                      "Save and stop after N optimizer steps in total, as Ctrl-C would");
  command->add_flag("!--no-verify", options->verify_hashes, "Skip the sha256 check of the shards");
  registry.Add(command, [options] {
    options->progress = LogEnabled(LogLevel::kInfo);
    return ExitCodeFor(train::RunTraining(*options), "train");
  });
}

}  // namespace memes::pipelines
