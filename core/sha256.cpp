#include "core/sha256.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace memes {

struct Sha256::Impl {
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  // Invariant: EVP_sha256 initialisation only fails on allocation failure, which is fatal.
  const int ok = EVP_DigestInit_ex(impl_->ctx.get(), EVP_sha256(), nullptr);
  assert(ok == 1);
  (void)ok;
}

Sha256::~Sha256() = default;

void Sha256::Update(std::span<const uint8_t> bytes) {
  EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size());
}

void Sha256::Update(std::string_view bytes) {
  EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size());
}

Digest Sha256::Finish() {
  Digest digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), digest.data(), &length);
  assert(length == digest.size());
  return digest;
}

Digest Sha256Of(std::span<const uint8_t> bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

Digest Sha256Of(std::string_view bytes) {
  Sha256 hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

Result<Digest> Sha256OfFile(const std::filesystem::path& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return IoError(std::string("cannot open: ") + std::strerror(errno), path.string());
  Sha256 hasher;
  std::array<uint8_t, 1 << 16> buffer;
  for (;;) {
    const size_t got = std::fread(buffer.data(), 1, buffer.size(), file.get());
    if (got > 0) hasher.Update(std::span<const uint8_t>(buffer.data(), got));
    if (got < buffer.size()) {
      if (std::ferror(file.get())) return IoError("read failed", path.string());
      break;
    }
  }
  return hasher.Finish();
}

std::string ToHex(const Digest& digest) {
  static const char* hex = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  return out;
}

}  // namespace memes
