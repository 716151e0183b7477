// transform_bench: files/s and frames/s of transform/ on real stickers (still PNG, JPEG,
// animated GIF; optionally Noto emoji PNGs), with 1 and 2 threads, against
//   (a) decode alone with the same libraries (FFmpeg for GIF/PNG/APNG/BMP, OpenCV imdecode at
//       full size for JPEG, libwebp for WebP): the floor; our overhead over it should stay
//       under 25%;
//   (b) a Python peer doing the same steps the way the original project did
//       (bench/peer_transform.py: PIL for GIF frames, OpenCV resize + rotate, NumPy records).
// Both sides do: decode, pick <= 4 frames, composite on white, fit 32x32 (pad, area), 4 exact
// rotations, append 3073-byte CIFAR records to a buffer.
//
//   build/bench/transform_bench [--emoji DIR] [--emoji-limit 1000] [--seconds 3]
//       [--peer bench/peer_transform.py | none] [--python python3]
// The peer needs python3 with PIL, OpenCV and NumPy (Debian: python3-pil python3-opencv
// python3-numpy; pass --python /usr/bin/python3 when another python3 comes first in PATH).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <webp/demux.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
}

#include "transform/frames.h"

namespace fs = std::filesystem;
using memes::transform::DecodeOptions;
using memes::transform::DecodeToFrames;

