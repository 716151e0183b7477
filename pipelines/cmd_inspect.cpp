// `memes inspect FILE… [--out DIR] [--json]`: how each file decodes into dataset frames — the
// detected format, canvas, frames in the file, the frames kept (index, time, hash) or the error.
// --out writes every kept frame as PNG twice, full-size composited and fitted.
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "pipelines/command.h"
#include "transform/frames.h"

namespace memes::pipelines {
namespace {

namespace fs = std::filesystem;

struct InspectOptions {
  std::vector<std::string> files;
  std::string out_dir;
  bool json = false;
  // The shared defaults (core/image_settings.h).
  int size = ImageSettings{}.size;
  std::string fit = FitModeName(ImageSettings{}.fit);
  int max_frames = ImageSettings{}.max_frames;
  bool keep_duplicates = false;
};

Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  if (error) return IoError("cannot read: " + error.message(), path);
  if (size > max_bytes) {
    return LimitExceeded(
        "file of " + std::to_string(size) + " bytes exceeds limit of " + std::to_string(max_bytes),
        path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot open", path);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
  if (!in) return IoError("short read", path);
  return bytes;
}

std::string HashHex(uint64_t hash) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, hash);
  return text;
}

Status WriteBytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return Internal("PNG encoding failed", path.string());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  if (!out) return IoError("cannot write", path.string());
  return Status::Ok();
}

// Writes NAME.frameI.full.png and NAME.frameI.fitted.png for each kept frame; `ordinal` keeps
// names apart when two inputs share a file name.
Status WriteFrames(const fs::path& out_dir, const std::string& file, size_t ordinal,
                   const transform::Decoded& decoded, int size) {
  const std::string stem = std::to_string(ordinal) + "-" + fs::path(file).filename().string();
  for (const transform::Frame& frame : decoded.frames) {
    const std::string base = stem + ".frame" + std::to_string(frame.index);
    MEMES_RETURN_IF_ERROR(
        WriteBytes(out_dir / (base + ".full.png"),
                   transform::EncodePng(frame.full_rgb, frame.full_width, frame.full_height)));
    MEMES_RETURN_IF_ERROR(WriteBytes(
        out_dir / (base + ".fitted.png"),
        transform::EncodePng(transform::PlanarToInterleaved(frame.planar, size), size, size)));
  }
  return Status::Ok();
}

nlohmann::json ToJson(const std::string& file, const Result<transform::Decoded>& decoded) {
  nlohmann::json item = {{"file", file}};
  if (!decoded.ok()) {
    item["error"] = decoded.status().message();
    item["code"] = std::string(StatusCodeName(decoded.status().code()));
    return item;
  }
  item["format"] = decoded->format;
  item["width"] = decoded->width;
  item["height"] = decoded->height;
  item["frames_in_file"] = decoded->frames_in_file;
  item["duration_seconds"] = decoded->duration_seconds;
  item["partial"] = decoded->partial;
  if (decoded->partial) item["partial_reason"] = decoded->partial_reason;
  item["frames"] = nlohmann::json::array();
  for (const transform::Frame& frame : decoded->frames) {
    item["frames"].push_back({{"index", frame.index},
                              {"time_seconds", frame.time_seconds},
                              {"phash", HashHex(frame.phash)}});
  }
  return item;
}

void PrintText(const std::string& file, const Result<transform::Decoded>& decoded) {
  if (!decoded.ok()) {
    std::cout << file << ": error: " << decoded.status().message() << "\n";
    return;
  }
  std::cout << file << ": " << decoded->format << " " << decoded->width << "x" << decoded->height
            << ", " << decoded->frames_in_file << " frame"
            << (decoded->frames_in_file == 1 ? "" : "s") << " in file, " << decoded->frames.size()
            << " kept";
  if (decoded->partial) std::cout << " (partial: " << decoded->partial_reason << ")";
  std::cout << "\n";
  for (const transform::Frame& frame : decoded->frames) {
    char line[96];
    std::snprintf(line, sizeof line, "  frame %-4d t=%8.3fs  phash %s\n", frame.index,
                  frame.time_seconds, HashHex(frame.phash).c_str());
    std::cout << line;
  }
}

int RunInspect(const InspectOptions& options) {
  transform::DecodeOptions decode;
  decode.size = options.size;
  decode.max_frames = options.max_frames;
  decode.fit = ParseFitMode(options.fit).value_or(FitMode::kPad);  // CLI11 checked the name
  decode.keep_full_size = !options.out_dir.empty();
  decode.drop_near_duplicates = !options.keep_duplicates;
  if (!options.out_dir.empty()) {
    std::error_code error;
    fs::create_directories(options.out_dir, error);
    if (error) {
      std::cerr << "memes inspect: cannot create " << options.out_dir << ": " << error.message()
                << "\n";
      return kExitUsage;
    }
  }
  int failed = 0;
  nlohmann::json report = nlohmann::json::array();
  for (size_t i = 0; i < options.files.size(); ++i) {
    const std::string& file = options.files[i];
    Result<transform::Decoded> decoded = Status(StatusCode::kInternal, "unset");
    Result<std::vector<uint8_t>> bytes = ReadWholeFile(file, decode.max_file_bytes);
    if (bytes.ok()) {
      decoded = transform::DecodeToFrames(*bytes, decode);
    } else {
      decoded = bytes.status();
    }
    if (decoded.ok() && !options.out_dir.empty()) {
      if (Status written = WriteFrames(options.out_dir, file, i, *decoded, options.size);
          !written.ok()) {
        decoded = written;
      }
    }
    if (!decoded.ok()) ++failed;
    if (options.json) {
      report.push_back(ToJson(file, decoded));
    } else {
      PrintText(file, decoded);
    }
  }
  if (options.json) std::cout << report.dump(2) << "\n";
  if (failed > 0) {
    std::cerr << "memes inspect: " << failed << " of " << options.files.size() << " files failed\n";
    return kExitItemsFailed;
  }
  return kExitOk;
}

}  // namespace

void AddInspectCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command = app.add_subcommand("inspect", "Show how files decode into 32×32 frames");
  auto options = std::make_shared<InspectOptions>();
  command->add_option("files", options->files, "GIF, PNG/APNG, JPEG, WebP, BMP, MP4, WebM files")
      ->required();
  command->add_option("--out", options->out_dir,
                      "Write each kept frame as PNG here, full-size composited and fitted");
  command->add_flag("--json", options->json, "Print JSON");
  command->add_option("--size", options->size, "Frame side in pixels")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  command->add_option("--fit", options->fit, "pad | crop | stretch")
      ->capture_default_str()
      ->check(CLI::IsMember({"pad", "crop", "stretch"}));
  command->add_option("--max-frames", options->max_frames, "Frames kept per animation")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command->add_flag("--keep-duplicates", options->keep_duplicates,
                    "Keep frames that look the same as the one kept before them");
  registry.Add(command, [options] { return RunInspect(*options); });
}

}  // namespace memes::pipelines
