#include "transform/sniff.h"

#include <cstdio>
#include <cstring>

#include <webp/decode.h>

namespace memes::transform {
namespace {

uint32_t ReadBe32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t ReadBe16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint16_t ReadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
int32_t ReadLe32(const uint8_t* p) {
  return static_cast<int32_t>(uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) |
                              (uint32_t{p[3]} << 24));
}

bool StartsWith(std::span<const uint8_t> bytes, const char* magic, size_t offset = 0) {
  const size_t length = std::strlen(magic);
  return bytes.size() >= offset + length && std::memcmp(bytes.data() + offset, magic, length) == 0;
}

// PNG: IHDR is the first chunk; an acTL chunk before the first IDAT makes it an APNG.
Result<Sniffed> SniffPng(std::span<const uint8_t> bytes) {
  if (bytes.size() < 24 || !StartsWith(bytes, "IHDR", 12)) {
    return Corrupt("PNG header cut short or without IHDR");
  }
  Sniffed sniffed{Container::kPng, "png", 0, 0};
  const uint32_t width = ReadBe32(bytes.data() + 16);
  const uint32_t height = ReadBe32(bytes.data() + 20);
  if (width > 0x7fffffff || height > 0x7fffffff) return Corrupt("PNG dimensions out of range");
  sniffed.width = static_cast<int>(width);
  sniffed.height = static_cast<int>(height);
  size_t offset = 8;
  while (offset + 8 <= bytes.size()) {
    const uint32_t length = ReadBe32(bytes.data() + offset);
    const uint8_t* type = bytes.data() + offset + 4;
    if (std::memcmp(type, "acTL", 4) == 0) {
      sniffed.container = Container::kApng;
      sniffed.format = "apng";
      break;
    }
    if (std::memcmp(type, "IDAT", 4) == 0) break;
    if (length > bytes.size()) break;
    offset += size_t{length} + 12;
  }
  return sniffed;
}

// JPEG: walk the marker segments to the first SOFn (not DHT C4, JPG C8, DAC CC).
Result<Sniffed> SniffJpeg(std::span<const uint8_t> bytes) {
  size_t offset = 2;
  while (offset + 4 <= bytes.size()) {
    if (bytes[offset] != 0xFF)
      return Corrupt("JPEG marker expected at byte " + std::to_string(offset));
    const uint8_t marker = bytes[offset + 1];
    if (marker == 0xFF) {  // fill byte
      ++offset;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      offset += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // end of image / start of scan before a SOF
    const uint16_t length = ReadBe16(bytes.data() + offset + 2);
    const bool is_sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof) {
      if (offset + 9 > bytes.size()) break;
      const int height = ReadBe16(bytes.data() + offset + 5);
      const int width = ReadBe16(bytes.data() + offset + 7);
      return Sniffed{Container::kJpeg, "jpeg", width, height};
    }
    if (length < 2) return Corrupt("JPEG segment of length " + std::to_string(length));
    offset += size_t{length} + 2;
  }
  return Corrupt("JPEG without a frame header (SOF)");
}

Result<Sniffed> SniffWebp(std::span<const uint8_t> bytes) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(bytes.data(), bytes.size(), &features) != VP8_STATUS_OK) {
    return Corrupt("WebP header cut short or invalid");
  }
  return Sniffed{Container::kWebp, "webp", features.width, features.height};
}

Result<Sniffed> SniffBmp(std::span<const uint8_t> bytes) {
  if (bytes.size() < 26) return Corrupt("BMP header cut short");
  const int32_t header_size = ReadLe32(bytes.data() + 14);
  if (header_size == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit dimensions
    return Sniffed{Container::kBmp, "bmp", ReadLe16(bytes.data() + 18),
                   ReadLe16(bytes.data() + 20)};
  }
  const int64_t width = ReadLe32(bytes.data() + 18);
  int64_t height = ReadLe32(bytes.data() + 22);
  if (height < 0) height = -height;  // top-down rows
  if (width < 0 || width > 0x7fffffff || height > 0x7fffffff) {
    return Corrupt("BMP dimensions out of range");
  }
  return Sniffed{Container::kBmp, "bmp", static_cast<int>(width), static_cast<int>(height)};
}

}  // namespace

std::string DescribeFirstBytes(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return "empty file";
  std::string text = "first bytes";
  const size_t shown = std::min<size_t>(bytes.size(), 8);
  for (size_t i = 0; i < shown; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, " %02x", bytes[i]);
    text += hex;
  }
  return text;
}

Result<Sniffed> Sniff(std::span<const uint8_t> bytes) {
  if (StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a")) {
    if (bytes.size() < 10) return Corrupt("truncated GIF header");
    return Sniffed{Container::kGif, "gif", ReadLe16(bytes.data() + 6), ReadLe16(bytes.data() + 8)};
  }
  if (StartsWith(bytes, "\x89PNG\r\n\x1a\n")) return SniffPng(bytes);
  if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return SniffJpeg(bytes);
  }
  if (StartsWith(bytes, "RIFF") && StartsWith(bytes, "WEBP", 8)) return SniffWebp(bytes);
  if (StartsWith(bytes, "BM")) return SniffBmp(bytes);
  if (StartsWith(bytes, "ftyp", 4)) return Sniffed{Container::kMp4, "mp4", 0, 0};
  if (StartsWith(bytes, "\x1a\x45\xdf\xa3")) return Sniffed{Container::kWebm, "webm", 0, 0};
  return Unsupported("unsupported format (" + DescribeFirstBytes(bytes) + ")");
}

GifLayout ScanGif(std::span<const uint8_t> bytes) {
  GifLayout layout;
  const size_t size = bytes.size();
  auto skip_sub_blocks = [&](size_t& offset) {  // false when the data runs out
    while (offset < size) {
      const uint8_t length = bytes[offset];
      offset += size_t{length} + 1;
      if (length == 0) return offset <= size;
    }
    return false;
  };
  size_t offset = 13;
  int next_delay = 0;
  if (size < offset) {
    layout.truncated = true;
    return layout;
  }
  if (bytes[10] & 0x80) offset += 3 * (size_t{1} << ((bytes[10] & 7) + 1));  // global table
  while (true) {
    if (offset >= size) {
      layout.truncated = true;
      return layout;
    }
    const uint8_t introducer = bytes[offset];
    if (introducer == 0x3B) return layout;  // trailer
    if (introducer == 0x21) {               // extension: label, then sub-blocks
      if (offset + 6 <= size && bytes[offset + 1] == 0xF9 && bytes[offset + 2] >= 4) {
        next_delay = ReadLe16(bytes.data() + offset + 4);  // graphic control: delay (1/100 s)
      }
      offset += 2;
      if (!skip_sub_blocks(offset)) {
        layout.truncated = true;
        return layout;
      }
    } else if (introducer == 0x2C) {  // image descriptor, local table, LZW size, sub-blocks
      if (offset + 10 > size) {
        layout.truncated = true;
        return layout;
      }
      const uint8_t flags = bytes[offset + 9];
      offset += 10;
      if (flags & 0x80) offset += 3 * (size_t{1} << ((flags & 7) + 1));
      offset += 1;  // LZW minimum code size
      if (!skip_sub_blocks(offset)) {
        layout.truncated = true;
        return layout;
      }
      ++layout.images;
      layout.start_seconds.push_back(layout.end_seconds);
      layout.end_seconds += (next_delay < 2 ? 10 : next_delay) / 100.0;
      next_delay = 0;
    } else {
      layout.malformed = true;
      return layout;
    }
  }
}

}  // namespace memes::transform