namespace {

struct File {
  std::string path;
  std::vector<uint8_t> bytes;
};

// ---- the floor: decode every frame with the same libraries, nothing else -------------------

struct Source {
  const std::vector<uint8_t>* bytes;
  size_t position = 0;
};
int ReadSource(void* opaque, uint8_t* buffer, int size) {
  auto* source = static_cast<Source*>(opaque);
  const size_t left = source->bytes->size() - source->position;
  if (left == 0) return AVERROR_EOF;
  const size_t count = std::min(left, size_t(size));
  std::memcpy(buffer, source->bytes->data() + source->position, count);
  source->position += count;
  return int(count);
}

int64_t SeekSource(void* opaque, int64_t offset, int whence) {
  auto* source = static_cast<Source*>(opaque);
  const auto size = static_cast<int64_t>(source->bytes->size());
  if (whence == AVSEEK_SIZE) return size;
  const int64_t target = (whence & ~AVSEEK_FORCE) == SEEK_CUR   ? int64_t(source->position) + offset
                         : (whence & ~AVSEEK_FORCE) == SEEK_END ? size + offset
                                                                : offset;
  if (target < 0 || target > size) return AVERROR(EINVAL);
  source->position = size_t(target);
  return target;
}

int DecodeFfmpegOnly(const std::vector<uint8_t>& bytes, const char* format_name) {
  Source source{&bytes};
  auto* buffer = static_cast<uint8_t*>(av_malloc(65536));
  AVIOContext* avio =
      avio_alloc_context(buffer, 65536, 0, &source, ReadSource, nullptr, SeekSource);
  AVFormatContext* format = avformat_alloc_context();
  format->pb = avio;
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  int frames = 0;
  if (avformat_open_input(&format, nullptr, av_find_input_format(format_name), nullptr) == 0) {
    const AVCodec* codec = nullptr;
    const int stream = av_find_best_stream(format, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    AVCodecContext* context = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(context, format->streams[stream]->codecpar);
    context->thread_count = 1;
    avcodec_open2(context, codec, nullptr);
    AVPacket* packet = av_packet_alloc();
    AVFrame* frame = av_frame_alloc();
    while (av_read_frame(format, packet) >= 0) {
      if (packet->stream_index == stream) avcodec_send_packet(context, packet);
      av_packet_unref(packet);
      while (avcodec_receive_frame(context, frame) == 0) ++frames;
    }
    avcodec_send_packet(context, nullptr);
    while (avcodec_receive_frame(context, frame) == 0) ++frames;
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&context);
    avformat_close_input(&format);
  } else {
    avformat_free_context(format);
  }
  av_freep(&avio->buffer);
  avio_context_free(&avio);
  return frames;
}

int DecodeOnly(const std::vector<uint8_t>& bytes) {
  auto starts = [&](const char* magic, size_t offset = 0) {
    const size_t n = std::strlen(magic);
    return bytes.size() >= offset + n && std::memcmp(bytes.data() + offset, magic, n) == 0;
  };
  if (starts("GIF8")) return DecodeFfmpegOnly(bytes, "gif");
  if (starts("RIFF") && starts("WEBP", 8)) {
    const WebPData data{bytes.data(), bytes.size()};
    WebPAnimDecoderOptions options;
    WebPAnimDecoderOptionsInit(&options);
    options.use_threads = 0;
    WebPAnimDecoder* decoder = WebPAnimDecoderNew(&data, &options);
    int frames = 0;
    uint8_t* canvas;
    int timestamp;
    while (decoder && WebPAnimDecoderGetNext(decoder, &canvas, &timestamp)) ++frames;
    WebPAnimDecoderDelete(decoder);
    return frames;
  }
  const bool is_png = starts("\x89PNG");
  if (is_png) {
    const char* actl = "acTL";
    const bool animated = std::search(bytes.begin(), bytes.end(), actl, actl + 4) != bytes.end();
    return DecodeFfmpegOnly(bytes, animated ? "apng" : "png_pipe");
  }
  if (starts("BM")) return DecodeFfmpegOnly(bytes, "bmp_pipe");
  const cv::Mat encoded(1, int(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
  return cv::imdecode(encoded, cv::IMREAD_COLOR).empty() ? 0 : 1;  // JPEG, full size
}

// ---- ours: the whole transform, plus rotations and record writing -------------------------

struct Counts {
  uint64_t files = 0, frames = 0, bytes_out = 0;
};

void TransformOne(const File& file, Counts& counts, std::vector<uint8_t>& records) {
  const auto decoded = DecodeToFrames(file.bytes, DecodeOptions{});
  ++counts.files;
  if (!decoded.ok()) return;
  for (const auto& frame : decoded->frames) {
    for (int turns = 0; turns < 4; ++turns) {
      const std::vector<uint8_t> rotated = memes::transform::RotatePlanar(frame.planar, 32, turns);
      records.push_back(0);  // label byte, then 3072 planar bytes: the CIFAR-10 record
      records.insert(records.end(), rotated.begin(), rotated.end());
    }
    ++counts.frames;
  }
  counts.bytes_out += records.size();
  records.clear();
}

void DecodeOnlyOne(const File& file, Counts& counts, std::vector<uint8_t>&) {
  ++counts.files;
  counts.frames += DecodeOnly(file.bytes);
}

struct Rate {
  double files_per_s = 0, frames_per_s = 0;
};

// Runs `work` over the files round after round on `threads` threads for >= `seconds`.
Rate Measure(const std::vector<File>& files, int threads, double seconds,
             const std::function<void(const File&, Counts&, std::vector<uint8_t>&)>& work) {
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::atomic<uint64_t> next{0};
  std::vector<Counts> counts(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::vector<uint8_t> records;
      while (true) {
        const uint64_t i = next.fetch_add(1);
        // Whole rounds only: stop at the first round boundary after the time is up.
        if (i % files.size() == 0 && i > 0 && std::chrono::steady_clock::now() >= end) {
          next.store(UINT64_MAX / 2);
          break;
        }
        if (i >= UINT64_MAX / 2) break;
        work(files[i % files.size()], counts[t], records);
      }
    });
  }
  for (auto& thread : pool) thread.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Counts total;
  for (const Counts& c : counts) total.files += c.files, total.frames += c.frames;
  return {total.files / elapsed, total.frames / elapsed};
}

std::vector<File> LoadFiles(const std::string& emoji_dir, size_t emoji_limit) {
  std::vector<std::string> paths;
  const fs::path pixbuf = "/usr/libexec/installed-tests/gdk-pixbuf";
  for (const fs::path& dir :
       {pixbuf, pixbuf / "test-images/reftests", pixbuf / "test-images/randomly-modified"}) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(dir, error)) {
      const std::string ext = entry.path().extension().string();
      const std::string name = entry.path().filename().string();
      if (name.find("ref.png") != std::string::npos) continue;  // reftest outputs, not inputs
      if (name.rfind("premature-end", 0) == 0 || name.rfind("bug", 0) == 0) continue;  // damaged
      if (ext == ".gif" || ext == ".png" || ext == ".jpg" || ext == ".jpeg") {
        paths.push_back(entry.path().string());
      }
    }
  }
  if (!emoji_dir.empty()) {
    std::vector<std::string> emoji;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(emoji_dir, error)) {
      if (entry.path().extension() == ".png") emoji.push_back(entry.path().string());
    }
    std::sort(emoji.begin(), emoji.end());
    if (emoji.size() > emoji_limit) emoji.resize(emoji_limit);
    paths.insert(paths.end(), emoji.begin(), emoji.end());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<File> files;
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    File file{path, {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()}};
    // Only files both sides can decode within the default limits (large.jpg is 22500x33300).
    if (!DecodeToFrames(file.bytes, DecodeOptions{}).ok()) continue;
    files.push_back(std::move(file));
  }
  return files;
}

