// RunEval (top-1/top-5, per-class accuracy, confusion matrix, flip TTA), RunPredict, and the
// prologue both RunEval and PredictTestProbabilities open (train/eval_prologue.h).
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>

#include "core/log.h"
#include "core/progress.h"
#include "core/text.h"
#include "store/file_util.h"
#include "train/batch_prefetcher.h"
#include "train/checkpoint.h"
#include "train/eval_prologue.h"
#include "train/plots.h"
#include "train/recipe.h"
#include "train/train_api.h"
#include "transform/frames.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

std::vector<int64_t> TopK(const torch::Tensor& probabilities, int k) {
  // probabilities: (classes) -> indices of the k largest, best first
  auto top = probabilities.topk(std::min<int64_t>(k, probabilities.size(0)));
  auto indices = std::get<1>(top).contiguous();
  return std::vector<int64_t>(indices.data_ptr<int64_t>(),
                              indices.data_ptr<int64_t>() + indices.numel());
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return "[" + out + "]";
}

Status RunEvalChecked(const EvalOptions& options) {
  EvalPrologueOptions prologue_options;
  prologue_options.model = options.model;
  prologue_options.shards = options.shards;
  prologue_options.device = options.device;
  prologue_options.threads = options.threads;
  prologue_options.verify_hashes = options.verify_hashes;
  prologue_options.corrupt_shards_hint = " (`memes verify " + options.shards.string() +
                                         "` checks every shard; eval --no-verify skips the "
                                         "sha256 check)";
  MEMES_ASSIGN_OR_RETURN(EvalPrologue prologue, OpenEvalPrologue(prologue_options));
  const ShardDataset& data = prologue.data;
  const auto& meta = prologue.loaded.meta;
  const bool cuda = prologue.cuda;
  if (data.num_classes() != meta.config.num_classes ||
      data.image_size() != meta.config.image_size) {
    return InvalidArgument("the shards have " + std::to_string(data.num_classes()) +
                               " classes of " + std::to_string(data.image_size()) +
                               "px, the model " + std::to_string(meta.config.num_classes) + " of " +
                               std::to_string(meta.config.image_size) + "px",
                           options.shards.string());
  }
  if (data.classes() != meta.classes) {
    if (!options.allow_class_mismatch) {
      return InvalidArgument("the shards' classes " + JoinNames(data.classes()) +
                                 " are not the model's " + JoinNames(meta.classes) + " (" +
                                 options.model.string() +
                                 "): labels would be scored against other classes; "
                                 "--allow-class-mismatch evaluates anyway",
                             options.shards.string());
    }
    MEMES_LOG(kWarning) << "the shards' classes " << JoinNames(data.classes())
                        << " are not the model's " << JoinNames(meta.classes)
                        << "; scoring label i as the model's class i (--allow-class-mismatch)";
  }
  if (meta.image_recorded && data.image_settings_recorded() &&
      !(data.image_settings() == meta.image)) {
    MEMES_LOG(kWarning) << "the shards' frames were made with "
                        << DescribeImageSettings(data.image_settings()) << ", the model's with "
                        << DescribeImageSettings(meta.image) << ": the scores may not be what "
                        << "predict gives on new pictures";
  }
  const size_t count = options.limit > 0 ? std::min<size_t>(options.limit, data.size(Split::kTest))
                                         : data.size(Split::kTest);
  SeResNeXt model = prologue.loaded.model;
  const torch::Device device = prologue.device;
  torch::NoGradGuard no_grad;

  std::vector<uint32_t> order(count);
  std::iota(order.begin(), order.end(), 0u);
  BatchPrefetcher batches(data, Split::kTest, std::move(order), options.batch_size, false, 0,
                          prologue.table, cuda, 0, cuda ? prologue.threads : 1);
  const int n = meta.config.num_classes;
  std::vector<std::vector<int64_t>> confusion(n, std::vector<int64_t>(n, 0));
  int64_t top1 = 0, top5 = 0, flip_top1 = 0;
  double loss_sum = 0;
  ProgressBar::Options bar_options;
  bar_options.enabled = !options.json;
  ProgressBar bar("eval", count, bar_options);
  // A fast-recipe model is scored with the test-time augmentation its training reported (6
  // views), so eval's top-1 and loss are the run's test accuracy and loss.
  const int tta_level = meta.config.RecipeHas("tta") ? kFastTtaLevel : 0;
  while (auto batch = batches.Next()) {
    auto images = batch->images.to(device, cuda);  // (N, 3, S, S)
    auto labels = batch->labels.to(torch::kCPU);   // (N)
    if (cuda) images = images.contiguous(torch::MemoryFormat::ChannelsLast);
    auto plain = model->forward(images).to(torch::kCPU, torch::kFloat);              // (N, C)
    auto flipped = model->forward(images.flip({3})).to(torch::kCPU, torch::kFloat);  // (N, C)
    auto logits = tta_level > 0 ? ForwardTta(model, images, tta_level).to(torch::kCPU) : plain;
    auto tta = (plain.softmax(1) + flipped.softmax(1)).argmax(1);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    auto predicted = logits.argmax(1);
    auto top = std::get<1>(logits.topk(std::min(5, n), 1));  // (N, min(5, C))
    top1 += predicted.eq(labels).sum().item<int64_t>();
    flip_top1 += tta.eq(labels).sum().item<int64_t>();
    top5 += top.eq(labels.unsqueeze(1)).any(1).sum().item<int64_t>();
    auto label_data = labels.accessor<int64_t, 1>();
    auto predicted_data = predicted.accessor<int64_t, 1>();
    for (int64_t i = 0; i < labels.size(0); ++i) ++confusion[label_data[i]][predicted_data[i]];
    bar.Add(static_cast<uint64_t>(labels.size(0)));
  }
  bar.Finish();

  const double total = std::max<double>(1, static_cast<double>(count));
  nlohmann::json report = {{"model", options.model.string()},
                           {"shards", options.shards.string()},
                           {"images", count},
                           {"loss", loss_sum / total},
                           {"top1", top1 / total},
                           {"top5", top5 / total},
                           {"top1_flip_tta", flip_top1 / total},
                           {"tta_views", tta_level > 0 ? kFastTtaViews : 1},
                           {"classes", meta.classes},
                           {"confusion", confusion}};
  nlohmann::json per_class = nlohmann::json::array();
  for (int c = 0; c < n; ++c) {
    const int64_t row = std::accumulate(confusion[c].begin(), confusion[c].end(), int64_t{0});
    per_class.push_back({{"class", meta.classes[c]},
                         {"images", row},
                         {"accuracy", row ? static_cast<double>(confusion[c][c]) / row : 0.0}});
  }
  report["per_class"] = per_class;

  const fs::path out_dir =
      options.out_dir.empty() ? options.model.parent_path() / "eval" : options.out_dir;
  std::error_code error;
  fs::create_directories(out_dir, error);
  if (error) return IoError("cannot create: " + error.message(), out_dir.string());
  MEMES_RETURN_IF_ERROR(store::WriteFileAtomic(out_dir / "eval.json", report.dump(2) + "\n"));
  MEMES_RETURN_IF_ERROR(DrawConfusion(confusion, meta.classes, out_dir / "confusion.png"));

  if (options.json) {
    std::cout << report.dump(2) << "\n";
    return Status::Ok();
  }
  std::printf("%zu test images of %s\n", count, options.shards.string().c_str());
  std::printf("top-1 %.2f%%   top-5 %.2f%%   top-1 with flip TTA %.2f%%   loss %.4f\n",
              100 * top1 / total, 100 * top5 / total, 100 * flip_top1 / total, loss_sum / total);
  if (tta_level > 0) {
    std::printf(
        "(fast recipe: top-1, top-5, loss and the table below use its 6-view test-time "
        "augmentation, as training's test accuracy; flip TTA is on the plain forward)\n");
  }
  std::printf("\n");
  size_t name_width = 5;
  // Display width, not bytes: 柴犬 takes four columns (six bytes).
  for (const auto& name : meta.classes) {
    name_width = std::max(name_width, static_cast<size_t>(DisplayWidth(name)));
  }
  std::printf("%-*s %8s %9s\n", static_cast<int>(name_width), "class", "images", "accuracy");
  for (int c = 0; c < n; ++c) {
    std::printf("%s %8lld %8.2f%%\n",
                PadRight(meta.classes[c], static_cast<int>(name_width)).c_str(),
                static_cast<long long>(per_class[c]["images"].get<int64_t>()),
                100 * per_class[c]["accuracy"].get<double>());
  }
  // Columns are numbered; each row names its class and its number, so column c is row c's class.
  std::printf("\nconfusion matrix (rows: true class, columns: predicted class number)\n%*s",
              static_cast<int>(name_width) + 4, "");
  for (int c = 0; c < n; ++c) std::printf(" %6d", c);
  std::printf("\n");
  for (int r = 0; r < n; ++r) {
    std::printf("%3d %s", r, PadRight(meta.classes[r], static_cast<int>(name_width)).c_str());
    for (int c = 0; c < n; ++c) std::printf(" %6lld", static_cast<long long>(confusion[r][c]));
    std::printf("\n");
  }
  std::printf("\nwrote %s and %s\n", (out_dir / "eval.json").string().c_str(),
              (out_dir / "confusion.png").string().c_str());
  return Status::Ok();
}

