// `memes eval MODEL SHARDS`: top-1/top-5, per-class accuracy, confusion matrix, flip TTA.
#include <memory>

#include "pipelines/cli.h"
#include "pipelines/command.h"
#include "train/train_api.h"

namespace memes::pipelines {

void AddEvalCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("eval", "Evaluate a trained model on packed shards");
  auto options = std::make_shared<train::EvalOptions>();
  command->add_option("model", options->model, "A checkpoint: RUN/best.pt or RUN/last.pt")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("shards", options->shards, "Shard folder; its test split is evaluated")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("-o,--out", options->out_dir,
                      "Where eval.json and confusion.png go (default: MODEL's folder/eval)");
  command->add_option("--batch-size", options->batch_size, "Images per forward pass")
      ->capture_default_str()
      ->check(IntegerRange(1, 65536));
  command->add_option("--device", options->device, "auto | cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  command->add_option("--threads", options->threads, "CPU threads (0: all cores)")
      ->capture_default_str()
      ->check(IntegerRange(0, 1024));
  command->add_option("--limit", options->limit, "Evaluate only the first N test images")
      ->check(IntegerRange(0, INT64_MAX));
  command->add_flag("!--no-verify", options->verify_hashes,
                    "Skip the sha256 check of test_batch.bin (the only shard eval reads)");
  command->add_flag("--allow-class-mismatch", options->allow_class_mismatch,
                    "Evaluate although the shards name other classes than the model (label i "
                    "is scored as the model's class i)");
  command->add_flag("--json", options->json, "Print the report as JSON");
  registry.Add(
      command, [options] { return ExitCodeFor(Train().eval(*options), "eval"); },
      /*needs_model=*/true);
}

}  // namespace memes::pipelines
