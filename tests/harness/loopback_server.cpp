#include "tests/harness/loopback_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <httplib.h>

namespace memes::testing {
namespace {

std::string ContentTypeFor(const std::filesystem::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".gif", "image/gif"},   {".png", "image/png"},        {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"}, {".webp", "image/webp"},      {".bmp", "image/bmp"},
      {".html", "text/html; charset=utf-8"}, {".json", "application/json"},
      {".txt", "text/plain"},  {".mp4", "video/mp4"},        {".webm", "video/webm"}};
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// Sleeps in short steps so a stopping server is not held up by a long fault.
void InterruptibleSleep(std::chrono::milliseconds total, const std::atomic<bool>& stopping) {
  const auto deadline = std::chrono::steady_clock::now() + total;
  while (!stopping.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(10), deadline - std::chrono::steady_clock::now()));
  }
}

}  // namespace

LoopbackServer::LoopbackServer() : server_(std::make_unique<httplib::Server>()) {
  // Benchmarks keep 64+ transfers in flight, each parked in a delayed handler: the pool must be
  // larger than that or the server, not the client, sets the pace.
  server_->new_task_queue = [] { return new httplib::ThreadPool(128); };
  server_->set_keep_alive_max_count(1000);
  // Like production servers (nginx's tcp_nodelay on): without it, Nagle holding the body behind
  // the unacknowledged headers meets the client's 40 ms delayed ACK, and a "+100 ms" server
  // answers in 140 ms.
  server_->set_tcp_nodelay(true);
  auto dispatch = [this](const httplib::Request& request, httplib::Response& response) {
    const int now = in_flight_.fetch_add(1) + 1;
    int peak = peak_in_flight_.load();
    while (now > peak && !peak_in_flight_.compare_exchange_weak(peak, now)) {
    }
    total_hits_.fetch_add(1);
    Handler handler;
    {
      std::lock_guard lock(mutex_);
      ++hits_[request.path];
      last_user_agent_ = request.get_header_value("User-Agent");
      auto it = routes_.find(request.path);
      if (it != routes_.end()) handler = it->second;
    }
    if (const int64_t latency = latency_ms_.load(); latency > 0) {
      InterruptibleSleep(std::chrono::milliseconds(latency), stopping_);
    }
    if (handler) {
      handler(request, response);
    } else {
      response.status = 404;
      response.set_content("not found: " + request.path, "text/plain");
    }
    in_flight_.fetch_sub(1);
  };
  server_->Get(".*", dispatch);
  port_ = server_->bind_to_any_port("127.0.0.1");
  if (port_ <= 0) {
    std::fprintf(stderr, "LoopbackServer: cannot bind 127.0.0.1\n");
    std::abort();
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  for (int i = 0; i < 500 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  StartResetListener();
}

LoopbackServer::~LoopbackServer() {
  stopping_.store(true);
  server_->stop();
  if (thread_.joinable()) thread_.join();
  if (reset_fd_ >= 0) ::shutdown(reset_fd_, SHUT_RDWR);
  if (reset_thread_.joinable()) reset_thread_.join();
  if (reset_fd_ >= 0) ::close(reset_fd_);
}

void LoopbackServer::StartResetListener() {
  reset_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (reset_fd_ < 0 || ::bind(reset_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) ||
      ::listen(reset_fd_, 64) ||
      ::getsockname(reset_fd_, reinterpret_cast<sockaddr*>(&address), &length)) {
    std::fprintf(stderr, "LoopbackServer: cannot start the reset listener\n");
    std::abort();
  }
  reset_port_ = ntohs(address.sin_port);
  reset_thread_ = std::thread([this] {
    while (!stopping_.load()) {
      pollfd pfd{reset_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, 50) <= 0) continue;
      const int client = ::accept(reset_fd_, nullptr, nullptr);
      if (client < 0) continue;
      total_hits_.fetch_add(1);
      // Read the request so the client is past connect and waiting for an answer, then close
      // with SO_LINGER 0: the kernel sends RST, which the client sees as "connection reset".
      char buffer[4096];
      pollfd cfd{client, POLLIN, 0};
      if (::poll(&cfd, 1, 1000) > 0) (void)::recv(client, buffer, sizeof buffer, 0);
      linger hard{1, 0};
      ::setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
      ::close(client);
    }
  });
}

std::string LoopbackServer::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

std::string LoopbackServer::ResetUrl(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(reset_port_) + path;
}

void LoopbackServer::Route(const std::string& path, Handler handler) {
  std::lock_guard lock(mutex_);
  routes_[path] = std::move(handler);
}

void LoopbackServer::Handle(const std::string& path, Handler handler) {
  Route(path, std::move(handler));
}

void LoopbackServer::ServeBytes(const std::string& path, std::string body,
                                std::string content_type) {
  Route(path, [body = std::move(body), content_type = std::move(content_type)](
                  const httplib::Request&, httplib::Response& response) {
    response.set_content(body, content_type.c_str());
  });
}

void LoopbackServer::ServeFile(const std::string& path, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "LoopbackServer: cannot read %s\n", file.c_str());
    std::abort();
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  ServeBytes(path, bytes.str(), ContentTypeFor(file));
}

