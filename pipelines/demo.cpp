#include "pipelines/demo.h"

#include <chrono>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/progress.h"
#include "pipelines/cli.h"
#include "pipelines/command.h"
#include "pipelines/demo_site.h"

namespace memes::pipelines {
namespace {

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Runs one `memes …` command in-process, exactly as the CLI would; prints a heading first.
int Step(const std::string& title, std::vector<std::string> args) {
  std::cout << "\n== " << title << "\n$ memes";
  for (const auto& arg : args) {
    std::cout << ' ' << (arg.find(' ') == std::string::npos ? arg : "'" + arg + "'");
  }
  std::cout << std::endl;
  args.insert(args.begin(), "memes");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  const auto start = std::chrono::steady_clock::now();
  const int status = RunCli(static_cast<int>(argv.size()), argv.data());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "-- exit " << status << " in " << HumanDuration(seconds) << std::endl;
  return status;
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(options.dir, error);
  if (error) {
    std::cerr << "memes demo: cannot create " << options.dir.string() << ": " << error.message()
              << "\n";
    return kExitUsage;
  }
  const fs::path dir = fs::absolute(options.dir);

  // The classes come from the pipeline file itself, so the site and the crawl agree on them.
  const std::string template_text = DemoPipelineTemplate();
  auto parsed = ParsePipelineText(ReplaceAll(template_text, "@SITE@", "127.0.0.1:1"),
                                  "pipelines/demo.toml", dir);
  if (!parsed.ok()) {
    std::cerr << "memes demo: " << parsed.status().ToString() << "\n";
    return kExitUsage;
  }

  demo::DemoSiteOptions site_options;
  site_options.classes = parsed->classes;
  site_options.stickers_per_class = options.stickers_per_class;
  site_options.preferred_port = options.port;
  site_options.preferred_slow_port = options.port == 0 ? 0 : options.port + 1;
  site_options.pages = parsed->sources.empty() ? 3 : parsed->sources.front().pages;
  std::cout << "Drawing the demo sticker site (" << parsed->classes.size() << " classes × "
            << options.stickers_per_class << " stickers)…" << std::endl;
  auto site = demo::DemoSite::Start(site_options);
  if (!site.ok()) {
    std::cerr << "memes demo: " << site.status().ToString() << "\n";
    return kExitUsage;
  }
  const demo::DemoSiteCounts& counts = (*site)->counts();
  std::cout << "Sticker site on http://" << (*site)->Host() << ": " << counts.stills << " stills, "
            << counts.gifs << " animated GIFs, " << counts.webps << " animated WebPs, "
            << counts.exact_duplicates << " exact and " << counts.jpeg_near_duplicates
            << " re-encoded duplicates, " << counts.broken << " broken links, "
            << counts.on_slow_host << " files on a slow host" << std::endl;

  const fs::path pipeline = dir / "pipeline.toml";
  {
    std::ofstream out(pipeline, std::ios::binary);
    out << ReplaceAll(template_text, "@SITE@", (*site)->Host());
    if (!out) {
      std::cerr << "memes demo: cannot write " << pipeline.string() << "\n";
      return kExitUsage;
    }
  }
  const std::string store = (dir / "store").string();
  const std::string shards = (dir / "store" / "shards").string();
  const std::string run = (dir / "run").string();
  const std::string model = (dir / "run" / "best.pt").string();
  const std::string threads = std::to_string(options.threads);

  // Exit 1 means "ran, some items failed": the site's broken files are meant to fail.
  auto fatal = [](int status) { return status == kExitUsage || status < 0; };
  if (fatal(Step("1. crawl the keyword lists into the store", {"crawl", pipeline.string()}))) {
    return kExitUsage;
  }
  if (fatal(Step("2. pack leak-free CIFAR-10 shards", {"pack", "--store", store}))) {
    return kExitUsage;
  }
  if (fatal(Step("3. verify the shards", {"verify", shards}))) return kExitUsage;
  const std::string preview = (dir / "preview.png").string();
  Step("4. preview each class", {"preview", "--store", store, "--out", preview});
  std::vector<std::string> train_args = {
      "train", shards, "--preset",  options.preset, "--epochs", std::to_string(options.epochs),
      "--out", run,    "--threads", threads};
  // A second demo run continues the first one's training instead of starting over, unless the
  // relabel of step 8 changed the classes since: a model's outputs are its classes, so that run
  // is moved aside (run.old-…) and a new one starts.
  if (fs::exists(dir / "run" / "last.pt")) {
    std::ifstream meta(dir / "store" / "shards" / "batches.meta.txt");
    std::vector<std::string> shard_classes;
    for (std::string line; std::getline(meta, line);) {
      if (!line.empty()) shard_classes.push_back(line);
    }
    std::ifstream record(dir / "run" / "run.json");
    const auto run_json = nlohmann::json::parse(record, nullptr, /*allow_exceptions=*/false);
    const bool same_classes = run_json.is_object() && run_json.contains("classes") &&
                              run_json["classes"] == nlohmann::json(shard_classes);
    if (same_classes) {
      train_args.push_back("--resume");
    } else {
      std::cout << "\nThe classes changed since the last training run (a relabel): it is moved "
                   "aside and a new run starts."
                << std::endl;
      train_args.push_back("--force");
    }
  }
  if (fatal(Step("5. train the " + options.preset + " model", train_args))) {
    return kExitUsage;
  }
  if (fatal(Step("6. evaluate", {"eval", model, shards}))) return kExitUsage;

  const fs::path gif = dir / "example.gif";
  std::ofstream(gif, std::ios::binary) << (*site)->FileBytes((*site)->SomeGifPath(1));
  Step("7. predict an animated GIF (a " + parsed->classes.at(1).name + ")",
       {"predict", model, gif.string()});

  const std::string& old_name = parsed->classes.back().name;
  const std::string new_name = old_name + "_relabelled";
  // The shards of step 2 name the classes as the store has them now: an earlier demo run may
  // have done this relabel already.
  std::ifstream meta(dir / "store" / "shards" / "batches.meta.txt");
  const std::string classes_now((std::istreambuf_iterator<char>(meta)), {});
  if (classes_now.find(new_name + "\n") != std::string::npos) {
    std::cout << "\n== 8. relabel a class\n"
              << old_name << " was relabelled " << new_name << " by an earlier run" << std::endl;
  } else {
    Step("8. relabel a class", {"label", "rename", old_name, new_name, "--store", store});
  }
  Step("9. repack after the relabel (no fetching, no decoding)", {"pack", "--store", store});

  std::cout << "\nDone. Outputs in " << dir.string() << ":\n"
            << "  pipeline.toml        the pipeline file the crawl ran\n"
            << "  store/               blobs, catalog.sqlite, frames cache, stats.json\n"
            << "  store/shards/        CIFAR-10 binary shards, dataset.json, index.tsv\n"
            << "  preview.png          a mosaic of each class\n"
            << "  run/                 run.json, last.pt, best.pt, metrics.jsonl, curves.png\n"
            << "  run/eval/            eval.json, confusion.png\n"
            << "Look at the store, relabel and repack in a browser:\n"
            << "  memes serve --store " << store << "\n"
            << "Run `memes demo --dir " << options.dir.string()
            << "` again to see it resume instead of starting over." << std::endl;
  return kExitOk;
}

}  // namespace memes::pipelines
