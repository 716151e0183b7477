// `memes demo [--dir DIR]`: the whole loop on the built-in sticker site (pipelines/demo.h).
#include "pipelines/command.h"
#include "pipelines/demo.h"

namespace memes::pipelines {

void AddDemoCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand(
      "demo",
      "Run the whole loop on a built-in sticker site: crawl → pack → preview → train → eval → "
      "predict → relabel → repack");
  auto options = std::make_shared<DemoOptions>();
  command->add_option("--dir", options->dir, "Output folder (a second run resumes in it)")
      ->capture_default_str();
  command->add_option("--stickers", options->stickers_per_class, "Stickers drawn per class")
      ->capture_default_str()
      ->check(CLI::Range(4, 1000));
  command->add_option("--epochs", options->epochs, "Training epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  command->add_option("--preset", options->preset, "Model preset")->capture_default_str();
  command
      ->add_option("--threads", options->threads,
                   "LibTorch threads for training: auto (1 or all cores, whichever is faster "
                   "while it trains) or N")
      ->default_str("auto")
      ->transform(CLI::Transformer({{"auto", "0"}}))
      ->check(CLI::Range(0, 1024));
  command
      ->add_option("--port", options->port,
                   "Port of the demo site on 127.0.0.1 (0: any free port; a taken port falls "
                   "back to a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65534));
  registry.Add(
      command, [options] { return RunDemo(*options); },
      /*needs_model=*/true);
}

}  // namespace memes::pipelines
