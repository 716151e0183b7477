#include "pipelines/demo_encode.h"

#include <memory>

#include <webp/encode.h>
#include <webp/mux.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
}

namespace memes::pipelines::demo {
namespace {

struct FormatContextDeleter {
  void operator()(AVFormatContext* context) const { avformat_free_context(context); }
};
struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const { avcodec_free_context(&context); }
};
struct IoContextDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct FrameDeleter {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct PacketDeleter {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct SwsDeleter {
  void operator()(SwsContext* context) const { sws_freeContext(context); }
};
struct AnimEncoderDeleter {
  void operator()(WebPAnimEncoder* encoder) const { WebPAnimEncoderDelete(encoder); }
};

Status AvError(int code, const char* what) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return Internal(std::string(what) + ": " + text);
}

int WriteToString(void* opaque, uint8_t* data, int size) {
  static_cast<std::string*>(opaque)->append(reinterpret_cast<const char*>(data), size);
  return size;
}

// Sends `frame` (null to flush) and writes every packet the encoder returns.
Status EncodeAndWrite(AVCodecContext* codec, AVFormatContext* format, AVStream* stream,
                      AVFrame* frame, AVPacket* packet) {
  int rc = avcodec_send_frame(codec, frame);
  if (rc < 0) return AvError(rc, "gif encoder");
  for (;;) {
    rc = avcodec_receive_packet(codec, packet);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return Status::Ok();
    if (rc < 0) return AvError(rc, "gif encoder");
    av_packet_rescale_ts(packet, codec->time_base, stream->time_base);
    packet->stream_index = stream->index;
    rc = av_interleaved_write_frame(format, packet);
    if (rc < 0) return AvError(rc, "gif muxer");
  }
}

}  // namespace

cv::Mat OnWhite(const cv::Mat& bgra) {
  cv::Mat out(bgra.size(), CV_8UC3);
  for (int y = 0; y < bgra.rows; ++y) {
    const cv::Vec4b* in = bgra.ptr<cv::Vec4b>(y);
    cv::Vec3b* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < bgra.cols; ++x) {
      const int a = in[x][3];
      for (int c = 0; c < 3; ++c)
        o[x][c] = static_cast<uint8_t>((in[x][c] * a + 255 * (255 - a)) / 255);
    }
  }
  return out;
}

Result<std::string> EncodePng(const cv::Mat& bgra) {
  std::vector<uint8_t> bytes;
  if (!cv::imencode(".png", bgra, bytes)) return Internal("PNG encoding failed");
  return std::string(bytes.begin(), bytes.end());
}

Result<std::string> EncodeJpeg(const cv::Mat& bgra, int quality) {
  std::vector<uint8_t> bytes;
  if (!cv::imencode(".jpg", OnWhite(bgra), bytes, {cv::IMWRITE_JPEG_QUALITY, quality})) {
    return Internal("JPEG encoding failed");
  }
  return std::string(bytes.begin(), bytes.end());
}

