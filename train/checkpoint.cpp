#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sstream>

#include "store/file_util.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {
nlohmann::json MetaToJson(const ModelMeta& meta) {
  nlohmann::json json = {{"format", "memes-model"},
                         {"format_version", 1},
                         {"config", ConfigToJson(meta.config)},
                         {"classes", meta.classes},
                         {"image_size", meta.config.image_size},
                         {"mean", meta.mean},
                         {"std", meta.std}};
  // Only settings that were recorded are written: defaults stay recognisable as guesses.
  if (meta.image_recorded) {
    json["image"] = {{"size", meta.image.size},
                     {"fit", FitModeName(meta.image.fit)},
                     {"background", BackgroundHex(meta.image.background)},
                     {"max_frames", meta.image.max_frames}};
  }
  return json;
}

// meta["image"] as MetaToJson writes it; a file without it gets the defaults at the model's size.
Status ReadImageSettings(const nlohmann::json& meta, ModelMeta& out, const fs::path& path) {
  out.image = ImageSettings{};
  out.image.size = out.config.image_size;
  out.image_recorded = false;
  const auto found = meta.find("image");
  if (found == meta.end()) return Status::Ok();
  const nlohmann::json& image = *found;
  const auto bad = [&](const std::string& field) {
    return Corrupt("bad model metadata: field 'image." + field + "' is " +
                       (image.contains(field) ? image.at(field).dump() : std::string("missing")),
                   path.string());
  };
  if (!image.is_object()) {
    return Corrupt("bad model metadata: field 'image' is not an object", path.string());
  }
  if (!image.contains("size") || !image["size"].is_number_integer() ||
      image["size"].get<int64_t>() != out.config.image_size) {
    return bad("size");
  }
  const auto fit = image.contains("fit") && image["fit"].is_string()
                       ? ParseFitMode(image["fit"].get<std::string>())
                       : std::nullopt;
  if (!fit) return bad("fit");
  out.image.fit = *fit;
  if (!image.contains("background") || !image["background"].is_string() ||
      !ParseBackgroundHex(image["background"].get<std::string>(), out.image.background)) {
    return bad("background");
  }
  if (!image.contains("max_frames") || !image["max_frames"].is_number_integer()) {
    return bad("max_frames");
  }
  out.image.max_frames = image["max_frames"].get<int>();
  if (!CheckImageSettings(out.image).ok()) return bad("max_frames");
  out.image_recorded = true;
  return Status::Ok();
}
}  // namespace

transform::DecodeOptions DecodeOptionsFor(const ModelMeta& meta) {
  transform::DecodeOptions options;
  static_cast<ImageSettings&>(options) = meta.image;
  return options;
}

Status SaveCheckpoint(const fs::path& path, SeResNeXt& model, torch::optim::Optimizer* optimizer,
                      const ModelMeta& meta, const nlohmann::json& state) {
  // Serialised in memory, then store::WriteFileAtomic (unique temp name, fsync, rename): a crash
  // or a second writer never leaves a half-written model under the final name.
  std::ostringstream bytes;
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive model_archive;
    // CUDA or channels-last tensors are fine: LoadModel maps everything to the CPU.
    model->save(model_archive);
    archive.write("model", model_archive);
    archive.write("meta", c10::IValue(MetaToJson(meta).dump()));
    archive.write("state", c10::IValue(state.dump()));
    if (optimizer != nullptr) {
      torch::serialize::OutputArchive optimizer_archive;
      optimizer->save(optimizer_archive);
      archive.write("optimizer", optimizer_archive);
      archive.write("cpu_rng", at::detail::getDefaultCPUGenerator().get_state(), true);
    }
    archive.save_to(bytes);
  } catch (const c10::Error& error) {
    return IoError(std::string("cannot write checkpoint: ") + error.what_without_backtrace(),
                   path.string());
  }
  return store::WriteFileAtomic(path, bytes.view());
}

Result<LoadedModel> LoadModel(const fs::path& path) {
  if (!fs::exists(path)) return NotFound("no such model file", path.string());
  LoadedModel loaded;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), torch::kCPU);
    c10::IValue meta_value, state_value;
    archive.read("meta", meta_value);
    archive.read("state", state_value);
    const auto meta = nlohmann::json::parse(meta_value.toStringRef());
    loaded.state = nlohmann::json::parse(state_value.toStringRef());
    if (meta.value("format", "") != "memes-model")
      return Corrupt("not a memes model", path.string());
    MEMES_ASSIGN_OR_RETURN(loaded.meta.config, ConfigFromJson(meta.at("config")));
    loaded.meta.classes = meta.at("classes").get<std::vector<std::string>>();
    loaded.meta.mean = meta.at("mean").get<std::array<float, 3>>();
    loaded.meta.std = meta.at("std").get<std::array<float, 3>>();
    if (static_cast<int>(loaded.meta.classes.size()) != loaded.meta.config.num_classes) {
      return Corrupt("class names and model outputs disagree", path.string());
    }
    MEMES_RETURN_IF_ERROR(ReadImageSettings(meta, loaded.meta, path));
    loaded.model = SeResNeXt(loaded.meta.config);
    torch::serialize::InputArchive model_archive;
    archive.read("model", model_archive);
    loaded.model->load(model_archive);
    loaded.model->eval();
  } catch (const c10::Error& error) {
    return Corrupt(std::string("cannot read model: ") + error.what_without_backtrace(),
                   path.string());
  } catch (const nlohmann::json::exception& error) {
    return Corrupt(std::string("bad model metadata: ") + error.what(), path.string());
  }
  return loaded;
}

Status LoadTrainingState(const fs::path& path, torch::optim::Optimizer& optimizer) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.string(), torch::kCPU);
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
    torch::Tensor rng;
    archive.read("cpu_rng", rng, true);
    at::Generator generator = at::detail::getDefaultCPUGenerator();  // a shared handle
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng);
  } catch (const c10::Error& error) {
    return Corrupt(std::string("cannot read training state: ") + error.what_without_backtrace(),
                   path.string());
  }
  return Status::Ok();
}

Status CopyAtomically(const fs::path& from, const fs::path& to) {
  MEMES_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, store::ReadWholeFile(from));
  return store::WriteFileAtomic(to, bytes);
}

}  // namespace memes::train
