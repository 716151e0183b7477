#include "train/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "store/file_util.h"

namespace memes::train {

namespace fs = std::filesystem;

namespace {

Status WritePng(const cv::Mat& image, const fs::path& png) {
  std::vector<uint8_t> bytes;
  bool encoded = false;
  try {
    encoded = cv::imencode(".png", image, bytes);
  } catch (const cv::Exception& error) {
    return IoError(std::string("cannot encode PNG: ") + error.what(), png.string());
  }
  if (!encoded) return IoError("cannot encode PNG", png.string());
  return store::WriteFileAtomic(png, bytes);
}

void Text(cv::Mat& image, const std::string& text, cv::Point at, double scale = 0.45,
          cv::Scalar colour = {40, 40, 40}) {
  cv::putText(image, text, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

struct Series {
  std::vector<double> values;
  cv::Scalar colour;
  std::string name;
};

// One panel: axes, y range from the data, a polyline per series, a legend.
void DrawPanel(cv::Mat& canvas, cv::Rect box, const std::string& title,
               const std::vector<Series>& series, int epochs) {
  double low = 1e300, high = -1e300;
  for (const auto& s : series) {
    for (double v : s.values) {
      if (std::isfinite(v)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
    }
  }
  if (low > high) low = 0, high = 1;
  if (high - low < 1e-6) high = low + 1;
  const double margin = 0.05 * (high - low);
  low -= margin;
  high += margin;
  const cv::Rect plot(box.x + 55, box.y + 30, box.width - 70, box.height - 65);
  cv::rectangle(canvas, plot, {160, 160, 160}, 1);
  Text(canvas, title, {box.x + 55, box.y + 20}, 0.55);
  for (int tick = 0; tick <= 4; ++tick) {
    const double value = low + (high - low) * tick / 4;
    const int y = plot.y + plot.height - static_cast<int>(plot.height * tick / 4.0);
    cv::line(canvas, {plot.x, y}, {plot.x + plot.width, y}, {225, 225, 225}, 1);
    char label[32];
    std::snprintf(label, sizeof label, "%.3g", value);
    Text(canvas, label, {box.x + 2, y + 4}, 0.38);
  }
  const int last = std::max(1, epochs);
  for (int tick = 1; tick <= last; tick += std::max(1, last / 8)) {
    const int x =
        plot.x + static_cast<int>(plot.width * (last == 1 ? 0.5 : (tick - 1.0) / (last - 1)));
    Text(canvas, std::to_string(tick), {x - 4, plot.y + plot.height + 15}, 0.38);
  }
  Text(canvas, "epoch", {plot.x + plot.width / 2 - 20, plot.y + plot.height + 32}, 0.4);
  int legend_y = plot.y + 15;
  for (const auto& s : series) {
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.values.size(); ++i) {
      const double fx = last == 1 ? 0.5 : static_cast<double>(i) / (last - 1);
      const double fy = (s.values[i] - low) / (high - low);
      points.emplace_back(plot.x + static_cast<int>(fx * plot.width),
                          plot.y + plot.height - static_cast<int>(fy * plot.height));
    }
    if (points.size() > 1) cv::polylines(canvas, points, false, s.colour, 2, cv::LINE_AA);
    for (const auto& p : points) cv::circle(canvas, p, 3, s.colour, cv::FILLED, cv::LINE_AA);
    cv::line(canvas, {plot.x + plot.width - 90, legend_y - 4},
             {plot.x + plot.width - 70, legend_y - 4}, s.colour, 2);
    Text(canvas, s.name, {plot.x + plot.width - 65, legend_y}, 0.4);
    legend_y += 16;
  }
}

}  // namespace

Status DrawCurves(const std::vector<EpochMetrics>& epochs, const fs::path& png) {
  cv::Mat canvas(360, 960, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar train_colour(200, 110, 30), test_colour(40, 120, 230);  // BGR
  Series train_loss{{}, train_colour, "train"}, test_loss{{}, test_colour, "test"};
  Series train_acc{{}, train_colour, "train"}, test_acc{{}, test_colour, "test"};
  for (const auto& e : epochs) {
    train_loss.values.push_back(e.train_loss);
    test_loss.values.push_back(e.test_loss);
    train_acc.values.push_back(100 * e.train_accuracy);
    test_acc.values.push_back(100 * e.test_accuracy);
  }
  const int count = static_cast<int>(epochs.size());
  DrawPanel(canvas, {0, 0, 480, 360}, "loss", {train_loss, test_loss}, count);
  DrawPanel(canvas, {480, 0, 480, 360}, "accuracy (%)", {train_acc, test_acc}, count);
  return WritePng(canvas, png);
}

Status DrawConfusion(const std::vector<std::vector<int64_t>>& matrix,
                     const std::vector<std::string>& classes, const fs::path& png) {
  const int n = static_cast<int>(classes.size());
  const int cell = std::clamp(600 / std::max(1, n), 18, 60);
  const int left = 130, top = 40;
  cv::Mat canvas(top + n * cell + 30, left + n * cell + 20, CV_8UC3, cv::Scalar(255, 255, 255));
  Text(canvas, "true (rows) vs predicted (columns)", {left, 20}, 0.5);
  for (int r = 0; r < n; ++r) {
    int64_t row_total = 0;
    for (int c = 0; c < n; ++c) row_total += matrix[r][c];
    Text(canvas, classes[r].substr(0, 16), {4, top + r * cell + cell / 2 + 4}, 0.4);
    for (int c = 0; c < n; ++c) {
      const double share = row_total ? static_cast<double>(matrix[r][c]) / row_total : 0.0;
      const int shade = 255 - static_cast<int>(200 * share);
      const cv::Scalar colour =
          r == c ? cv::Scalar(shade, 255, shade) : cv::Scalar(shade, shade, 255);
      const cv::Rect box(left + c * cell, top + r * cell, cell, cell);
      cv::rectangle(canvas, box, colour, cv::FILLED);
      cv::rectangle(canvas, box, {200, 200, 200}, 1);
      if (cell >= 24) {
        Text(canvas, std::to_string(matrix[r][c]), {box.x + 3, box.y + cell / 2 + 4}, 0.35);
      }
    }
  }
  for (int c = 0; c < n; ++c) {
    Text(canvas, std::to_string(c), {left + c * cell + cell / 2 - 4, top + n * cell + 16}, 0.4);
  }
  return WritePng(canvas, png);
}

}  // namespace memes::train
