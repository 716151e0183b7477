// The near-duplicate signature of a fitted frame: a 64-bit DCT hash of the frame's content
// window (the picture found on a flat border and stretched to a fixed size), as stored in the
// catalog's frames.phash and probed by grouping. Why not OpenCV's img_hash PHash of the whole
// frame: store/FORMAT.md, "Near-duplicate signature". Thread-safe: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "transform/phash.h"

namespace memes::transform {

// The colour transparent pixels and letterbox bars become unless a pipeline says otherwise
// (core/image_settings.h ImageSettings::background).
inline constexpr std::array<uint8_t, 3> kWhite = {255, 255, 255};

// Where the content of a planar 3×size×size frame lies, in pixel-index coordinates: the mean
// (centre_x, centre_y) and standard deviation (spread_x, spread_y) of its "ink", each pixel
// weighted by how far its colour is from the border colour (the largest channel difference,
// less a noise allowance for JPEG ringing). The border colour is one that at least three of
// the four corners share (`bordered`). Letterbox bars, transparent margins and a padded canvas
// weigh nothing, so a padded copy has the same window as its original in picture terms; a crop
// that cuts margin only does not move it, one that cuts the picture moves it a little.
// A frame whose corners share no colour (a picture that fills the frame: a photo, a flag, much
// flat vector art) is weighed against `background`, the colour its letterboxed or padded copy's
// bars would have (the pipeline's background, which transparency becomes too): its window is
// then the one such a copy gets, where the whole frame was not (a full-bleed picture and its
// white-letterboxed copy lay 16–22 bits apart; docs/benchmarks.md, "A frame-filling picture
// weighed against the background"). `found` is false only for a frame with no ink at all
// against its border colour (a flat frame): then the window is the whole frame.
struct ContentWindow {
  bool bordered = false;
  bool found = false;
  double centre_x = 0, centre_y = 0, spread_x = 0, spread_y = 0;
  float border_grey = 0;  // the border colour in grey (fills the window outside the frame)
  std::array<uint8_t, 3> border_rgb{};  // the border colour (RGB)
};
ContentWindow FindContentWindow(std::span<const uint8_t> planar, int size,
                                std::span<const uint8_t, 3> background = kWhite);

// The signature of one frame: the window centre ± 2 spreads on each axis (a flat disc of
// radius R has spread R/2, so this is its bounding box), resampled to 32×32 grey, 2-D DCT, the
// 8×8 lowest frequencies (the DC term swapped for coefficient (0, 8)), each bit 1 when the
// coefficient lies more than kContentMargin median absolute deviations above the median of the
// 64 (MarginBits). Relative to the median, not the mean: a mean threshold leaves most bits 0 and
// look-alike drawings collide. Above a margin, not at the median (the rule of schemas up to 9):
// flat vector art (Twemoji, flags, icons) has dozens of coefficients at about zero with the
// median among them, whose `>= median` bits a JPEG re-encode or a rescale turns over (pair by
// pair within 10 bits, Twemoji JPEG copies 86 % at the median, 99 % above the margin).
// store/FORMAT.md, "The content hash above a margin". `background`: as FindContentWindow's.
// Requires: planar.size() == 3*size*size.
uint64_t ContentHash(std::span<const uint8_t> planar, int size,
                     std::span<const uint8_t, 3> background = kWhite);

// ContentHash of the frame in the eight orientations of phash.h ([0] == ContentHash; k = 0..3
// quarter turns counter-clockwise, 4..7 mirrored then turned). The window is found once and
// turned with the picture (the moments turn with it), so each orientation hashes the same pixels.
// Requires: planar.size() == 3*size*size.
OrientationHashes ContentHashes(std::span<const uint8_t> planar, int size,
                                std::span<const uint8_t, 3> background = kWhite);
// The same with the frame's window already found (FindContentWindow of this planar frame), for
// a caller that also takes ContentThumbsOf: one search of the frame for both.
OrientationHashes ContentHashes(std::span<const uint8_t> planar, int size,
                                const ContentWindow& window);

// The second candidate hash: the DCT hash (as ContentHash's, with another margin) of the frame's
// middle band, rows [BandTop(size), size - BandTop(size)) of the frame turned to each of the
// eight orientations of phash.h, stretched to 32×32 (no content window). A caption over the
// top or bottom 9/32 of a picture (where meme text, subtitles and most watermarks sit) adds ink
// that moves the content window and so every coefficient of ContentHash; the band does not see
// it. A letterbox or a crop moves the band instead, which the content window undoes: the two
// hashes fail on different copies. store/FORMAT.md, "Second candidate hash". Requires:
// planar.size() == 3*size*size, size >= 4.
// A band bit is set only for a coefficient more than kBandMargin median absolute deviations (at
// least kBandFloor root mean square deviations) above the median: a flat band's near-median bits
// are noise (FORMAT.md, "Band bits above a margin"). About 22 bits of 64 are set, not 32.
OrientationHashes BandHashes(std::span<const uint8_t> planar, int size);

// 64 DCT coefficients -> bits, bit 63 - i set for coefficient i when it lies more than `margin`
// median absolute deviations (MAD) above their median, and more than `floor_share` times their
// root mean square deviation from it (so never at the median itself). A flat picture (a flag's
// stripes, a band of one colour) has dozens of coefficients at about zero and the median among
// them: `>= median` makes their bits a coin toss that one level of rounding turns over (8–30
// bits between a band and its captioned copy, whose band pixels differ by one level on
// average); above the margin they are 0 on both sides. Relative to the picture's own
// coefficients, so a contrast change keeps the bits. store/FORMAT.md, "Band bits above a
// margin". BandHashes uses it (kBandMargin, kBandFloor); bench/dedupe_bench --variants compares
// other margins.
uint64_t MarginBits(std::span<const float, 64> low, float margin, float floor_share);

// BandHashes' margin, in median absolute deviations of the 64 coefficients from their median,
// and its floor, in root mean square deviations (what holds when most coefficients are zero).
inline constexpr float kBandMargin = 0.5f;
inline constexpr float kBandFloor = 0.02f;

// ContentHash's margin (its floor is kBandFloor's): narrower than the band's, since the content
// window fills the hash with the picture where the band is often flat; at 0.5 the hash sets
// fewer bits and other pictures come nearer (other vendors' drawings within 10 bits: 8 % at
// 0.25, 16 % at 0.5, 6 % at the median, on the Noto set; docs/benchmarks.md, "The content hash
// above a margin").
inline constexpr float kContentMargin = 0.25f;

// The rows of the band: [BandTop(size), size - BandTop(size)), rows 9–22 of a 32-row frame.
// Not the middle half (rows 8–23, schemas 7–10): a line of caption text with its outline,
// drawn a few pixels from the top, reaches 27 % of the height, and its outline on the band's
// first row moved a flat band's hash 7–20 bits (docs/benchmarks.md, "The band from row 9";
// captions within 10 bits pair by pair 93–96 % with rows 8–23, 100 % with rows 9–22, other
// vendors' drawings no nearer).
inline constexpr int BandTop(int size) { return size * 9 / 32; }

// The verification thumbnail of a frame: its content window (as ContentHash finds it) in
// colour, area-averaged to kThumbSide×kThumbSide, RGB bytes interleaved row by row. A hash
// within a loose radius only nominates candidates; store::ThumbDistance on these thumbnails
// decides whether a candidate is the same picture (store/FORMAT.md, "Near-duplicate groups").
// The layout is store::kThumbBytes bytes (pipelines check the two agree).
inline constexpr int kThumbSide = 12;
inline constexpr int kThumbBytes = 3 * kThumbSide * kThumbSide;
using ContentThumb = std::array<uint8_t, kThumbBytes>;
// The thumbnail in the eight orientations of phash.h; [k] matches ContentHashes(...)[k].
using ContentThumbs = std::array<ContentThumb, kOrientations>;
// Requires: planar.size() == 3*size*size.
ContentThumbs ContentThumbsOf(std::span<const uint8_t> planar, int size,
                              std::span<const uint8_t, 3> background = kWhite);
// The same with the frame's window already found (as ContentHashes' overload).
ContentThumbs ContentThumbsOf(std::span<const uint8_t> planar, int size,
                              const ContentWindow& window);

// The second hash's verification thumbnail: the middle band of BandHashes in colour,
// area-averaged to kThumbSide×kThumbSide, in the eight orientations ([k] matches BandHashes[k]:
// the frame is turned first, then the band cut). Requires: as BandHashes.
ContentThumbs BandThumbsOf(std::span<const uint8_t> planar, int size);

}  // namespace memes::transform
