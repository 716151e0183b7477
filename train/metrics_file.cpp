#include "train/metrics_file.h"

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "store/file_util.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

nlohmann::json MetricsToJson(const EpochMetrics& m) {
  return {{"epoch", m.epoch},
          {"lr", m.learning_rate},
          {"train_loss", m.train_loss},
          {"train_acc", m.train_accuracy},
          {"test_loss", m.test_loss},
          {"test_acc", m.test_accuracy},
          {"images_per_s", m.images_per_second},
          {"train_cpu_seconds", m.train_cpu_seconds},
          {"test_views", m.test_views},
          {"seconds", m.seconds}};
}

EpochMetrics MetricsFromJson(const nlohmann::json& j) {
  EpochMetrics m;
  m.epoch = j.value("epoch", 0);
  m.learning_rate = j.value("lr", 0.0);
  m.train_loss = j.value("train_loss", 0.0);
  m.train_accuracy = j.value("train_acc", 0.0);
  m.test_loss = j.value("test_loss", 0.0);
  m.test_accuracy = j.value("test_acc", 0.0);
  m.images_per_second = j.value("images_per_s", 0.0);
  m.train_cpu_seconds = j.value("train_cpu_seconds", 0.0);
  m.seconds = j.value("seconds", 0.0);
  m.test_views = j.value("test_views", 1);
  return m;
}

}  // namespace

std::vector<EpochMetrics> ReadMetrics(const fs::path& path, int last_epoch) {
  std::vector<EpochMetrics> epochs;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.value("epoch", 0) <= last_epoch) {
      epochs.push_back(MetricsFromJson(parsed));
    }
  }
  return epochs;
}

Status WriteMetrics(const fs::path& path, const std::vector<EpochMetrics>& epochs) {
  std::string text;
  for (const auto& m : epochs) text += MetricsToJson(m).dump() + "\n";
  return store::WriteFileAtomic(path, text);
}

}  // namespace memes::train
