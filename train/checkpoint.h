// Checkpoint files (last.pt, best.pt): one LibTorch archive holding the model, what predict and
// eval need to rebuild and feed it (architecture, classes, image settings, mean/std), and for
// training the optimizer state, the schedule position and the CPU RNG state.
// Writes are atomic: store::WriteFileAtomic (a unique temporary name, fsync, rename).
// Thread-safety: none needed (called from the training thread only).
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include "core/image_settings.h"
#include "core/status.h"
#include "train/model.h"
#include "transform/frames.h"

namespace memes::train {

// What a model file must carry besides the weights.
struct ModelMeta {
  ModelConfig config;
  std::vector<std::string> classes;
  std::array<float, 3> mean{};
  std::array<float, 3> std{};
  // How a picture becomes the model's input (size, fit, background, max_frames), copied from the
  // shards' dataset.json at train time. Invariant: image.size == config.image_size.
  ImageSettings image;
  // false: the file (or the shards it was trained on) records no settings, and `image` holds
  // the defaults of core/image_settings.h; predict says so in one line.
  bool image_recorded = false;
};

// How predict decodes and fits a picture for this model: the checkpoint's image settings (size,
// fit, background, max_frames), so a new picture becomes what the training frames were.
transform::DecodeOptions DecodeOptionsFor(const ModelMeta& meta);

// Saves model (+ optimizer and `state` when given) to `path` atomically.
// `state` is free-form training state (epoch, step, best accuracy, partial sums...).
Status SaveCheckpoint(const std::filesystem::path& path, SeResNeXt& model,
                      torch::optim::Optimizer* optimizer, const ModelMeta& meta,
                      const nlohmann::json& state);

struct LoadedModel {
  ModelMeta meta;
  SeResNeXt model{nullptr};  // on the CPU, in eval mode
  nlohmann::json state;      // empty object for a model-only file
};
// Rebuilds the model from the file's own config and loads its weights.
Result<LoadedModel> LoadModel(const std::filesystem::path& path);

// Restores optimizer and the CPU RNG state from a checkpoint written with an optimizer.
// Requires: `optimizer` was built over `loaded.model`'s parameters in the same order.
Status LoadTrainingState(const std::filesystem::path& path, torch::optim::Optimizer& optimizer);

// Copies `from` to `to` atomically (best.pt from last.pt).
Status CopyAtomically(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace memes::train
