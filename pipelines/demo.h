// `memes demo`: the whole loop on a built-in sticker site, as a newcomer meets it first.
// Starts the demo site (demo_site.h) on 127.0.0.1, writes the pipeline file pipelines/demo.toml
// with the site's address into DIR, and runs the real jobs through the same command line a user
// types: crawl → pack → verify → preview → train (fast preset) → eval → predict one GIF → relabel
// one class → pack again. A second run in the same DIR resumes: fetched URLs are skipped and
// training continues from its checkpoint.
#pragma once

#include <filesystem>
#include <string>

namespace memes::pipelines {

struct DemoOptions {
  std::filesystem::path dir = "memes-demo";
  int stickers_per_class = 40;
  // The fast preset and recipe (train/README.md): 3 epochs reach 100 % on the demo's held-out
  // groups from epoch 2 on and train in ~36 s on 2 loaded cores (docs/benchmarks.md, "The whole
  // loop").
  int epochs = 3;
  std::string preset = "fast";
  // LibTorch threads for training. 0: auto, 1 thread or all cores, whichever steps measure
  // faster while training (train/thread_chooser.h): a second core that another process keeps
  // busy made two OpenMP threads tens of times slower than one.
  int threads = 0;
  // The site's port (its slow host takes the next one); 0 picks free ports, which a second run
  // cannot resume from since the URLs change.
  int port = 47811;
};

// Returns the exit status: 0 when every step ran, 2 when one could not.
int RunDemo(const DemoOptions& options);

// The pipeline file template (pipelines/demo.toml, compiled in).
const char* DemoPipelineTemplate();

}  // namespace memes::pipelines