Rate RunPeer(const std::string& python, const std::string& peer, const std::vector<File>& files,
             int threads, double seconds) {
  const fs::path list = fs::temp_directory_path() / "transform_bench_files.txt";
  {
    std::ofstream out(list);
    for (const File& file : files) out << file.path << "\n";
  }
  const std::string command = python + " " + peer + " --threads " + std::to_string(threads) +
                              " --seconds " + std::to_string(seconds) + " " + list.string();
  Rate rate;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return rate;
  char line[512];
  while (std::fgets(line, sizeof line, pipe)) {
    std::sscanf(line, "files_per_s=%lf frames_per_s=%lf", &rate.files_per_s, &rate.frames_per_s);
  }
  pclose(pipe);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  std::string emoji_dir, peer = "bench/peer_transform.py", python = "python3";
  double seconds = 3;
  size_t emoji_limit = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--emoji") emoji_dir = argv[i + 1];
    if (flag == "--emoji-limit") emoji_limit = std::stoul(argv[i + 1]);
    if (flag == "--seconds") seconds = std::stod(argv[i + 1]);
    if (flag == "--peer") peer = argv[i + 1];
    if (flag == "--python") python = argv[i + 1];
  }
  av_log_set_level(AV_LOG_QUIET);
  const std::vector<File> files = LoadFiles(emoji_dir, emoji_limit);
  size_t gifs = 0, pngs = 0, jpegs = 0, total_bytes = 0;
  for (const File& file : files) {
    const auto format = memes::transform::SniffFormat(file.bytes);
    gifs += *format == "gif", pngs += *format == "png", jpegs += *format == "jpeg";
    total_bytes += file.bytes.size();
  }
  std::printf("transform_bench: %zu files (%zu GIF, %zu PNG, %zu JPEG), %.1f MB; %.0f s per run\n",
              files.size(), gifs, pngs, jpegs, total_bytes / 1e6, seconds);
  if (files.empty()) return 1;
  std::printf("%-8s %-22s %12s %12s %s\n", "threads", "what", "files/s", "frames/s", "ratio");
  for (const int threads : {1, 2}) {
    const Rate floor = Measure(files, threads, seconds, DecodeOnlyOne);
    const Rate ours = Measure(files, threads, seconds, TransformOne);
    const Rate peer_rate = peer == "none" ? Rate{} : RunPeer(python, peer, files, threads, seconds);
    std::printf("%-8d %-22s %12.1f %12.1f\n", threads, "decode alone (floor)", floor.files_per_s,
                floor.frames_per_s);
    std::printf("%-8d %-22s %12.1f %12.1f overhead over floor %+.1f%%\n", threads,
                "memes transform", ours.files_per_s, ours.frames_per_s,
                100.0 * (floor.files_per_s / ours.files_per_s - 1.0));
    if (peer_rate.files_per_s > 0) {
      std::printf("%-8d %-22s %12.1f %12.1f memes is %.2fx the peer\n", threads, "python peer",
                  peer_rate.files_per_s, peer_rate.frames_per_s,
                  ours.files_per_s / peer_rate.files_per_s);
    }
  }
  // Where the time goes, by format, on one thread.
  for (const char* format : {"gif", "png", "jpeg"}) {
    std::vector<File> subset;
    for (const File& file : files) {
      if (*memes::transform::SniffFormat(file.bytes) == format) subset.push_back(file);
    }
    if (subset.empty()) continue;
    // Alternating short runs, so a change in the machine's load hits both sides alike.
    Rate floor, ours;
    const int rounds = 10;
    for (int round = 0; round < rounds; ++round) {
      const Rate f = Measure(subset, 1, seconds / (2 * rounds), DecodeOnlyOne);
      const Rate o = Measure(subset, 1, seconds / (2 * rounds), TransformOne);
      floor.files_per_s += f.files_per_s / rounds, ours.files_per_s += o.files_per_s / rounds;
    }
    std::printf("1        %-5s only: floor %8.1f files/s, memes %8.1f files/s, overhead %+.1f%%\n",
                format, floor.files_per_s, ours.files_per_s,
                100.0 * (floor.files_per_s / ours.files_per_s - 1.0));
  }
  return 0;
}
