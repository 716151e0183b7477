#include "pipelines/review_outputs.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <map>

#include <opencv2/core.hpp>
#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/log.h"
#include "pipelines/demo_stickers.h"
#include "store/file_util.h"
#include "store/label_csv.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, ".npy files are written little-endian");

Status WriteSuspectsCsv(const fs::path& path, std::span<const SuspectRow> rows) {
  std::string csv = "hash,label,suggested,score,url,action,margin,frames,fold\n";
  char numbers[96];
  for (const SuspectRow& row : rows) {
    csv += row.blob + "," + store::CsvField(row.label) + "," + store::CsvField(row.suggested);
    std::snprintf(numbers, sizeof numbers, ",%.4f,", row.score);
    csv += numbers + store::CsvField(row.url) + ",";  // action: empty, for a person to fill
    std::snprintf(numbers, sizeof numbers, ",%.4f,%d,%d\n", row.margin, row.frames, row.fold);
    csv += numbers;
  }
  return store::WriteFileAtomic(path, csv);
}

namespace {

// The .npy v1.0 preamble: magic, version, header length, then a Python dict literal padded with
// spaces and a newline so the data starts at a multiple of 64 bytes.
std::string NpyHeader(const char* descr, const std::string& shape) {
  std::string dict =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t preamble = 10;  // magic (6) + version (2) + header length (2)
  size_t total = preamble + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  const auto length = static_cast<uint16_t>(dict.size());
  out += static_cast<char>(length & 0xFF);
  out += static_cast<char>(length >> 8);
  return out + dict;
}

}  // namespace

Status WriteNpyFloat32(const fs::path& path, std::span<const float> values, int64_t rows,
                       int64_t cols) {
  if (static_cast<int64_t>(values.size()) != rows * cols) {
    return Internal("npy: " + std::to_string(values.size()) + " values for shape (" +
                        std::to_string(rows) + ", " + std::to_string(cols) + ")",
                    path.string());
  }
  std::string bytes =
      NpyHeader("<f4", "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")");
  const size_t header = bytes.size();
  bytes.resize(header + values.size() * sizeof(float));
  if (!values.empty()) std::memcpy(bytes.data() + header, values.data(), values.size_bytes());
  return store::WriteFileAtomic(path, bytes);
}

Status WriteNpyInt64(const fs::path& path, std::span<const int64_t> values) {
  std::string bytes = NpyHeader("<i8", "(" + std::to_string(values.size()) + ",)");
  const size_t header = bytes.size();
  bytes.resize(header + values.size_bytes());
  if (!values.empty()) std::memcpy(bytes.data() + header, values.data(), values.size_bytes());
  return store::WriteFileAtomic(path, bytes);
}

Status WriteSuspectsMosaic(const fs::path& path, store::Store& store,
                           std::span<const SuspectRow> rows,
                           const std::vector<std::string>& classes, int per_class) {
  std::map<std::string, std::vector<const SuspectRow*>> by_class;
  for (const SuspectRow& row : rows) {
    auto& list = by_class[row.label];
    if (static_cast<int>(list.size()) < per_class) list.push_back(&row);
  }
  const cv::Ptr<cv::freetype::FreeType2> font = demo::LoadCaptionFont();
  auto caption = [&](const std::string& name) {
    if (font || demo::IsAscii(name)) return name;
    auto it = std::find(classes.begin(), classes.end(), name);
    return "#" + std::to_string(it - classes.begin());
  };
  auto draw = [&](cv::Mat& area, const std::string& text, int height, cv::Point at) {
    if (font) {
      font->putText(area, text, at, height, cv::Scalar(0, 0, 0), -1, cv::LINE_AA, true);
    } else {
      cv::putText(area, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1,
                  cv::LINE_AA);
    }
  };
  const int size = store.image_settings().size;
  const int scale = std::max(1, 96 / size);
  const int cell = size * scale, text_height = 14, gap = 6, margin = 140;
  const int cell_height = cell + text_height + 8;
  std::vector<const std::string*> shown;
  for (const std::string& name : classes) {
    if (by_class.count(name)) shown.push_back(&name);
  }
  const int width = margin + per_class * (cell + gap) + gap;
  const int height = std::max<int>(1, static_cast<int>(shown.size())) * (cell_height + gap) + gap;
  cv::Mat sheet(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (size_t r = 0; r < shown.size(); ++r) {
    const int top = gap + static_cast<int>(r) * (cell_height + gap);
    cv::Mat label_area = sheet(cv::Rect(0, top, margin - gap, cell_height));
    draw(label_area, caption(*shown[r]), 16, {6, cell / 2 + 8});
    const auto& list = by_class[*shown[r]];
    for (size_t c = 0; c < list.size(); ++c) {
      const int left = margin + gap + static_cast<int>(c) * (cell + gap);
      auto frames = store.ReadFrames(list[c]->blob);
      if (!frames.ok()) return frames.status();
      if (frames->count == 0) continue;
      // Planar RGB (3, S, S) -> interleaved BGR (S, S, 3) for OpenCV.
      const std::span<const uint8_t> planar = frames->Frame(0);
      cv::Mat image(size, size, CV_8UC3);
      const size_t plane = static_cast<size_t>(size) * size;
      for (size_t p = 0; p < plane; ++p) {
        image.data[3 * p + 0] = planar[2 * plane + p];
        image.data[3 * p + 1] = planar[plane + p];
        image.data[3 * p + 2] = planar[p];
      }
      cv::Mat scaled;
      cv::resize(image, scaled, {cell, cell}, 0, 0, cv::INTER_NEAREST);
      scaled.copyTo(sheet(cv::Rect(left, top, cell, cell)));
      cv::Mat text_area = sheet(cv::Rect(left, top + cell, cell, text_height + 8));
      draw(text_area, "-> " + caption(list[c]->suggested), text_height, {2, text_height + 2});
    }
  }
  std::vector<uint8_t> png;
  try {
    if (!cv::imencode(".png", sheet, png)) return IoError("cannot encode PNG", path.string());
  } catch (const cv::Exception& e) {
    return IoError(std::string("cannot encode PNG: ") + e.what(), path.string());
  }
  return store::WriteFileAtomic(path, std::span<const uint8_t>(png));
}

}  // namespace memes::pipelines
