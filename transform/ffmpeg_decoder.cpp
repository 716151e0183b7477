// GIF, APNG and short clips through FFmpeg. FFmpeg's gif and apng decoders composite frames
// themselves (disposal, blending, transparency), so each frame they output is a whole canvas.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
}

#include "transform/decoders.h"

namespace memes::transform {
namespace {

// RAII owners for every FFmpeg handle.
struct AvioDeleter {
  void operator()(AVIOContext* avio) const {
    av_freep(&avio->buffer);
    avio_context_free(&avio);
  }
};
struct FormatDeleter {
  void operator()(AVFormatContext* format) const { avformat_close_input(&format); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* codec) const { avcodec_free_context(&codec); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct SwsDeleter {
  void operator()(SwsContext* sws) const { sws_freeContext(sws); }
};
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;
using FormatPtr = std::unique_ptr<AVFormatContext, FormatDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// The file's bytes as an AVIOContext source. Invariant: position <= bytes.size().
struct MemorySource {
  std::span<const uint8_t> bytes;
  size_t position = 0;

  static int Read(void* opaque, uint8_t* buffer, int size) {
    auto* source = static_cast<MemorySource*>(opaque);
    const size_t left = source->bytes.size() - source->position;
    if (left == 0) return AVERROR_EOF;
    const size_t count = std::min(left, static_cast<size_t>(size));
    std::memcpy(buffer, source->bytes.data() + source->position, count);
    source->position += count;
    return static_cast<int>(count);
  }
  static int64_t Seek(void* opaque, int64_t offset, int whence) {
    auto* source = static_cast<MemorySource*>(opaque);
    const auto size = static_cast<int64_t>(source->bytes.size());
    int64_t target;
    switch (whence & ~AVSEEK_FORCE) {
      case AVSEEK_SIZE:
        return size;
      case SEEK_SET:
        target = offset;
        break;
      case SEEK_CUR:
        target = static_cast<int64_t>(source->position) + offset;
        break;
      case SEEK_END:
        target = size + offset;
        break;
      default:
        return AVERROR(EINVAL);
    }
    if (target < 0 || target > size) return AVERROR(EINVAL);
    source->position = static_cast<size_t>(target);
    return target;
  }
};

std::string FfmpegError(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

const char* InputFormatName(Container container) {
  switch (container) {
    case Container::kGif:
      return "gif";
    case Container::kPng:
      return "png_pipe";
    case Container::kBmp:
      return "bmp_pipe";
    case Container::kApng:
      return "apng";
    case Container::kMp4:
      return "mov";
    case Container::kWebm:
      return "matroska";
    default:
      return nullptr;
  }
}

std::string UpperName(const std::string& format) {
  std::string upper = format;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return upper;
}

// Turns decoded frames into canvas frames for the sink, converting pixel formats the sink
// cannot read directly through swscale.
class FrameConverter {
 public:
  FrameConverter(FrameSink& sink, AVRational time_base, int64_t start_pts)
      : sink_(sink), time_base_(time_base), start_pts_(start_pts) {}

  Status Deliver(const AVFrame& frame) {
    const uint64_t pixels = uint64_t(frame.width) * uint64_t(frame.height);
    if (frame.width <= 0 || frame.height <= 0) return Corrupt("frame of zero size");
    if (pixels > sink_.options().max_canvas_pixels) {
      return LimitExceeded("frame " + std::to_string(frame.width) + "x" +
                           std::to_string(frame.height) + " exceeds limit");
    }
    double time = next_time_;
    if (frame.best_effort_timestamp != AV_NOPTS_VALUE) {
      if (start_pts_ == AV_NOPTS_VALUE) start_pts_ = frame.best_effort_timestamp;
      time = double(frame.best_effort_timestamp - start_pts_) * av_q2d(time_base_);
    }
    const double duration = frame.pkt_duration > 0 ? frame.pkt_duration * av_q2d(time_base_) : 0;
    next_time_ = time + duration;
    const auto format = static_cast<AVPixelFormat>(frame.format);
    PixelOrder order;
    switch (format) {
      case AV_PIX_FMT_BGRA:
        order = PixelOrder::kBgra;
        break;
      case AV_PIX_FMT_RGBA:
        order = PixelOrder::kRgba;
        break;
      case AV_PIX_FMT_RGB24:
        order = PixelOrder::kRgb;
        break;
      case AV_PIX_FMT_BGR24:
        order = PixelOrder::kBgr;
        break;
      case AV_PIX_FMT_GRAY8:
        order = PixelOrder::kGray;
        break;
      default:
        return DeliverConverted(frame, format, time, duration);
    }
    if (frame.linesize[0] <= 0) return Corrupt("bottom-up frame rows");
    return sink_.Add(frame.data[0], frame.width, frame.height, size_t(frame.linesize[0]), order,
                     time, duration);
  }

 private:
  Status DeliverConverted(const AVFrame& frame, AVPixelFormat format, double time,
                          double duration) {
    SwsContext* cached = sws_getCachedContext(sws_.release(), frame.width, frame.height, format,
                                              frame.width, frame.height, AV_PIX_FMT_RGBA,
                                              SWS_BILINEAR, nullptr, nullptr, nullptr);
    sws_.reset(cached);
    if (!cached) {
      const char* name = av_get_pix_fmt_name(format);
      return Unsupported(std::string("pixel format ") + (name ? name : "unknown"));
    }
    const size_t stride = size_t(frame.width) * 4;
    rgba_.resize(stride * size_t(frame.height));
    uint8_t* planes[4] = {rgba_.data(), nullptr, nullptr, nullptr};
    int strides[4] = {static_cast<int>(stride), 0, 0, 0};
    sws_scale(cached, frame.data, frame.linesize, 0, frame.height, planes, strides);
    return sink_.Add(rgba_.data(), frame.width, frame.height, stride, PixelOrder::kRgba, time,
                     duration);
  }

  FrameSink& sink_;
  AVRational time_base_;
  int64_t start_pts_;
  double next_time_ = 0;
  SwsPtr sws_;
  std::vector<uint8_t> rgba_;
};

// Stops libavformat's blocking reads once the time budget is spent.
int InterruptWhenTimeUp(void* opaque) { return static_cast<FrameSink*>(opaque)->TimeUp() ? 1 : 0; }

}  // namespace

constexpr size_t kMaxFfmpegAllocation = size_t{256} << 20;

Status DecodeWithFfmpeg(std::span<const uint8_t> bytes, const Sniffed& sniffed, FrameSink& sink,
                        int* width, int* height) {
  static std::once_flag quiet_logs;
  std::call_once(quiet_logs, [] {
    av_log_set_level(AV_LOG_QUIET);
    // A 1.5 kB MP4 can declare 100 M samples of a constant size, and libavformat's mov
    // demuxer then allocates their index (gigabytes) before reading anything. Capping each
    // single FFmpeg allocation turns that into an error. 256 MiB still holds a frame of the
    // largest default canvas (40 M pixels x 4 bytes). Process-wide; only transform/ uses FFmpeg.
    av_max_alloc(kMaxFfmpegAllocation);
  });
  const std::string name = UpperName(sniffed.format);

  constexpr int kAvioBufferBytes = 64 * 1024;
  MemorySource source{bytes};
  auto* buffer = static_cast<uint8_t*>(av_malloc(kAvioBufferBytes));
  if (!buffer) return Internal("out of memory for the AVIO buffer");
  AvioPtr avio(avio_alloc_context(buffer, kAvioBufferBytes, 0, &source, &MemorySource::Read,
                                  nullptr, &MemorySource::Seek));
  if (!avio) {
    av_free(buffer);
    return Internal("avio_alloc_context failed");
  }
  // Declared after `avio`, so it is closed first (it reads through avio but does not own it).
  FormatPtr format(avformat_alloc_context());
  if (!format) return Internal("avformat_alloc_context failed");
  format->pb = avio.get();
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  format->interrupt_callback = {&InterruptWhenTimeUp, &sink};
  AVFormatContext* opened = format.release();
  const AVInputFormat* input = av_find_input_format(InputFormatName(sniffed.container));
  if (const int error = avformat_open_input(&opened, nullptr, input, nullptr); error < 0) {
    // avformat_open_input frees the context on failure.
    MEMES_RETURN_IF_ERROR(sink.CheckTime());
    return Corrupt("invalid " + name + ": " + FfmpegError(error));
  }
  format.reset(opened);

  const bool is_clip =
      sniffed.container == Container::kMp4 || sniffed.container == Container::kWebm;
  if (is_clip && avformat_find_stream_info(format.get(), nullptr) < 0) {
    MEMES_RETURN_IF_ERROR(sink.CheckTime());
    return Corrupt("invalid " + name + ": no stream information");
  }
  const AVCodec* decoder = nullptr;
  const int stream_index =
      av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (stream_index < 0 || !decoder) return Corrupt(name + " without a decodable video stream");
  const AVStream* stream = format->streams[stream_index];
  const AVCodecParameters* parameters = stream->codecpar;
  // png_pipe learns the size only when it decodes; its IHDR was checked already.
  const bool from_header = parameters->width <= 0 && sniffed.width > 0;
  *width = from_header ? sniffed.width : parameters->width;
  *height = from_header ? sniffed.height : parameters->height;
  if (*width <= 0 || *height <= 0) return Corrupt("zero-size canvas");
  if (uint64_t(*width) * uint64_t(*height) > sink.options().max_canvas_pixels) {
    return LimitExceeded("canvas " + std::to_string(*width) + "x" + std::to_string(*height) +
                         " exceeds limit");
  }

  CodecPtr codec(avcodec_alloc_context3(decoder));
  if (!codec) return Internal("avcodec_alloc_context3 failed");
  if (avcodec_parameters_to_context(codec.get(), parameters) < 0) {
    return Corrupt(name + ": bad codec parameters");
  }
  codec->thread_count = 1;  // parallelism comes from decoding many files at once
  if (const int error = avcodec_open2(codec.get(), decoder, nullptr); error < 0) {
    return Unsupported(name + ": cannot open decoder: " + FfmpegError(error));
  }

  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!packet || !frame) return Internal("out of memory for packets");
  FrameConverter converter(sink, stream->time_base, stream->start_time);

  // Receives every frame the decoder has ready.
  auto drain = [&]() -> Status {
    while (true) {
      const int received = avcodec_receive_frame(codec.get(), frame.get());
      if (received == AVERROR(EAGAIN) || received == AVERROR_EOF) return Status::Ok();
      if (received < 0) {
        return Corrupt("corrupt " + name + " data after frame " + std::to_string(sink.count()));
      }
      const Status delivered = converter.Deliver(*frame);
      av_frame_unref(frame.get());
      MEMES_RETURN_IF_ERROR(delivered);
    }
  };

  while (true) {
    MEMES_RETURN_IF_ERROR(sink.CheckTime());
    const int read = av_read_frame(format.get(), packet.get());
    if (read == AVERROR_EOF) break;
    if (read < 0) {
      MEMES_RETURN_IF_ERROR(sink.CheckTime());
      MEMES_RETURN_IF_ERROR(drain());
      return Corrupt("corrupt " + name + " container after frame " + std::to_string(sink.count()) +
                     ": " + FfmpegError(read));
    }
    if (packet->stream_index != stream_index) {
      av_packet_unref(packet.get());
      continue;
    }
    const int sent = avcodec_send_packet(codec.get(), packet.get());
    av_packet_unref(packet.get());
    if (sent < 0 && sent != AVERROR(EAGAIN)) {
      MEMES_RETURN_IF_ERROR(drain());
      return Corrupt("corrupt " + name + " data after frame " + std::to_string(sink.count()) +
                     ": " + FfmpegError(sent));
    }
    MEMES_RETURN_IF_ERROR(drain());
  }
  avcodec_send_packet(codec.get(), nullptr);  // flush frames the decoder still holds
  return drain();
}

}  // namespace memes::transform