// The files `predict` reads, in order: a folder argument expands to its image files.
Result<std::vector<fs::path>> ExpandInputs(const std::vector<fs::path>& arguments) {
  std::vector<fs::path> files;
  for (const auto& argument : arguments) {
    std::error_code error;
    if (fs::is_directory(argument, error)) {
      MEMES_ASSIGN_OR_RETURN(std::vector<fs::path> inside, ImageFilesIn(argument));
      if (inside.empty()) MEMES_LOG(kWarning) << argument.string() << ": no image files in it";
      files.insert(files.end(), inside.begin(), inside.end());
    } else {
      files.push_back(argument);
    }
  }
  return files;
}

Status RunPredictChecked(const PredictOptions& options) {
  if (options.files.empty()) return InvalidArgument("predict needs at least one file");
  if (options.top_k < 1) return InvalidArgument("--top-k must be >= 1");
  MEMES_ASSIGN_OR_RETURN(std::vector<fs::path> files, ExpandInputs(options.files));
  MEMES_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options.device));
  ConfigureThreads(options.threads);
  MEMES_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModel(options.model));
  const auto& meta = loaded.meta;
  SeResNeXt model = loaded.model;
  model->to(device);
  model->eval();
  torch::NoGradGuard no_grad;
  const NormalizeTable table(meta.mean, meta.std);
  const int size = meta.config.image_size;
  // Fit every picture as the crawl fitted the training frames (the checkpoint's settings).
  const transform::DecodeOptions decode_options = DecodeOptionsFor(meta);
  if (!meta.image_recorded) {
    MEMES_LOG(kInfo) << options.model.string()
                     << " records no image settings (a model of an older memes): fitting with "
                     << DescribeImageSettings(meta.image);
  }

  size_t failed = 0;
  for (const auto& file : files) {
    Result<transform::Decoded> decoded = [&]() -> Result<transform::Decoded> {
      MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, store::ReadWholeFile(file));
      return transform::DecodeToFrames(bytes, decode_options);
    }();
    if (!decoded.ok()) {
      const Status failure =
          decoded.status().where().empty() ? decoded.status().At(file.string()) : decoded.status();
      ++failed;
      MEMES_LOG(kError) << failure.ToString();
      if (options.json) {
        std::cout << nlohmann::json{{"file", file.string()}, {"error", failure.ToString()}}.dump()
                  << std::endl;
      }
      continue;
    }
    // frames: (F, 3, S, S); an animation's kept frames vote by averaging probabilities.
    const int64_t frames = static_cast<int64_t>(decoded->frames.size());
    auto images = torch::empty({frames, 3, size, size}, torch::kFloat);
    for (int64_t f = 0; f < frames; ++f) {
      NormalizeImage(decoded->frames[f].planar.data(), size, table, false,
                     images[f].data_ptr<float>());
    }
    auto probabilities =
        model->forward(images.to(device)).softmax(1).mean(0).to(torch::kCPU);  // (C)
    const auto top = TopK(probabilities, options.top_k);
    nlohmann::json entry = {{"file", file.string()},
                            {"format", decoded->format},
                            {"frames", frames},
                            {"top", nlohmann::json::array()}};
    for (int64_t c : top) {
      entry["top"].push_back(
          {{"class", meta.classes[c]}, {"probability", probabilities[c].item<double>()}});
    }
    if (options.json) {
      std::cout << entry.dump() << std::endl;  // JSON Lines: one object per file, as it is done
      continue;
    }
    std::printf("%s (%s, %lld frame%s)\n", file.string().c_str(), decoded->format.c_str(),
                static_cast<long long>(frames), frames == 1 ? "" : "s");
    for (const auto& t : entry["top"]) {
      std::printf("  %6.2f%%  %s\n", 100 * t["probability"].get<double>(),
                  t["class"].get<std::string>().c_str());
    }
    std::fflush(stdout);
  }
  if (files.size() > 1 || failed > 0) {
    MEMES_LOG(kInfo) << files.size() << (files.size() == 1 ? " file: " : " files: ")
                     << files.size() - failed << " predicted, " << failed << " failed";
  }
  if (failed > 0) {
    return Corrupt(std::to_string(failed) + " of " + std::to_string(files.size()) +
                   (files.size() == 1 ? " file" : " files") + " could not be read or decoded");
  }
  return Status::Ok();
}

}  // namespace

