// `memes predict MODEL FILE|FOLDER…`: top-k classes of images and animations (frames averaged).
#include <memory>

#include "pipelines/cli.h"
#include "pipelines/command.h"
#include "train/train_api.h"

namespace memes::pipelines {

void AddPredictCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "predict", "Classify images with a trained model (animations: frames averaged)");
  auto options = std::make_shared<train::PredictOptions>();
  command->add_option("model", options->model, "A checkpoint: RUN/best.pt or RUN/last.pt")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("files", options->files,
                   "PNG, JPEG, GIF, WebP… files; a folder stands for the image files below it "
                   "(recursively, sorted by path; by extension, hidden names skipped)")
      ->required();
  command->add_option("-k,--top-k", options->top_k, "Classes shown per file")
      ->capture_default_str()
      ->check(IntegerRange(1, 1000));
  command->add_flag("--json", options->json, "Print one JSON object per line and file");
  command->add_option("--device", options->device, "auto | cpu | cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  command->add_option("--threads", options->threads, "CPU threads (0: all cores)")
      ->capture_default_str()
      ->check(IntegerRange(0, 1024));
  registry.Add(
      command, [options] { return ExitCodeFor(Train().predict(*options), "predict"); },
      /*needs_model=*/true);
}

}  // namespace memes::pipelines
