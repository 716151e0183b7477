#include "train/model.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

namespace memes::train {
namespace {

namespace fs = std::filesystem;

TEST(Model, PresetShapesAndParameterCounts) {
  // Parameter counts of the presets (10 classes), fixed so an architecture change is noticed.
  const std::map<std::string, int64_t> expected = {
      {"se-resnext29-8x64", 36'497'802}, {"small", 53'106}, {"tiny", 10'194}};
  torch::NoGradGuard no_grad;
  for (const auto& [name, parameters] : expected) {
    auto config = PresetConfig(name, 10);
    ASSERT_TRUE(config.ok()) << name;
    SeResNeXt model(*config);
    EXPECT_EQ(ParameterCount(*model), CountParameters(*config)) << name;
    EXPECT_EQ(CountParameters(*config), parameters) << name;
    model->eval();
    auto logits = model->forward(torch::randn({2, 3, 32, 32}));
    EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 10})) << name;
  }
  EXPECT_FALSE(PresetConfig("resnet50", 10).ok());
}

TEST(Model, FourAndTwoStageVariantsBuild) {
  torch::NoGradGuard no_grad;
  for (auto [blocks, widths] :
       {std::pair{std::vector<int>{1, 1, 1, 1}, std::vector<int>{32, 64, 96, 128}},
        std::pair{std::vector<int>{2, 1}, std::vector<int>{48, 96}}}) {
    ModelConfig config;
    config.blocks_per_stage = blocks;
    config.widths = widths;
    config.stem_channels = 16;
    config.cardinality = 4;
    config.group_width = 2;
    config.num_classes = 3;
    ASSERT_TRUE(ValidateConfig(config).ok());
    SeResNeXt model(config);
    EXPECT_EQ(ParameterCount(*model), CountParameters(config));
    model->eval();
    EXPECT_EQ(model->forward(torch::randn({1, 3, 32, 32})).sizes(), (std::vector<int64_t>{1, 3}));
  }
}

TEST(Model, MacCountOfTheOriginal) {
  auto config = PresetConfig("se-resnext29-8x64", 10);
  ASSERT_TRUE(config.ok());
  // ResNeXt-29 8x64d is ~5.4 GMACs per 32x32 image; SE adds a negligible amount.
  EXPECT_NEAR(CountMacs(*config) / 1e9, 5.4, 0.2);
}

void WriteTensors(const fs::path& path,
                  const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  std::ofstream data(path, std::ios::binary);
  std::ofstream index(path.string() + ".txt");
  int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    auto values = tensor.to(torch::kFloat).contiguous();
    index << name << " " << values.dim();
    for (auto d : values.sizes()) index << " " << d;
    index << " " << offset << "\n";
    data.write(reinterpret_cast<const char*>(values.data_ptr<float>()), values.numel() * 4);
    offset += values.numel() * 4;
  }
}

// The same architecture written in Python (train/python/se_resnext.py), given these weights,
// must produce the same logits.
TEST(Model, MatchesThePythonDefinition) {
  const fs::path folder =
      fs::temp_directory_path() / ("memes_parity_" + std::to_string(::getpid()));
  fs::create_directories(folder);
  torch::manual_seed(3);
  auto config = PresetConfig("small", 5);
  ASSERT_TRUE(config.ok());
  SeResNeXt model(*config);
  {
    torch::NoGradGuard no_grad;
    // Random everything (incl. the zero-initialised BN scales and the running statistics), so
    // every parameter matters.
    for (auto& p : model->parameters()) p.copy_(torch::randn_like(p) * 0.2);
    for (auto& named : model->named_buffers()) {
      if (named.key().ends_with("running_mean"))
        named.value().copy_(torch::randn_like(named.value()) * 0.1);
      if (named.key().ends_with("running_var"))
        named.value().copy_(torch::rand_like(named.value()) + 0.5);
    }
  }
  model->eval();
  auto input = torch::randn({4, 3, 32, 32});
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = model->forward(input);
  }
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& named : model->named_parameters())
    weights.emplace_back(named.key(), named.value());
  for (const auto& named : model->named_buffers()) weights.emplace_back(named.key(), named.value());
  WriteTensors(folder / "weights.bin", weights);
  WriteTensors(folder / "io.bin", {{"input", input}, {"logits", logits}});
  std::ofstream(folder / "config.json") << ConfigToJson(*config).dump();

  const std::string script = std::string(MEMES_SOURCE_DIR) + "/train/python/parity_check.py";
  const std::string command = "/usr/bin/python3 " + script + " " + folder.string() + " 2>&1";
  const int status = std::system(command.c_str());
  EXPECT_EQ(status, 0) << "python parity failed (needs Debian's python3-torch): " << command;
  fs::remove_all(folder);
}

}  // namespace
}  // namespace memes::train
