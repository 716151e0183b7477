// TLS is verified: a server with a self-signed certificate is refused (kTls), never trusted.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "ingest/fetcher.h"

namespace memes::ingest {
namespace {

namespace fs = std::filesystem;

// Writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
bool WriteSelfSigned(const fs::path& cert_path, const fs::path& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) return false;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  bool ok = X509_sign(cert, key, EVP_sha256()) > 0;
  FILE* cert_file = std::fopen(cert_path.c_str(), "w");
  FILE* key_file = std::fopen(key_path.c_str(), "w");
  ok = ok && cert_file && key_file && PEM_write_X509(cert_file, cert) &&
       PEM_write_PrivateKey(key_file, key, nullptr, nullptr, 0, nullptr, nullptr);
  if (cert_file) std::fclose(cert_file);
  if (key_file) std::fclose(key_file);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

TEST(FetcherTls, SelfSignedCertificateIsRefused) {
  const fs::path dir = fs::temp_directory_path() / ("memes_tls_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ASSERT_TRUE(WriteSelfSigned(dir / "cert.pem", dir / "key.pem"));
  httplib::SSLServer server((dir / "cert.pem").c_str(), (dir / "key.pem").c_str());
  ASSERT_TRUE(server.is_valid());
  server.Get("/a.png", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("PNG", "image/png");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread thread([&] { server.listen_after_bind(); });
  for (int i = 0; i < 500 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }

  FetchSettings settings;
  settings.allow_private_hosts = {"127.0.0.1"};
  settings.retries = 0;
  settings.obey_robots = false;
  settings.connect_timeout_ms = 2000;
  settings.total_timeout_ms = 5000;
  Fetcher fetcher(settings);
  const FetchResult result =
      fetcher.Fetch(FetchRequest("https://127.0.0.1:" + std::to_string(port) + "/a.png"));
  EXPECT_EQ(result.error, FetchError::kTls) << result.status.ToString();
  EXPECT_TRUE(result.body.empty());

  server.stop();
  thread.join();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace memes::ingest
