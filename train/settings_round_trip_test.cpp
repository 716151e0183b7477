// The image settings travel store → dataset.json → checkpoint → predict: a picture given to
// predict becomes exactly the frame the crawl stored and pack wrote, pixel for pixel, also when
// the store was made with fit=crop on a black background (not the pad-on-white defaults).
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "store/dataset_manifest.h"
#include "store/file_util.h"
#include "store/pack.h"
#include "store/store.h"
#include "train/checkpoint.h"
#include "train/model_config.h"
#include "train/train_api.h"
#include "transform/frames.h"

namespace memes::train {
namespace {

namespace fs = std::filesystem;

// A wide RGBA sticker whose left and right thirds differ from its centre and whose corners are
// transparent: pad, crop and the background colour each change the fitted frame.
std::vector<uint8_t> StickerPng(int item) {
  cv::Mat bgra(30, 54, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  const cv::Scalar tint(40 + 17 * item % 200, 90 + 31 * item % 150, 200 - 13 * item % 180, 255);
  cv::rectangle(bgra, cv::Rect(18, 0, 18, 30), tint, cv::FILLED);
  cv::circle(bgra, cv::Point(9, 15), 6 + item % 3, cv::Scalar(255, 255 - 20 * item % 255, 0, 255),
             cv::FILLED);
  cv::circle(bgra, cv::Point(45, 15), 5, cv::Scalar(0, 128, 255, 160), cv::FILLED);
  cv::line(bgra, cv::Point(18, 3 + item % 20), cv::Point(36, 27 - item % 20),
           cv::Scalar(item % 2 ? 255 : 0, 0, 0, 255), 2);
  std::vector<uint8_t> png;
  cv::imencode(".png", bgra, png);
  return png;
}

class SettingsRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("memes_settings_round_trip_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(SettingsRoundTrip, PredictFitsAPictureAsTheCrawlDidPixelForPixel) {
  ImageSettings settings;
  settings.fit = FitMode::kCrop;
  settings.background[0] = settings.background[1] = settings.background[2] = 0;
  settings.max_frames = 2;

  // The crawl's part: decode with the store's settings, keep blob and frames, label.
  std::map<std::string, std::vector<uint8_t>> originals;  // blob sha256 -> file bytes
  {
    store::StoreOptions options;
    options.image_settings = settings;
    auto opened = store::Store::Open(root_ / "store", options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store::Store& store = **opened;
    transform::DecodeOptions decode;
    static_cast<ImageSettings&>(decode) = store.image_settings();
    for (int item = 0; item < 24; ++item) {
      const std::vector<uint8_t> png = StickerPng(item);
      auto decoded = transform::DecodeToFrames(png, decode);
      ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
      auto blob = store.PutBlob(png);
      ASSERT_TRUE(blob.ok());
      originals[*blob] = png;
      std::vector<store::FrameData> frames;
      for (const auto& frame : decoded->frames) {
        frames.push_back({{frame.index, 0, frame.phash}, frame.planar});
      }
      const store::ItemRecord record{*blob, png.size(), "png", 54, 30, 1, store::kItemOk, ""};
      auto added =
          store.AddItem(record, nullptr, frames, std::string(item % 2 ? "kumamon" : "shiba"));
      ASSERT_TRUE(added.ok()) << added.status().ToString();
    }
    store::PackOptions pack;
    pack.out = root_ / "shards";
    pack.progress = false;
    pack.split_unit = store::SplitUnit::kImage;  // every sticker is its own near-duplicate test
    auto packed = store::Pack(store, pack);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  }
  auto manifest = store::ReadManifest(root_ / "shards");
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_TRUE(manifest->image_settings_recorded);
  EXPECT_EQ(manifest->image, settings) << DescribeImageSettings(manifest->image);

  TrainOptions train;
  train.shards = root_ / "shards";
  train.run_dir = root_ / "run";
  train.preset = "tiny";
  train.epochs = 1;
  train.batch_size = 8;
  train.threads = 1;
  train.progress = false;
  const Status trained = RunTraining(train);
  ASSERT_TRUE(trained.ok()) << trained.ToString();
  auto loaded = LoadModel(root_ / "run" / "last.pt");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->meta.image_recorded);
  EXPECT_EQ(loaded->meta.image, settings) << DescribeImageSettings(loaded->meta.image);

  // Every unrotated record of the shards against what predict makes of the original file.
  std::ifstream index(root_ / "shards" / "index.tsv");
  std::string line;
  std::getline(index, line);  // header
  int compared = 0;
  for (int number = 2; std::getline(index, line); ++number) {
    auto row = store::ParseIndexRow(line, *manifest, "index.tsv:" + std::to_string(number));
    ASSERT_TRUE(row.ok()) << row.status().ToString();
    if (row->rotation != 0) continue;
    auto shard = store::ReadWholeFile(root_ / "shards" / row->file);
    ASSERT_TRUE(shard.ok());
    const size_t at = row->record * manifest->record_bytes + 1;
    const std::vector<uint8_t> packed(shard->begin() + at,
                                      shard->begin() + at + manifest->record_bytes - 1);
    const std::vector<uint8_t>& original = originals.at(row->blob);
    auto predicted = transform::DecodeToFrames(original, DecodeOptionsFor(loaded->meta));
    ASSERT_TRUE(predicted.ok());
    ASSERT_GT(predicted->frames.size(), static_cast<size_t>(row->frame));
    EXPECT_EQ(predicted->frames[row->frame].planar, packed) << row->blob;
    // What predict did before the settings travelled: pad on white, another picture.
    auto defaults = transform::DecodeToFrames(original, transform::DecodeOptions{});
    ASSERT_TRUE(defaults.ok());
    EXPECT_NE(defaults->frames[row->frame].planar, packed);
    ++compared;
  }
  EXPECT_GE(compared, 24);

  // And predict itself runs with them (the log line about missing settings does not appear).
  PredictOptions predict;
  predict.model = root_ / "run" / "last.pt";
  fs::create_directories(root_ / "pictures");
  std::ofstream(root_ / "pictures" / "one.png", std::ios::binary)
      .write(reinterpret_cast<const char*>(originals.begin()->second.data()),
             static_cast<std::streamsize>(originals.begin()->second.size()));
  predict.files = {root_ / "pictures" / "one.png"};
  predict.json = true;
  predict.threads = 1;
  EXPECT_TRUE(RunPredict(predict).ok());
}

TEST_F(SettingsRoundTrip, AModelFileWithoutSettingsGetsTheDefaultsAtItsSize) {
  auto config = PresetConfig("tiny", 2, 16);
  ASSERT_TRUE(config.ok());
  SeResNeXt model(*config);
  ModelMeta meta{*config, {"kumamon", "shiba"}, {0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f}};
  meta.image.fit = FitMode::kStretch;  // not recorded: must not be written
  meta.image_recorded = false;
  ASSERT_TRUE(
      SaveCheckpoint(root_ / "old.pt", model, nullptr, meta, nlohmann::json::object()).ok());
  auto loaded = LoadModel(root_ / "old.pt");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE(loaded->meta.image_recorded);
  ImageSettings expected;
  expected.size = 16;
  EXPECT_EQ(loaded->meta.image, expected) << DescribeImageSettings(loaded->meta.image);
  EXPECT_EQ(DecodeOptionsFor(loaded->meta).size, 16);
}

}  // namespace
}  // namespace memes::train