Result<EvalPrologue> OpenEvalPrologue(const EvalPrologueOptions& options) {
  MEMES_ASSIGN_OR_RETURN(torch::Device device, ResolveDevice(options.device));
  const bool cuda = device.is_cuda();
  const int threads = ConfigureThreads(options.threads);
  auto tbb_threads =
      std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, threads);
  MEMES_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModel(options.model));
  ShardOpenOptions open_options;
  open_options.verify_hashes = options.verify_hashes;
  open_options.load_train = false;  // only test_batch.bin is read: check only what is read
  auto opened = ShardDataset::Open(options.shards, open_options);
  if (!opened.ok()) {
    const Status& failure = opened.status();
    if (failure.code() != StatusCode::kCorrupt) return failure;
    return Status(failure.code(), failure.message() + options.corrupt_shards_hint, failure.where());
  }
  loaded.model->to(device);
  if (cuda) ToChannelsLast(*loaded.model);
  loaded.model->eval();
  const NormalizeTable table(loaded.meta.mean, loaded.meta.std);
  return EvalPrologue{
      device, cuda, threads, std::move(tbb_threads), std::move(loaded), std::move(*opened), table};
}

Status RunEval(const EvalOptions& options) {
  return CatchLibTorch([&] { return RunEvalChecked(options); });
}

Status RunPredict(const PredictOptions& options) {
  return CatchLibTorch([&] { return RunPredictChecked(options); });
}

}  // namespace memes::train