Result<std::string> EncodeGif(const std::vector<cv::Mat>& bgra_frames, int delay_ms) {
  if (bgra_frames.empty()) return InvalidArgument("no frames to encode");
  const int width = bgra_frames[0].cols, height = bgra_frames[0].rows;
  std::string out;

  AVFormatContext* raw_format = nullptr;
  if (avformat_alloc_output_context2(&raw_format, nullptr, "gif", nullptr) < 0 || !raw_format) {
    return Internal("FFmpeg has no GIF muxer");
  }
  std::unique_ptr<AVFormatContext, FormatContextDeleter> format(raw_format);
  auto* io_buffer = static_cast<uint8_t*>(av_malloc(1 << 16));
  std::unique_ptr<AVIOContext, IoContextDeleter> io(
      avio_alloc_context(io_buffer, 1 << 16, 1, &out, nullptr, WriteToString, nullptr));
  format->pb = io.get();
  format->flags |= AVFMT_FLAG_CUSTOM_IO;

  const AVCodec* encoder = avcodec_find_encoder(AV_CODEC_ID_GIF);
  if (!encoder) return Internal("FFmpeg has no GIF encoder");
  std::unique_ptr<AVCodecContext, CodecContextDeleter> codec(avcodec_alloc_context3(encoder));
  codec->width = width;
  codec->height = height;
  // RGB8 (3:3:2) needs no palette of our own; swscale dithers into it.
  codec->pix_fmt = AV_PIX_FMT_RGB8;
  codec->time_base = {1, 100};  // GIF delays are in centiseconds
  if (int rc = avcodec_open2(codec.get(), encoder, nullptr); rc < 0) {
    return AvError(rc, "gif encoder");
  }
  AVStream* stream = avformat_new_stream(format.get(), nullptr);
  avcodec_parameters_from_context(stream->codecpar, codec.get());
  stream->time_base = codec->time_base;
  if (int rc = avformat_write_header(format.get(), nullptr); rc < 0) {
    return AvError(rc, "gif muxer");
  }

  std::unique_ptr<SwsContext, SwsDeleter> scaler(
      sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height, AV_PIX_FMT_RGB8, SWS_POINT,
                     nullptr, nullptr, nullptr));
  std::unique_ptr<AVFrame, FrameDeleter> frame(av_frame_alloc());
  std::unique_ptr<AVPacket, PacketDeleter> packet(av_packet_alloc());
  frame->format = AV_PIX_FMT_RGB8;
  frame->width = width;
  frame->height = height;
  if (av_frame_get_buffer(frame.get(), 0) < 0) return Internal("out of memory");
  const int delay_cs = std::max(2, delay_ms / 10);
  for (size_t i = 0; i < bgra_frames.size(); ++i) {
    const cv::Mat bgr = OnWhite(bgra_frames[i]);
    av_frame_make_writable(frame.get());
    const uint8_t* source[1] = {bgr.data};
    const int source_stride[1] = {static_cast<int>(bgr.step)};
    sws_scale(scaler.get(), source, source_stride, 0, height, frame->data, frame->linesize);
    frame->pts = static_cast<int64_t>(i) * delay_cs;
    MEMES_RETURN_IF_ERROR(
        EncodeAndWrite(codec.get(), format.get(), stream, frame.get(), packet.get()));
  }
  MEMES_RETURN_IF_ERROR(EncodeAndWrite(codec.get(), format.get(), stream, nullptr, packet.get()));
  if (int rc = av_write_trailer(format.get()); rc < 0) return AvError(rc, "gif muxer");
  avio_flush(io.get());
  return out;
}

Result<std::string> EncodeAnimatedWebp(const std::vector<cv::Mat>& bgra_frames, int delay_ms,
                                       int quality) {
  if (bgra_frames.empty()) return InvalidArgument("no frames to encode");
  const int width = bgra_frames[0].cols, height = bgra_frames[0].rows;
  WebPAnimEncoderOptions options;
  if (!WebPAnimEncoderOptionsInit(&options)) return Internal("libwebp version mismatch");
  std::unique_ptr<WebPAnimEncoder, AnimEncoderDeleter> encoder(
      WebPAnimEncoderNew(width, height, &options));
  if (!encoder) return Internal("WebPAnimEncoderNew failed");
  WebPConfig config;
  if (!WebPConfigInit(&config)) return Internal("libwebp version mismatch");
  config.quality = static_cast<float>(quality);
  int timestamp = 0;
  for (const cv::Mat& bgra : bgra_frames) {
    WebPPicture picture;
    if (!WebPPictureInit(&picture)) return Internal("libwebp version mismatch");
    picture.width = width;
    picture.height = height;
    picture.use_argb = 1;
    const bool imported =
        WebPPictureImportBGRA(&picture, bgra.data, static_cast<int>(bgra.step)) != 0;
    const bool added = imported && WebPAnimEncoderAdd(encoder.get(), &picture, timestamp, &config);
    WebPPictureFree(&picture);
    if (!added) return Internal("WebPAnimEncoderAdd failed");
    timestamp += delay_ms;
  }
  WebPAnimEncoderAdd(encoder.get(), nullptr, timestamp, nullptr);
  WebPData data;
  WebPDataInit(&data);
  if (!WebPAnimEncoderAssemble(encoder.get(), &data)) return Internal("WebP assembly failed");
  std::string out(reinterpret_cast<const char*>(data.bytes), data.size);
  WebPDataClear(&data);
  return out;
}

}  // namespace memes::pipelines::demo
