// `memes preview`: one PNG sheet with a row per class (the first N items of each), from a
// store's frames cache or from packed shards, for a person to see at a glance what each class
// holds. Class names are drawn as written (CJK too, with the demo's FreeType font). Reads
// frames/ or the shards only; never decodes a blob.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/log.h"
#include "pipelines/command.h"
#include "pipelines/demo_stickers.h"
#include "store/file_util.h"
#include "store/shard_reader.h"
#include "store/store.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

Result<std::unique_ptr<store::Store>> OpenStoreForReading(const fs::path& dir);  // cmd_pack.cpp

namespace {

struct PreviewArgs {
  std::string store_dir;
  std::string shards_dir;
  std::string out;
  int per_class = 12;
  int scale = 3;
};

// Planar RGB (3×S×S) → an interleaved BGR cv::Mat of S×S.
cv::Mat PlanarToBgr(std::span<const uint8_t> planar, int size) {
  cv::Mat image(size, size, CV_8UC3);
  const size_t plane = static_cast<size_t>(size) * size;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const size_t i = static_cast<size_t>(y) * size + x;
      image.at<cv::Vec3b>(y, x) = {planar[2 * plane + i], planar[plane + i], planar[i]};
    }
  }
  return image;
}

struct ClassRow {
  std::string name;
  std::vector<cv::Mat> cells;
};

// What the sheet shows for a class: its name, or "#index" when the name needs a font that is
// not installed (Hershey fonts are ASCII only; the legend on stdout names the rows).
std::string Caption(const std::string& name, size_t index, bool have_font) {
  if (have_font || demo::IsAscii(name)) return name;
  return "#" + std::to_string(index);
}

Status DrawSheet(const std::vector<ClassRow>& rows, int size, const PreviewArgs& args,
                 const fs::path& out) {
  const cv::Ptr<cv::freetype::FreeType2> font = demo::LoadCaptionFont();
  const int cell = size * args.scale;
  const int text_height = std::clamp(cell / 4, 12, 20);
  const double hershey_scale = 0.5;
  auto text_width = [&](const std::string& text) {
    int baseline = 0;
    if (font) return font->getTextSize(text, text_height, -1, &baseline).width;
    return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, hershey_scale, 1, &baseline).width;
  };
  // The margin fits the longest name, within reason; a longer one is clipped at the margin.
  constexpr int kMinMargin = 80, kMaxMargin = 480, kPad = 6, gap = 4;
  int margin = kMinMargin;
  for (size_t r = 0; r < rows.size(); ++r) {
    margin = std::max(margin, text_width(Caption(rows[r].name, r, font != nullptr)) + 2 * kPad);
  }
  margin = std::min(margin, kMaxMargin);
  const int width = margin + args.per_class * (cell + gap) + gap;
  const int height = static_cast<int>(rows.size()) * (cell + gap) + gap;
  cv::Mat sheet(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t r = 0; r < rows.size(); ++r) {
    const int top = gap + static_cast<int>(r) * (cell + gap);
    const std::string caption = Caption(rows[r].name, r, font != nullptr);
    // Drawn into the margin's own region, so a name too long for it is clipped, not drawn
    // over the first cell.
    cv::Mat label_area = sheet(cv::Rect(0, top, margin - gap, cell));
    if (font) {
      font->putText(label_area, caption, {kPad, cell / 2 + text_height / 2}, text_height,
                    cv::Scalar(0, 0, 0), -1, cv::LINE_AA, true);
    } else {
      cv::putText(label_area, caption, {kPad, cell / 2 + 6}, cv::FONT_HERSHEY_SIMPLEX,
                  hershey_scale, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    }
    for (size_t c = 0; c < rows[r].cells.size(); ++c) {
      cv::Mat scaled;
      cv::resize(rows[r].cells[c], scaled, {cell, cell}, 0, 0, cv::INTER_NEAREST);
      scaled.copyTo(
          sheet(cv::Rect(margin + gap + static_cast<int>(c) * (cell + gap), top, cell, cell)));
    }
  }
  std::vector<uint8_t> png;
  try {
    if (!cv::imencode(".png", sheet, png)) return IoError("cannot encode PNG", out.string());
  } catch (const cv::Exception& e) {
    return IoError(std::string("cannot encode PNG: ") + e.what(), out.string());
  }
  // Whole-file output through the store's temp + fsync + rename: never a half-written sheet.
  return store::WriteFileAtomic(out, std::span<const uint8_t>(png));
}

