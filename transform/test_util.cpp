#include "transform/test_util.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

#include <webp/encode.h>
#include <webp/mux.h>
#include <zlib.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
}

namespace memes::transform::testing {

std::filesystem::path PixbufImages() {
  return "/usr/libexec/installed-tests/gdk-pixbuf/test-images";
}

std::filesystem::path PixbufTests() { return "/usr/libexec/installed-tests/gdk-pixbuf"; }

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<uint8_t> Encode(const cv::Mat& image, const std::string& extension) {
  std::vector<uint8_t> bytes;
  cv::imencode(extension, image, bytes);
  return bytes;
}

namespace {
void PutBe32(std::vector<uint8_t>& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(value >> shift));
}
void PutBe16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(uint8_t(value >> 8));
  out.push_back(uint8_t(value));
}
}  // namespace

PngWriter::PngWriter(int width, int height, int color_type) : width_(width), height_(height) {
  channels_ = color_type == 2 ? 3 : color_type == 4 ? 2 : color_type == 6 ? 4 : 1;
  const uint8_t signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  bytes_.assign(signature, signature + 8);
  std::vector<uint8_t> header;
  PutBe32(header, uint32_t(width));
  PutBe32(header, uint32_t(height));
  for (const uint8_t byte : {uint8_t{8}, uint8_t(color_type), uint8_t{0}, uint8_t{0}, uint8_t{0}}) {
    header.push_back(byte);  // depth, colour type, compression, filter, interlace
  }
  Chunk("IHDR", header);
}

void PngWriter::Chunk(const char type[4], const std::vector<uint8_t>& data) {
  PutBe32(bytes_, uint32_t(data.size()));
  const size_t type_at = bytes_.size();
  bytes_.insert(bytes_.end(), type, type + 4);
  bytes_.insert(bytes_.end(), data.begin(), data.end());
  PutBe32(bytes_, uint32_t(crc32(0, bytes_.data() + type_at, uInt(data.size() + 4))));
}

std::vector<uint8_t> PngWriter::ImageData(const std::vector<uint8_t>& pixels, int width,
                                          int height) const {
  std::vector<uint8_t> raw;
  const size_t row = size_t(width) * channels_;
  for (int y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), pixels.begin() + y * row, pixels.begin() + (y + 1) * row);
  }
  uLongf length = compressBound(uLong(raw.size()));
  std::vector<uint8_t> compressed(length);
  compress(compressed.data(), &length, raw.data(), uLong(raw.size()));
  compressed.resize(length);
  return compressed;
}

void PngWriter::AnimationControl(int frames) {
  std::vector<uint8_t> data;
  PutBe32(data, uint32_t(frames));
  PutBe32(data, 0);  // loop forever
  Chunk("acTL", data);
}

void PngWriter::FrameControl(int width, int height, int delay_ms, int dispose, int blend) {
  std::vector<uint8_t> data;
  PutBe32(data, sequence_++);
  PutBe32(data, uint32_t(width));
  PutBe32(data, uint32_t(height));
  PutBe32(data, 0);  // x offset
  PutBe32(data, 0);  // y offset
  PutBe16(data, uint16_t(delay_ms));
  PutBe16(data, 1000);
  data.push_back(uint8_t(dispose));
  data.push_back(uint8_t(blend));
  Chunk("fcTL", data);
}

void PngWriter::FrameData(const std::vector<uint8_t>& pixels, int width, int height) {
  const std::vector<uint8_t> image = ImageData(pixels, width, height);
  std::vector<uint8_t> data(4 + image.size());
  const uint32_t sequence = sequence_++;
  for (int i = 0; i < 4; ++i) data[i] = uint8_t(sequence >> (24 - 8 * i));
  std::copy(image.begin(), image.end(), data.begin() + 4);
  Chunk("fdAT", data);
}

std::vector<uint8_t> PngWriter::Finish() {
  Chunk("IEND", {});
  return bytes_;
}

