// Still JPEG through libjpeg(-turbo) directly rather than OpenCV's imdecode, for one reason:
// libjpeg's progress monitor runs inside a decode, after every row of every scan, so a
// progressive "scan bomb" (thousands of scans over a large canvas: a minute of CPU in 1 MB) is
// stopped by a scan limit (as libjpeg-turbo's `djpeg -maxscans` does) and by the decode's time
// budget within milliseconds. imdecode offers neither. EXIF orientation is applied here.
//
// libjpeg reports fatal errors through error_exit, which must not return: it longjmps back to
// the setjmp of the phase that called libjpeg. The phases below (ReadHeader, ReadPixels) hold
// no object with a destructor between their setjmp and any libjpeg call, so the jump skips
// nothing that needs cleaning up; the owner of the decompressor (JpegJob) lives outside them.
#include <algorithm>
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE
#include <cstring>
#include <string>

#include <jpeglib.h>

#include <opencv2/core.hpp>

#include "transform/decoders.h"

namespace memes::transform {
namespace {

// Why libjpeg was stopped.
enum class Stop { kNone, kError, kScans, kTime };

struct JpegJob {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  jpeg_progress_mgr progress{};
  std::jmp_buf jump{};
  const FrameSink* sink = nullptr;
  int max_scans = kMaxJpegScans;
  Stop stop = Stop::kNone;
  char message[JMSG_LENGTH_MAX] = {};
  bool created = false;

  ~JpegJob() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

JpegJob& JobOf(j_common_ptr cinfo) {
  // Invariant: client_data points at the JpegJob that owns cinfo (set before any libjpeg call).
  return *static_cast<JpegJob*>(cinfo->client_data);
}

[[noreturn]] void OnError(j_common_ptr cinfo) {
  JpegJob& job = JobOf(cinfo);
  if (job.stop == Stop::kNone) {
    job.stop = Stop::kError;
    (*cinfo->err->format_message)(cinfo, job.message);
  }
  std::longjmp(job.jump, 1);
}

void Silent(j_common_ptr) {}  // warnings (corrupt data that libjpeg repairs) are not printed

void OnProgress(j_common_ptr cinfo) {
  JpegJob& job = JobOf(cinfo);
  auto* decompress = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (decompress->input_scan_number > job.max_scans) {
    job.stop = Stop::kScans;
    std::longjmp(job.jump, 1);
  }
  if (job.sink->TimeUp()) {
    job.stop = Stop::kTime;
    std::longjmp(job.jump, 1);
  }
}

Status StopStatus(const JpegJob& job, const FrameSink& sink) {
  switch (job.stop) {
    case Stop::kScans:
      return LimitExceeded("JPEG with more than " + std::to_string(job.max_scans) +
                           " scans (a progressive scan bomb?)");
    case Stop::kTime:
      return sink.CheckTime();  // not OK: the deadline passed before the jump
    default:
      return Corrupt(std::string("invalid JPEG: ") + job.message);
  }
}

// Largest DCT reduction that still leaves 4× the frame size (libjpeg decodes at 1/2, 1/4 or
// 1/8 scale for little more than the cost of the smaller image).
int ScaleDenominator(int width, int height, const DecodeOptions& options) {
  if (options.keep_full_size) return 1;
  const int shorter = std::min(width, height);
  const int needed = 4 * options.size;
  if (shorter >= 8 * needed) return 8;
  if (shorter >= 4 * needed) return 4;
  if (shorter >= 2 * needed) return 2;
  return 1;
}

// Phase 1: header, markers kept for EXIF, output format and size. False after a longjmp.
bool ReadHeader(JpegJob& job, std::span<const uint8_t> bytes, const DecodeOptions& options) {
  if (setjmp(job.jump)) return false;
  jpeg_mem_src(&job.cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(&job.cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&job.cinfo, TRUE);
  switch (job.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
      job.cinfo.out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_CMYK:
    case JCS_YCCK:
      job.cinfo.out_color_space = JCS_CMYK;  // converted to RGB below
      break;
    default:
      job.cinfo.out_color_space = JCS_EXT_BGR;
      break;
  }
  job.cinfo.scale_num = 1;
  job.cinfo.scale_denom = static_cast<unsigned>(ScaleDenominator(
      static_cast<int>(job.cinfo.image_width), static_cast<int>(job.cinfo.image_height), options));
  jpeg_calc_output_dimensions(&job.cinfo);
  return true;
}

// Phase 2: every scan and every row into `pixels` (output_height rows of `stride` bytes).
bool ReadPixels(JpegJob& job, uint8_t* pixels, size_t stride) {
  if (setjmp(job.jump)) return false;
  jpeg_start_decompress(&job.cinfo);  // a progressive file's scans are all read here
  while (job.cinfo.output_scanline < job.cinfo.output_height) {
    JSAMPROW row = pixels + job.cinfo.output_scanline * stride;
    if (jpeg_read_scanlines(&job.cinfo, &row, 1) != 1) break;  // suspended: data ran out
  }
  // Trailing garbage or a missing EOI after the last row is harmless: do not finish.
  jpeg_abort_decompress(&job.cinfo);
  return true;
}

uint16_t Read16(const uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<uint16_t>(p[0] << 8 | p[1])
                    : static_cast<uint16_t>(p[1] << 8 | p[0]);
}

uint32_t Read32(const uint8_t* p, bool big_endian) {
  return big_endian ? (uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3])
                    : (uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0]);
}

// EXIF Orientation (1..8) from an APP1 "Exif\0\0" marker's TIFF header and IFD0; 1 when absent
// or malformed. Every offset is checked against the marker's length.
int ExifOrientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr marker = cinfo.marker_list; marker; marker = marker->next) {
    if (marker->marker != JPEG_APP0 + 1 || marker->data_length < 14) continue;
    const uint8_t* data = marker->data;
    if (std::memcmp(data, "Exif\0\0", 6) != 0) continue;
    const uint8_t* tiff = data + 6;
    const size_t size = marker->data_length - 6;
    bool big_endian;
    if (tiff[0] == 'M' && tiff[1] == 'M') {
      big_endian = true;
    } else if (tiff[0] == 'I' && tiff[1] == 'I') {
      big_endian = false;
    } else {
      return 1;
    }
    const uint32_t ifd = Read32(tiff + 4, big_endian);
    if (ifd > size || size - ifd < 2) return 1;
    const uint16_t entries = Read16(tiff + ifd, big_endian);
    for (uint32_t i = 0; i < entries; ++i) {
      const uint64_t at = uint64_t{ifd} + 2 + uint64_t{i} * 12;
      if (at + 12 > size) return 1;
      if (Read16(tiff + at, big_endian) != 0x0112) continue;
      const int value = Read16(tiff + at + 8, big_endian);  // SHORT, left-justified
      return value >= 1 && value <= 8 ? value : 1;
    }
    return 1;
  }
  return 1;
}

