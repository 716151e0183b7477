// The near-duplicate signature and its verification thumbnail together, as the crawl makes them
// (transform::DecodeToFrames) and the founder index judges them (store::NearDupIndex with the
// default MatchRule): copies of one drawing join it, another drawing of the same subject does
// not. Pipelines is where transform/ and store/ meet, so the test lives here.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "store/near_dup_index.h"
#include "transform/frames.h"
#include "transform/signature.h"
#include "transform/test_util.h"

namespace memes {
namespace {

// A sticker on a transparent 64×64 canvas (BGRA): a face with a hat on one side. `variant` 1
// is another drawing of the same subject (eyes and hat moved, mouth wider).
cv::Mat Sticker(int variant) {
  cv::Mat bgra(64, 64, CV_8UC4, cv::Scalar(0, 0, 0, 0));
  cv::circle(bgra, {32, 34}, 24, cv::Scalar(40, 200, 250, 255), cv::FILLED, cv::LINE_AA);
  cv::circle(bgra, {24 + 5 * variant, 28}, 4, cv::Scalar(30, 30, 30, 255), cv::FILLED);
  cv::circle(bgra, {41, 28 + 7 * variant}, 4, cv::Scalar(30, 30, 30, 255), cv::FILLED);
  cv::ellipse(bgra, {32, 44}, {10 + 6 * variant, 5}, 0, 0, 180, cv::Scalar(30, 30, 160, 255), 3);
  cv::rectangle(bgra, {10 + 22 * variant, 4}, {30 + 22 * variant, 14}, cv::Scalar(200, 60, 60, 255),
                cv::FILLED);
  return bgra;
}

cv::Mat OnWhite(const cv::Mat& bgra) {
  cv::Mat out(bgra.size(), CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) {
      const cv::Vec4b p = bgra.at<cv::Vec4b>(y, x);
      for (int c = 0; c < 3; ++c)
        out.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>((p[c] * p[3] + 255 * (255 - p[3])) / 255);
    }
  }
  return out;
}

transform::Frame FirstFrame(const std::vector<uint8_t>& bytes) {
  auto decoded = transform::DecodeToFrames(bytes, {});
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  return decoded.ok() && !decoded->frames.empty() ? decoded->frames[0] : transform::Frame{};
}

// The frame's eight orientations as probes, with their thumbnails and second hashes.
std::optional<store::NearDupIndex::Match> Probe(const store::NearDupIndex& index,
                                                const transform::Frame& frame,
                                                const store::MatchRule& rule = {}) {
  static_assert(sizeof(transform::ContentThumbs) == transform::kOrientations * store::kThumbBytes);
  return index.NearestAccepted(
      frame.orientation_hashes,
      std::span<const uint8_t>(frame.orientation_thumbs[0].data(),
                               sizeof(transform::ContentThumbs)),
      rule, frame.second_hashes,
      std::span<const uint8_t>(frame.second_thumbs[0].data(), sizeof(transform::ContentThumbs)));
}

// `picture` on white with a word over its top or bottom edge, white with a black outline (how
// meme captions are drawn), the text within the outer quarter of the height.
cv::Mat Captioned(const cv::Mat& bgra, const char* word, bool top) {
  cv::Mat out = OnWhite(bgra);
  const cv::Point at(6, top ? 13 : out.rows - 4);
  cv::putText(out, word, at, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(255, 255, 255), 3,
              cv::LINE_AA);
  cv::putText(out, word, at, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return out;
}

TEST(NearDupSignature, CopiesOfADrawingJoinItAndAnotherDrawingOfTheSubjectDoesNot) {
  const transform::Frame original = FirstFrame(transform::testing::Encode(Sticker(0), ".png"));
  store::NearDupIndex index(store::MatchRule{}.IndexRadius());
  index.Add(original.phash, 1, original.orientation_thumbs[0]);

  // A palette copy: 6 levels a channel, alpha cut at 128 (what a GIF conversion does).
  cv::Mat palette = Sticker(0);
  for (auto it = palette.begin<cv::Vec4b>(); it != palette.end<cv::Vec4b>(); ++it) {
    for (int c = 0; c < 3; ++c) (*it)[c] = static_cast<uint8_t>(((*it)[c] + 25) / 51 * 51);
    (*it)[3] = (*it)[3] < 128 ? 0 : 255;
  }
  // A colour-corrected copy: contrast 1.1, brightness +12, the red channel +10.
  cv::Mat jitter = Sticker(0);
  for (auto it = jitter.begin<cv::Vec4b>(); it != jitter.end<cv::Vec4b>(); ++it) {
    for (int c = 0; c < 3; ++c)
      (*it)[c] = cv::saturate_cast<uint8_t>((*it)[c] * 1.1 + 12 + (c == 2 ? 10 : 0));
  }
  cv::Mat turned;
  cv::rotate(Sticker(0), turned, cv::ROTATE_90_CLOCKWISE);
  const struct {
    const char* name;
    std::vector<uint8_t> bytes;
  } copies[] = {
      {"jpeg", transform::testing::Encode(OnWhite(Sticker(0)), ".jpg")},
      {"palette", transform::testing::Encode(palette, ".png")},
      {"jitter", transform::testing::Encode(jitter, ".png")},
      {"rotated", transform::testing::Encode(turned, ".png")},
  };
  for (const auto& copy : copies) {
    const auto match = Probe(index, FirstFrame(copy.bytes));
    ASSERT_TRUE(match) << copy.name;
    EXPECT_EQ(match->group, 1) << copy.name;
    EXPECT_LE(match->thumb_distance, store::kDefaultThumbDistance) << copy.name;
  }

  // Another drawing: its hash is a candidate (within the candidate radius), its thumbnail is not.
  const transform::Frame other = FirstFrame(transform::testing::Encode(Sticker(1), ".png"));
  int nearest_bits = 64;
  for (const uint64_t hash : other.orientation_hashes)
    nearest_bits = std::min(nearest_bits, __builtin_popcountll(hash ^ original.phash));
  EXPECT_FALSE(Probe(index, other)) << "hash " << nearest_bits << " bits away";
}

// A caption moves the content window (so the content hash and thumbnail), not the middle band:
// the second source finds the captioned copy, and only it; another drawing with a caption stays
// apart.
TEST(NearDupSignature, ACaptionedCopyJoinsThroughTheMiddleBand) {
  const transform::Frame original =
      FirstFrame(transform::testing::Encode(OnWhite(Sticker(0)), ".png"));
  store::NearDupIndex index(store::MatchRule{}.IndexRadius());
  index.Add(original.phash, 1, original.orientation_thumbs[0], /*defer=*/false,
            original.second_hashes[0], /*founder=*/true, original.second_thumbs[0]);
  store::MatchRule content_only;
  content_only.second_distance = -1;
  for (const bool top : {false, true}) {
    const transform::Frame copy =
        FirstFrame(transform::testing::Encode(Captioned(Sticker(0), "LOL wow", top), ".png"));
    EXPECT_FALSE(Probe(index, copy, content_only)) << (top ? "top" : "bottom");
    const auto match = Probe(index, copy);
    ASSERT_TRUE(match) << (top ? "top" : "bottom");
    EXPECT_EQ(match->group, 1);
  }
  const transform::Frame other =
      FirstFrame(transform::testing::Encode(Captioned(Sticker(1), "LOL wow", false), ".png"));
  EXPECT_FALSE(Probe(index, other));
}

}  // namespace
}  // namespace memes