std::vector<uint8_t> EncodeAnimatedWebp(const std::vector<cv::Mat>& rgba_frames, int delay_ms) {
  const int width = rgba_frames.at(0).cols, height = rgba_frames.at(0).rows;
  WebPAnimEncoderOptions options;
  WebPAnimEncoderOptionsInit(&options);
  std::unique_ptr<WebPAnimEncoder, void (*)(WebPAnimEncoder*)> encoder(
      WebPAnimEncoderNew(width, height, &options), WebPAnimEncoderDelete);
  WebPConfig config;
  WebPConfigInit(&config);
  config.lossless = 1;
  int timestamp = 0;
  for (const cv::Mat& frame : rgba_frames) {
    WebPPicture picture;
    WebPPictureInit(&picture);
    picture.use_argb = 1;
    picture.width = width;
    picture.height = height;
    WebPPictureImportRGBA(&picture, frame.data, int(frame.step[0]));
    WebPAnimEncoderAdd(encoder.get(), &picture, timestamp, &config);
    WebPPictureFree(&picture);
    timestamp += delay_ms;
  }
  WebPAnimEncoderAdd(encoder.get(), nullptr, timestamp, nullptr);
  WebPData data;
  WebPDataInit(&data);
  WebPAnimEncoderAssemble(encoder.get(), &data);
  std::vector<uint8_t> bytes(data.bytes, data.bytes + data.size);
  WebPDataClear(&data);
  return bytes;
}

std::vector<uint8_t> EncodeMp4(const std::vector<cv::Mat>& bgr_frames, int fps) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MPEG4);
  if (!codec) return {};
  const int width = bgr_frames.at(0).cols, height = bgr_frames.at(0).rows;
  AVFormatContext* format = nullptr;
  avformat_alloc_output_context2(&format, nullptr, "mp4", nullptr);
  if (!format) return {};
  AVStream* stream = avformat_new_stream(format, nullptr);
  AVCodecContext* context = avcodec_alloc_context3(codec);
  context->width = width;
  context->height = height;
  context->pix_fmt = AV_PIX_FMT_YUV420P;
  context->time_base = {1, fps};
  context->framerate = {fps, 1};
  context->gop_size = 1;
  context->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  avcodec_open2(context, codec, nullptr);
  avcodec_parameters_from_context(stream->codecpar, context);
  stream->time_base = context->time_base;
  avio_open_dyn_buf(&format->pb);
  AVDictionary* muxer_options = nullptr;
  av_dict_set(&muxer_options, "movflags", "frag_keyframe+empty_moov", 0);
  if (avformat_write_header(format, &muxer_options) < 0) return {};
  av_dict_free(&muxer_options);

  AVFrame* frame = av_frame_alloc();
  frame->format = AV_PIX_FMT_YUV420P;
  frame->width = width;
  frame->height = height;
  av_frame_get_buffer(frame, 0);
  SwsContext* sws = sws_getContext(width, height, AV_PIX_FMT_BGR24, width, height,
                                   AV_PIX_FMT_YUV420P, SWS_BILINEAR, nullptr, nullptr, nullptr);
  AVPacket* packet = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(context, packet) == 0) {
      av_packet_rescale_ts(packet, context->time_base, stream->time_base);
      packet->stream_index = stream->index;
      av_interleaved_write_frame(format, packet);
    }
  };
  for (size_t i = 0; i < bgr_frames.size(); ++i) {
    av_frame_make_writable(frame);
    const uint8_t* source[1] = {bgr_frames[i].data};
    const int source_stride[1] = {int(bgr_frames[i].step[0])};
    sws_scale(sws, source, source_stride, 0, height, frame->data, frame->linesize);
    frame->pts = int64_t(i);
    avcodec_send_frame(context, frame);
    drain();
  }
  avcodec_send_frame(context, nullptr);
  drain();
  av_write_trailer(format);
  uint8_t* buffer = nullptr;
  const int size = avio_close_dyn_buf(format->pb, &buffer);
  std::vector<uint8_t> bytes(buffer, buffer + size);
  av_free(buffer);
  av_packet_free(&packet);
  sws_freeContext(sws);
  av_frame_free(&frame);
  avcodec_free_context(&context);
  avformat_free_context(format);
  return bytes;
}

std::vector<uint8_t> ExifOrientationSegment(uint16_t orientation) {
  const auto high = static_cast<uint8_t>(orientation >> 8);
  const auto low = static_cast<uint8_t>(orientation & 0xFF);
  return {0xFF, 0xE1, 0x00, 34,   'E', 'x', 'i', 'f', 0, 0, 'M',  'M', 0, 42, 0, 0, 0, 8,
          0,    1,    0x01, 0x12, 0,   3,   0,   0,   0, 1, high, low, 0, 0,  0, 0, 0, 0};
}

}  // namespace memes::transform::testing