// Turns `image` upright for an EXIF orientation (TIFF 6.0: 2 mirrored, 3 rotated 180°, 4 flipped,
// 5 transposed, 6 rotated 90° clockwise to view, 7 transversed, 8 rotated 90° counter-clockwise).
cv::Mat ApplyOrientation(const cv::Mat& image, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2:
      cv::flip(image, out, 1);
      return out;
    case 3:
      cv::rotate(image, out, cv::ROTATE_180);
      return out;
    case 4:
      cv::flip(image, out, 0);
      return out;
    case 5:
      cv::transpose(image, out);
      return out;
    case 6:
      cv::rotate(image, out, cv::ROTATE_90_CLOCKWISE);
      return out;
    case 7:
      cv::transpose(image, out);
      cv::rotate(out, out, cv::ROTATE_180);
      return out;
    case 8:
      cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
      return out;
    default:
      return image;
  }
}

// Adobe CMYK JPEGs (nearly all of them) store inverted CMYK: R = C·K / 255 and so on.
cv::Mat CmykToBgr(const cv::Mat& cmyk) {
  cv::Mat bgr(cmyk.rows, cmyk.cols, CV_8UC3);
  for (int y = 0; y < cmyk.rows; ++y) {
    const uint8_t* in = cmyk.ptr<uint8_t>(y);
    uint8_t* out = bgr.ptr<uint8_t>(y);
    for (int x = 0; x < cmyk.cols; ++x, in += 4, out += 3) {
      out[0] = static_cast<uint8_t>(in[2] * in[3] / 255);
      out[1] = static_cast<uint8_t>(in[1] * in[3] / 255);
      out[2] = static_cast<uint8_t>(in[0] * in[3] / 255);
    }
  }
  return bgr;
}

}  // namespace

Status DecodeJpeg(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                  int* width, int* height) {
  JpegJob job;
  job.sink = &sink;
  job.cinfo.err = jpeg_std_error(&job.errors);
  job.errors.error_exit = &OnError;
  job.errors.output_message = &Silent;
  job.progress.progress_monitor = &OnProgress;
  job.cinfo.client_data = &job;
  jpeg_create_decompress(&job.cinfo);
  job.created = true;
  job.cinfo.progress = &job.progress;
  // Progressive files keep every coefficient of the image in memory; past this libjpeg fails
  // ("backing store not supported") instead of allocating more.
  job.cinfo.mem->max_memory_to_use = 512L << 20;

  if (!ReadHeader(job, bytes, sink.options())) return StopStatus(job, sink);
  // The canvas was checked from the header Sniff read; libjpeg reads the frame header itself.
  if (uint64_t{job.cinfo.image_width} * job.cinfo.image_height > sink.options().max_canvas_pixels) {
    return LimitExceeded("canvas " + std::to_string(job.cinfo.image_width) + "x" +
                         std::to_string(job.cinfo.image_height) + " exceeds limit");
  }
  const int channels = job.cinfo.out_color_components;
  if (channels != 1 && channels != 3 && channels != 4) {
    return Unsupported("JPEG with " + std::to_string(channels) + " channels");
  }
  cv::Mat image(static_cast<int>(job.cinfo.output_height), static_cast<int>(job.cinfo.output_width),
                CV_8UC(channels));
  // Read before the pixels: finishing or aborting the decompressor frees the saved markers.
  const int orientation = ExifOrientation(job.cinfo);
  if (!ReadPixels(job, image.data, image.step[0])) return StopStatus(job, sink);
  if (channels == 4) image = CmykToBgr(image);
  image = ApplyOrientation(image, orientation);

  // The canvas is the header's size, turned when EXIF orientation swaps the axes (5 to 8).
  const bool turned = orientation >= 5;
  *width = turned ? sniffed.height : sniffed.width;
  *height = turned ? sniffed.width : sniffed.height;
  const PixelOrder order = image.channels() == 1 ? PixelOrder::kGray : PixelOrder::kBgr;
  return sink.Add(image.data, image.cols, image.rows, image.step[0], order, 0.0, 0.0);
}

}  // namespace memes::transform
