// `memes predict MODEL FILE…`: top-k classes of images and animations (frames averaged).
#include <memory>

#include "pipelines/command.h"
#include "train/train_api.h"

namespace memes::pipelines {

int ExitCodeFor(const Status& status, const char* command);  // pipelines/cmd_train.cpp

void AddPredictCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "predict", "Classify images with a trained model (animations: frames averaged)");
  auto options = std::make_shared<train::PredictOptions>();
  command->add_option("model", options->model, "A checkpoint: RUN/best.pt or RUN/last.pt")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("files", options->files, "PNG, JPEG, GIF, WebP… files")->required();
  command->add_option("-k,--top-k", options->top_k, "Classes shown per file")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->add_flag("--json", options->json, "Print JSON");
  command->add_option("--device", options->device, "auto | cpu | cuda")->capture_default_str();
  command->add_option("--threads", options->threads, "CPU threads (0: all cores)")
      ->capture_default_str();
  registry.Add(command, [options] { return ExitCodeFor(train::RunPredict(*options), "predict"); });
}

}  // namespace memes::pipelines