Result<std::vector<ClassRow>> RowsFromStore(store::Store& store, int per_class, int* size) {
  *size = store.image_settings().size;
  MEMES_ASSIGN_OR_RETURN(auto labels, store.catalog().Labels());
  MEMES_ASSIGN_OR_RETURN(auto entries, store.catalog().PackIndex());
  std::map<int64_t, size_t> row_of;
  std::vector<ClassRow> rows;
  for (const auto& label : labels) {
    if (label.retired || label.items == 0) continue;
    row_of[label.id] = rows.size();
    rows.push_back({label.name, {}});
  }
  for (const store::PackEntry& entry : entries) {
    auto row = row_of.find(entry.label_id);
    if (row == row_of.end() || rows[row->second].cells.size() >= size_t(per_class)) continue;
    auto frames = store.ReadFrames(entry.blob);
    if (!frames.ok() || frames->count == 0) continue;
    rows[row->second].cells.push_back(PlanarToBgr(frames->Frame(0), *size));
  }
  return rows;
}

Result<std::vector<ClassRow>> RowsFromShards(const fs::path& dir, int per_class, int* size) {
  MEMES_ASSIGN_OR_RETURN(store::DatasetManifest manifest, store::ReadManifest(dir));
  *size = manifest.image_size;
  std::vector<ClassRow> rows;
  for (const std::string& name : manifest.classes) rows.push_back({name, {}});
  std::ifstream index(dir / "index.tsv");
  if (!index) return NotFound("index.tsv missing", dir.string());
  std::map<std::string, store::MappedShard> shards;
  std::string line;
  std::getline(index, line);
  for (int64_t line_number = 2; std::getline(index, line); ++line_number) {
    // The shared reader checks every field: a file name that is not a listed shard (no "..",
    // no "/"), a record past the listed count, a label past the classes.
    MEMES_ASSIGN_OR_RETURN(
        const store::IndexRow row,
        store::ParseIndexRow(line, manifest,
                             (dir / "index.tsv").string() + ":" + std::to_string(line_number)));
    if (row.rotation != 0 || rows[row.label].cells.size() >= size_t(per_class)) continue;
    auto shard = shards.find(row.file);
    if (shard == shards.end()) {
      MEMES_ASSIGN_OR_RETURN(store::MappedShard mapped,
                             store::MappedShard::Open(dir / row.file, manifest.record_bytes));
      shard = shards.emplace(row.file, std::move(mapped)).first;
    }
    if (row.record >= shard->second.records()) {
      return Corrupt("index.tsv:" + std::to_string(line_number) + " points past the end",
                     (dir / row.file).string());
    }
    rows[row.label].cells.push_back(
        PlanarToBgr(shard->second.Record(row.record).subspan(1), *size));
  }
  return rows;
}

int RunPreview(const PreviewArgs& args) {
  if (args.store_dir.empty() == args.shards_dir.empty()) {
    std::cerr << "memes preview: give exactly one of --store DIR or --shards DIR\n";
    return kExitUsage;
  }
  int size = 0;
  Result<std::vector<ClassRow>> rows = Status(StatusCode::kInternal, "unset");
  fs::path out = args.out;
  if (!args.store_dir.empty()) {
    auto store = OpenStoreForReading(args.store_dir);
    if (!store.ok()) {
      std::cerr << "memes preview: " << store.status().ToString() << "\n";
      return kExitUsage;
    }
    rows = RowsFromStore(**store, args.per_class, &size);
    if (out.empty()) out = fs::path(args.store_dir) / "preview.png";
  } else {
    rows = RowsFromShards(args.shards_dir, args.per_class, &size);
    if (out.empty()) out = fs::path(args.shards_dir) / "preview.png";
  }
  if (!rows.ok()) {
    std::cerr << "memes preview: " << rows.status().ToString() << "\n";
    return kExitItemsFailed;
  }
  if (rows->empty()) {
    std::cerr << "memes preview: no labelled items to show\n";
    return kExitItemsFailed;
  }
  const Status status = DrawSheet(*rows, size, args, out);
  if (!status.ok()) {
    std::cerr << "memes preview: " << status.ToString() << "\n";
    return kExitItemsFailed;
  }
  for (size_t r = 0; r < rows->size(); ++r) {
    std::cout << "row " << r << ": " << (*rows)[r].name << " (" << (*rows)[r].cells.size()
              << " shown)\n";
  }
  std::cout << "wrote " << out.string() << "\n";
  return kExitOk;
}

}  // namespace

void AddPreviewCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* command =
      app.add_subcommand("preview", "Draw a PNG sheet with a row of examples per class");
  auto args = std::make_shared<PreviewArgs>();
  command->add_option("--store", args->store_dir, "Preview a store's labelled frames");
  command->add_option("--shards", args->shards_dir, "Preview packed shards (unrotated records)");
  command->add_option("-o,--out", args->out, "PNG file (default: preview.png in that folder)");
  command->add_option("--per-class", args->per_class, "Examples per class")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_option("--scale", args->scale, "Pixel magnification")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  registry.Add(command, [args] { return RunPreview(*args); });
}

}  // namespace memes::pipelines
