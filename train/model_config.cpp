#include "train/model_config.h"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

namespace memes::train {

std::vector<std::string> PresetNames() { return {"se-resnext29-8x64", "small", "tiny", "fast"}; }

Result<ModelConfig> PresetConfig(const std::string& name, int num_classes, int image_size) {
  ModelConfig config;
  config.preset = name;
  config.num_classes = num_classes;
  config.image_size = image_size;
  if (name == "se-resnext29-8x64") {
    // The original: ResNeXt-29 (8x64d) with squeeze-excitation, 3 stages of 3 blocks.
  } else if (name == "small") {
    // 3 stages of 1 block, 7.7 M multiply-adds per image: ~250-300 images/s of training on
    // 2 CPU cores, so an epoch of 60 000 images takes about 4 minutes.
    config.stem_channels = 16;
    config.blocks_per_stage = {1, 1, 1};
    config.widths = {32, 64, 128};
    config.cardinality = 4;
    config.group_width = 4;
  } else if (name == "tiny") {
    config.stem_channels = 16;
    config.blocks_per_stage = {1, 1};
    config.widths = {32, 64};
    config.cardinality = 2;
    config.group_width = 4;
  } else if (name == "fast") {
    // airbench94's network, narrowed for 2 CPU cores: airbench's widths 64, 256, 256 cost 118 M
    // multiply-adds per 32x32 image, these 32, 64, 64 cost 17.1 M (give --widths 64,256,256
    // for the original on a GPU).
    config.family = "airbench";
    config.recipe = "fast";
    config.stem_channels = kWhitenWidth;
    config.blocks_per_stage = {1, 1, 1};
    config.widths = {32, 64, 64};
    config.cardinality = 1;
    config.group_width = 1;
  } else {
    std::string known;
    for (const auto& preset : PresetNames()) known += (known.empty() ? "" : ", ") + preset;
    return InvalidArgument("unknown model preset '" + name + "' (known: " + known + ")");
  }
  MEMES_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

Status ValidateConfig(const ModelConfig& config) {
  const size_t stages = config.blocks_per_stage.size();
  if (stages == 0 || stages > 6) return InvalidArgument("a model needs 1 to 6 stages");
  if (config.widths.size() != stages) {
    return InvalidArgument("model has " + std::to_string(stages) + " stages but " +
                           std::to_string(config.widths.size()) + " widths");
  }
  if (config.stem_channels < 1 || config.cardinality < 1 || config.group_width < 1 ||
      config.se_ratio < 1 || config.num_classes < 1) {
    return InvalidArgument("model sizes must be positive");
  }
  if (config.family != "se-resnext" && config.family != "airbench") {
    return InvalidArgument("model family must be se-resnext or airbench (got '" + config.family +
                           "')");
  }
  if (config.recipe != "classic" && config.recipe != "fast") {
    return InvalidArgument("recipe must be classic or fast (got '" + config.recipe + "')");
  }
  for (size_t i = 0; i < config.recipe_off.size(); ++i) {
    const std::string& part = config.recipe_off[i];
    if (config.recipe != "fast") {
      return InvalidArgument("--recipe-off " + part +
                             ": only the fast recipe has parts to switch off");
    }
    if (std::find(kRecipeParts.begin(), kRecipeParts.end(), part) == kRecipeParts.end()) {
      return InvalidArgument("--recipe-off: unknown part '" + part +
                             "' (known: whitening, dirac, bn, lookahead, tta)");
    }
    if (i > 0 && config.recipe_off[i - 1] >= part) {
      return InvalidArgument("recipe_off must be sorted without repeats");
    }
  }
  if (config.family == "airbench") {
    if (config.recipe != "fast") return InvalidArgument("the airbench network needs recipe fast");
    // Whitening (-1), then a halving per group; the last group needs at least one pixel.
    if (((config.image_size - 1) >> stages) < 1) {
      return InvalidArgument("image size " + std::to_string(config.image_size) + " too small for " +
                             std::to_string(stages) + " conv groups");
    }
    for (size_t s = 0; s < stages; ++s) {
      if (config.blocks_per_stage[s] != 1) {
        return InvalidArgument("the airbench network has one conv group per stage");
      }
      if (config.widths[s] < 1) return InvalidArgument("model sizes must be positive");
    }
    return Status::Ok();
  }
  if (config.image_size < 4 || (config.image_size >> (stages - 1)) < 1) {
    return InvalidArgument("image size " + std::to_string(config.image_size) + " too small for " +
                           std::to_string(stages) + " stages");
  }
  for (size_t s = 0; s < stages; ++s) {
    if (config.blocks_per_stage[s] < 1) return InvalidArgument("every stage needs a block");
    if (config.widths[s] < config.se_ratio) return InvalidArgument("stage width below SE ratio");
  }
  return Status::Ok();
}

namespace {
int64_t ConvParams(int64_t in, int64_t out, int64_t k, int64_t groups) {
  return in / groups * out * k * k;
}

int64_t WhitenParams() { return ConvParams(3, kWhitenWidth, 2, 1) + kWhitenWidth; }

int64_t AirbenchParameters(const ModelConfig& c) {
  int64_t total = WhitenParams();
  int64_t in = kWhitenWidth;
  for (int out : c.widths) {
    total += ConvParams(in, out, 3, 1) + 2 * out + ConvParams(out, out, 3, 1) + 2 * out;
    in = out;
  }
  return total + in * c.num_classes;
}

int64_t AirbenchMacs(const ModelConfig& c) {
  int64_t side = c.image_size - 1;
  int64_t macs = ConvParams(3, kWhitenWidth, 2, 1) * side * side;
  int64_t in = kWhitenWidth;
  for (int out : c.widths) {
    macs += ConvParams(in, out, 3, 1) * side * side;
    side /= 2;
    macs += ConvParams(out, out, 3, 1) * side * side;
    in = out;
  }
  return macs + in * c.num_classes;
}
}  // namespace

int64_t CountParameters(const ModelConfig& c) {
  if (c.family == "airbench") return AirbenchParameters(c);
  const int stem_in = c.Whitened() ? kWhitenWidth : 3;
  int64_t total = ConvParams(stem_in, c.stem_channels, 3, 1) + 2 * c.stem_channels;  // conv + BN
  if (c.Whitened()) total += WhitenParams();
  int64_t in = c.stem_channels;
  for (size_t s = 0; s < c.widths.size(); ++s) {
    const int64_t inner = c.InnerWidth(static_cast<int>(s));
    const int64_t out = c.widths[s];
    const int64_t hidden = out / c.se_ratio;
    for (int b = 0; b < c.blocks_per_stage[s]; ++b) {
      total += ConvParams(in, inner, 1, 1) + 2 * inner;
      total += ConvParams(inner, inner, 3, c.cardinality) + 2 * inner;
      total += ConvParams(inner, out, 1, 1) + 2 * out;
      total += out * hidden + hidden + hidden * out + out;  // SE: two linears with biases
      if (in != out || (b == 0 && s > 0)) total += ConvParams(in, out, 1, 1) + 2 * out;
      in = out;
    }
  }
  return total + in * c.num_classes + c.num_classes;
}

int64_t CountMacs(const ModelConfig& c) {
  if (c.family == "airbench") return AirbenchMacs(c);
  int64_t side = c.Whitened() ? c.image_size - 1 : c.image_size;
  int64_t macs = ConvParams(c.Whitened() ? kWhitenWidth : 3, c.stem_channels, 3, 1) * side * side;
  if (c.Whitened()) macs += ConvParams(3, kWhitenWidth, 2, 1) * side * side;
  int64_t in = c.stem_channels;
  for (size_t s = 0; s < c.widths.size(); ++s) {
    const int64_t inner = c.InnerWidth(static_cast<int>(s));
    const int64_t out = c.widths[s];
    const int64_t hidden = out / c.se_ratio;
    for (int b = 0; b < c.blocks_per_stage[s]; ++b) {
      const bool downsample = b == 0 && s > 0;
      const int64_t in_side = side;
      if (downsample) side = (side + 1) / 2;
      macs += ConvParams(in, inner, 1, 1) * in_side * in_side;
      macs += ConvParams(inner, inner, 3, c.cardinality) * side * side;
      macs += ConvParams(inner, out, 1, 1) * side * side;
      macs += 2 * out * hidden;
      if (in != out || downsample) macs += ConvParams(in, out, 1, 1) * side * side;
      in = out;
    }
  }
  return macs + in * c.num_classes;
}

bool ModelConfig::RecipeHas(const std::string& part) const {
  return recipe == "fast" &&
         std::find(recipe_off.begin(), recipe_off.end(), part) == recipe_off.end();
}

nlohmann::json ConfigToJson(const ModelConfig& c) {
  return {{"preset", c.preset},
          {"recipe_off", c.recipe_off},
          {"family", c.family},
          {"recipe", c.recipe},
          {"stem_channels", c.stem_channels},
          {"blocks_per_stage", c.blocks_per_stage},
          {"widths", c.widths},
          {"cardinality", c.cardinality},
          {"group_width", c.group_width},
          {"se_ratio", c.se_ratio},
          {"num_classes", c.num_classes},
          {"image_size", c.image_size}};
}

Result<ModelConfig> ConfigFromJson(const nlohmann::json& json) {
  ModelConfig c;
  try {
    c.preset = json.at("preset").get<std::string>();
    // Checkpoints written before the fast recipe existed hold SE-ResNeXt, classic recipe.
    c.family = json.value("family", std::string("se-resnext"));
    c.recipe = json.value("recipe", std::string("classic"));
    // Written since the ablation switches; absent: every part on.
    c.recipe_off = json.value("recipe_off", std::vector<std::string>{});
    c.stem_channels = json.at("stem_channels").get<int>();
    c.blocks_per_stage = json.at("blocks_per_stage").get<std::vector<int>>();
    c.widths = json.at("widths").get<std::vector<int>>();
    c.cardinality = json.at("cardinality").get<int>();
    c.group_width = json.at("group_width").get<int>();
    c.se_ratio = json.at("se_ratio").get<int>();
    c.num_classes = json.at("num_classes").get<int>();
    c.image_size = json.at("image_size").get<int>();
  } catch (const nlohmann::json::exception& error) {
    return Corrupt(std::string("model config: ") + error.what());
  }
  MEMES_RETURN_IF_ERROR(ValidateConfig(c));
  return c;
}

namespace {
std::string RecipeOffText(const ModelConfig& c) {
  std::string text;
  for (const auto& part : c.recipe_off) text += (text.empty() ? " without " : ",") + part;
  return text;
}
}  // namespace

std::string Describe(const ModelConfig& c) {
  std::ostringstream out;
  if (c.family == "airbench") {
    out << c.preset << ": airbench, whitening 2x2 -> " << kWhitenWidth << ", conv groups";
    for (size_t s = 0; s < c.widths.size(); ++s) out << (s ? "," : " ") << c.widths[s];
    out << ", recipe " << c.recipe << RecipeOffText(c) << ", " << c.num_classes << " classes, "
        << c.image_size << "x" << c.image_size;
    return out.str();
  }
  out << c.preset << ": " << (c.Whitened() ? "whitening 2x2, " : "") << "stem " << c.stem_channels
      << ", stages";
  for (size_t s = 0; s < c.widths.size(); ++s) {
    out << (s ? "," : " ") << c.blocks_per_stage[s] << "x" << c.widths[s];
  }
  out << ", C=" << c.cardinality << " D=" << c.group_width << ", SE 1/" << c.se_ratio << ", "
      << c.num_classes << " classes, " << c.image_size << "x" << c.image_size << ", recipe "
      << c.recipe << RecipeOffText(c);
  return out.str();
}

}  // namespace memes::train
