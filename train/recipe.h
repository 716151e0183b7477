// Training recipes: "classic" (the original SE-ResNeXt recipe, TrainOptions' own defaults) and
// "fast" (after KellerJordan/cifar10-airbench): the values it gives every option the user did
// not set, and its constants. The architecture side (whitening stem, dirac init, frozen
// BatchNorm weights, lookahead buffers) is in ModelConfig::recipe and train/model.h.
// LibTorch-free. Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"
#include "train/model_config.h"
#include "train/train_api.h"

namespace memes::train {

// fast, airbench network: BatchNorm biases learn this many times faster than the other
// parameters (their weight decay is divided by as much, so the decay per step is the same).
inline constexpr double kFastBiasLrScale = 64.0;
// The learning rate of BatchNorm biases relative to the other parameters: kFastBiasLrScale for
// the airbench family with the fast recipe's "bn" part on, 1 otherwise. On SE-ResNeXt the 64x
// rate kept `small --recipe fast` at chance on Fashion-MNIST (its residual stream and mean-pooled
// head take the biases unnormalised; docs/benchmarks.md, "small with the fast recipe").
double BatchNormBiasLrScale(const ModelConfig& config);
// fast: the whitening layer's bias learns during these first epochs, then is frozen.
inline constexpr int kFastWhitenBiasEpochs = 3;
// fast: test-time augmentation level (train/model.h ForwardTta): 6 views.
inline constexpr int kFastTtaLevel = 2;
inline constexpr int kFastTtaViews = 6;
// fast: images whose patches set the whitening layer (the first of the training split).
inline constexpr size_t kWhiteningImages = 5000;

// "classic" or "fast": the recipe `options` asks for (an empty recipe is the preset's: fast for
// the "fast" preset, classic otherwise). InvalidArgument for another name, or classic with the
// fast preset (its network has no classic recipe).
Result<std::string> ResolveRecipe(const TrainOptions& options);

// For the fast recipe, every option not in options.given_options gets airbench's value:
// epochs 10, batch 1024 (halved while it exceeds an eighth of train_count, not below 64),
// momentum 0.85, label smoothing 0.2, the "triangular" schedule, crop padding 2, and the learning
// rate and weight decay of airbench's per-1024-images values for a summed loss:
//   lr = 11.5 / (1024 * (1 + 1 / (1 - momentum))),  decay = 0.0153 * batch / (1024 * (...)).
// Leaves a classic recipe's options alone. Sets options.recipe to the resolved name.
Status ApplyRecipeDefaults(TrainOptions& options, size_t train_count);

}  // namespace memes::train