void LoopbackServer::ServeSequence(const std::string& path,
                                   std::vector<CannedResponse> responses) {
  auto state = std::make_shared<std::pair<std::mutex, size_t>>();
  Route(path, [responses = std::move(responses), state](const httplib::Request&,
                                                        httplib::Response& response) {
    size_t index;
    {
      std::lock_guard lock(state->first);
      index = std::min(state->second++, responses.size() - 1);
    }
    const CannedResponse& canned = responses[index];
    response.status = canned.status;
    for (const auto& [name, value] : canned.headers) response.set_header(name.c_str(), value);
    response.set_content(canned.body, canned.content_type.c_str());
  });
}

void LoopbackServer::ServeStatus(const std::string& path, int status, std::string body,
                                 std::multimap<std::string, std::string> headers) {
  ServeSequence(path, {CannedResponse{status, std::move(body), "text/plain", std::move(headers)}});
}

void LoopbackServer::ServeDelayed(const std::string& path, std::chrono::milliseconds delay,
                                  std::string body, std::string content_type) {
  Route(path, [this, delay, body = std::move(body), content_type = std::move(content_type)](
                  const httplib::Request&, httplib::Response& response) {
    InterruptibleSleep(delay, stopping_);
    response.set_content(body, content_type.c_str());
  });
}

void LoopbackServer::ServeTruncated(const std::string& path, std::string body, size_t sent) {
  auto shared_body = std::make_shared<std::string>(std::move(body));
  Route(path, [shared_body, sent](const httplib::Request&, httplib::Response& response) {
    response.set_content_provider(
        shared_body->size(), "application/octet-stream",
        [shared_body, sent](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset < sent) sink.write(shared_body->data() + offset, sent - offset);
          return false;  // httplib closes the connection with the body short of Content-Length
        });
  });
}

void LoopbackServer::ServeStall(const std::string& path, std::string body, size_t head,
                                std::chrono::milliseconds stall) {
  auto shared_body = std::make_shared<std::string>(std::move(body));
  Route(path, [this, shared_body, head, stall](const httplib::Request&,
                                               httplib::Response& response) {
    response.set_content_provider(
        shared_body->size(), "application/octet-stream",
        [this, shared_body, head, stall](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset < head) return sink.write(shared_body->data() + offset, head - offset);
          InterruptibleSleep(stall, stopping_);
          if (stopping_.load()) return false;
          return sink.write(shared_body->data() + offset, shared_body->size() - offset);
        });
  });
}

void LoopbackServer::ServeRedirect(const std::string& path, const std::string& target,
                                   int status) {
  const std::string location = target.rfind("http", 0) == 0 ? target : Url(target);
  Route(path, [location, status](const httplib::Request&, httplib::Response& response) {
    response.status = status;
    response.set_header("Location", location);
  });
}

void LoopbackServer::ServeLargeBody(const std::string& path, uint64_t total,
                                    std::string content_type) {
  Route(path, [this, total, content_type = std::move(content_type)](const httplib::Request&,
                                                                    httplib::Response& response) {
    response.set_content_provider(
        total, content_type.c_str(), [this, total](size_t offset, size_t, httplib::DataSink& sink) {
          static const std::string kChunk(1 << 16, 'x');
          if (stopping_.load()) return false;
          const size_t n = std::min<uint64_t>(kChunk.size(), total - offset);
          return sink.write(kChunk.data(), n);
        });
  });
}

int LoopbackServer::Hits(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = hits_.find(path);
  return it == hits_.end() ? 0 : it->second;
}

std::string LoopbackServer::LastUserAgent() const {
  std::lock_guard lock(mutex_);
  return last_user_agent_;
}

}  // namespace memes::testing
