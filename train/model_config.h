// Network descriptions (SE-ResNeXt, and the airbench-style "fast" network): the presets, and the
// parameter and FLOP counts derived from a config alone (no LibTorch here, so the CLI and
// checkpoints' metadata can use it).
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace memes::train {

// The network, stage by stage (see train/model.h for the block and the tensor shapes):
//   stem: 3x3 conv 3 -> stem_channels, BN, ReLU                   (N, 3, S, S) -> (N, stem, S, S)
//   stage s (s = 0..): blocks_per_stage[s] blocks, out width widths[s]; the first block of
//     stage s > 0 has stride 2. Inner (grouped) width = cardinality * group_width * 2^s.
//   head: global average pool, fully connected widths.back() -> num_classes.
// With recipe "fast" a frozen 2x2 patch-whitening conv (3 -> kWhitenWidth, no padding, so the
// side shrinks by one) and GELU come before the stem; see train/whitening.h.
//
// family "airbench" (preset "fast", after KellerJordan/cifar10-airbench):
//   whitening 2x2 conv 3 -> kWhitenWidth, GELU                     (N, 24, S-1, S-1)
//   group g: 3x3 conv -> widths[g], max-pool 2, BN, GELU, 3x3 conv, BN, GELU   (side halves)
//   head: global max pool, linear widths.back() -> num_classes (no bias), times 1/9.
//   blocks_per_stage must be all 1; cardinality, group_width, stem_channels, se_ratio unused.
struct ModelConfig {
  std::string preset = "custom";
  std::string family = "se-resnext";  // se-resnext | airbench
  // classic | fast. Architecture side of the fast recipe: whitening stem, dirac init (airbench
  // family only; SE-ResNeXt keeps He init, see model.cpp), BatchNorm with frozen weights and
  // momentum 0.4, a lookahead copy of the weights kept as buffers (so a
  // checkpoint resumes exactly). The training side lives in train/recipe.h.
  std::string recipe = "classic";
  // Parts of the fast recipe switched off for an ablation (`--recipe-off`), sorted, each one of
  // kRecipeParts: "whitening" (the 2x2 layer learns from its default init instead of being set
  // from the data and frozen), "dirac" (convs keep LibTorch's init), "bn" (BatchNorm weights learn,
  // biases at the common rate, LibTorch's momentum 0.1 and eps 1e-5), "lookahead" (no lookahead
  // buffers or updates), "tta" (the test is one view). Empty for classic.
  std::vector<std::string> recipe_off;
  int stem_channels = 64;
  std::vector<int> blocks_per_stage = {3, 3, 3};
  std::vector<int> widths = {256, 512, 1024};  // output channels of each stage
  int cardinality = 8;                         // C: groups of the 3x3 conv
  int group_width = 64;                        // D: channels per group in stage 0 (x2 per stage)
  int se_ratio = 4;                            // SE hidden = width / se_ratio
  int num_classes = 10;
  int image_size = 32;

  // Inner width of the grouped 3x3 conv in `stage`.
  int InnerWidth(int stage) const { return cardinality * group_width * (1 << stage); }
  bool Whitened() const { return recipe == "fast"; }
  // True when the fast recipe's `part` is on (false for every part with the classic recipe).
  bool RecipeHas(const std::string& part) const;
};

// The fast recipe's parts that `--recipe-off` can switch off, in the order of the README's table.
inline const std::vector<std::string> kRecipeParts = {"whitening", "dirac", "bn", "lookahead",
                                                      "tta"};

// Output channels of the whitening conv: both signs of the 3*2*2 patch eigenvectors.
inline constexpr int kWhitenWidth = 24;

// Presets: "se-resnext29-8x64" (the original: 3 stages x 3 blocks, C=8, D=64, 36.5M parameters with
// SE), "small" (trains an epoch of 60 000 images in minutes on 2 CPU cores), "tiny" (for tests),
// "fast" (family airbench, recipe fast; widths 32, 64, 64, airbench's 64, 256, 256 narrowed for
// CPUs).
// Requires: num_classes >= 1. Unknown names are an InvalidArgument listing the known ones.
Result<ModelConfig> PresetConfig(const std::string& name, int num_classes, int image_size = 32);
std::vector<std::string> PresetNames();

// InvalidArgument when stages/widths disagree, a width is not divisible as the blocks need, etc.
Status ValidateConfig(const ModelConfig& config);

// Trainable parameters (weights, biases, BN affine), counted from the config alone.
int64_t CountParameters(const ModelConfig& config);
// Multiply-accumulates of one forward pass of one image (convs and linears; BN/ReLU/pool ignored).
int64_t CountMacs(const ModelConfig& config);

// The config as JSON (stored in every checkpoint, so predict and eval rebuild the same network).
nlohmann::json ConfigToJson(const ModelConfig& config);
Result<ModelConfig> ConfigFromJson(const nlohmann::json& json);

// "se-resnext29-8x64 | stages 3x3,3x3,3x3 ..." one-line description for logs.
std::string Describe(const ModelConfig& config);

}  // namespace memes::train
