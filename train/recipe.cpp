#include "train/recipe.h"

#include <algorithm>

namespace memes::train {

double BatchNormBiasLrScale(const ModelConfig& config) {
  return config.family == "airbench" && config.RecipeHas("bn") ? kFastBiasLrScale : 1.0;
}

Result<std::string> ResolveRecipe(const TrainOptions& options) {
  std::string recipe = options.recipe;
  if (recipe.empty()) recipe = options.preset == "fast" ? "fast" : "classic";
  if (recipe != "classic" && recipe != "fast") {
    return InvalidArgument("--recipe must be classic or fast (got '" + recipe + "')");
  }
  if (options.preset == "fast" && recipe != "fast") {
    return InvalidArgument("the fast preset trains only with --recipe fast");
  }
  return recipe;
}

Status ApplyRecipeDefaults(TrainOptions& options, size_t train_count) {
  MEMES_ASSIGN_OR_RETURN(options.recipe, ResolveRecipe(options));
  if (options.recipe != "fast") return Status::Ok();
  if (!options.Given("--epochs")) options.epochs = 10;
  if (!options.Given("--batch-size")) {
    int batch = 1024;
    while (batch > 64 && static_cast<size_t>(batch) * 8 > train_count) batch /= 2;
    options.batch_size = batch;
  }
  if (!options.Given("--momentum")) options.momentum = 0.85;
  const double kilostep = 1024 * (1 + 1 / (1 - options.momentum));
  if (!options.Given("--lr")) options.learning_rate = 11.5 / kilostep;
  if (!options.Given("--weight-decay"))
    options.weight_decay = 0.0153 * options.batch_size / kilostep;
  if (!options.Given("--label-smoothing")) options.label_smoothing = 0.2;
  if (!options.Given("--schedule")) options.schedule = "triangular";
  return Status::Ok();
}

}  // namespace memes::train
