// fetch_bench: does concurrency, not threads, set the fetcher's pace?
//
// A loopback server (tests/harness) in a child process adds `latency` to every response. The
// fetcher (ONE I/O thread, libcurl multi) may keep `transfers` requests in flight, so the ideal
// is transfers / latency images a second (64 / 0.1 s = 640/s). The peer is the classic
// blocking design: `transfers` threads, each running curl_easy_perform in a loop. Both fetch
// the same images from the same server; CPU time is this process's alone (getrusage), since
// the server lives in the child.
//
//   fetch_bench [--images N] [--transfers T] [--latency-ms L] [--bytes B]
// Exit status 1 when the fetcher reaches less than 80% of the ideal rate.
#include <curl/curl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ingest/fetcher.h"
#include "tests/harness/loopback_server.h"

namespace {

struct Options {
  int images = 3000;
  int transfers = 64;
  int latency_ms = 100;
  int bytes = 8 * 1024;
};

struct Measure {
  double wall_s = 0;
  double cpu_s = 0;
  int ok = 0;
  uint64_t connections = 0;  // fetcher only: connections opened (reuse keeps it at `transfers`)
};

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Runs the server in a child process; returns its port. The child exits when `stop_fd` closes.
int StartServerProcess(const Options& options, pid_t* child, int* stop_fd) {
  int port_pipe[2], stop_pipe[2];
  if (pipe(port_pipe) != 0 || pipe(stop_pipe) != 0) {
    std::perror("pipe");
    std::exit(2);
  }
  *child = fork();
  if (*child == 0) {
    close(port_pipe[0]);
    close(stop_pipe[1]);
    {
      memes::testing::LoopbackServer server;
      server.SetLatency(std::chrono::milliseconds(options.latency_ms));
      server.ServeBytes("/img.png", std::string(options.bytes, 'p'), "image/png");
      const int port = server.port();
      if (write(port_pipe[1], &port, sizeof port) != sizeof port) _exit(2);
      char byte;
      while (read(stop_pipe[0], &byte, 1) > 0) {
      }
    }
    _exit(0);
  }
  close(port_pipe[1]);
  close(stop_pipe[0]);
  int port = 0;
  if (read(port_pipe[0], &port, sizeof port) != sizeof port) {
    std::fprintf(stderr, "fetch_bench: the server process did not start\n");
    std::exit(2);
  }
  close(port_pipe[0]);
  *stop_fd = stop_pipe[1];
  return port;
}

std::string ImageUrl(int port, int index) {
  // One route; the query makes every URL distinct, as a crawl's would be.
  return "http://127.0.0.1:" + std::to_string(port) + "/img.png?i=" + std::to_string(index);
}

Measure RunFetcher(const Options& options, int port) {
  memes::ingest::FetchSettings settings;
  settings.allow_private_hosts = {"127.0.0.1"};  // the loopback server
  settings.max_transfers = options.transfers;
  settings.per_host_transfers = options.transfers;  // one host here: let all slots use it
  // Well above the ideal 640/s, so concurrency sets the pace; a burst of 1 spaces the first
  // connections 0.5 ms apart: the harness server's listen backlog is 5 (cpp-httplib's default),
  // and 64 SYNs at once overflow it into 1 s, 3 s, 7 s… SYN retransmits.
  settings.per_host_rate = 2000;
  settings.per_host_burst = 4;
  settings.obey_robots = false;
  memes::ingest::Fetcher fetcher(settings);
  Measure measure;
  std::atomic<int> ok{0};
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < options.images; ++i) {
    fetcher.Submit(ImageUrl(port, i), [&ok](memes::ingest::FetchResult result) {
      if (result.ok()) ok.fetch_add(1);
    });
  }
  fetcher.WaitIdle();
  measure.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  measure.cpu_s = CpuSeconds() - cpu0;
  measure.ok = ok.load();
  measure.connections = fetcher.counters().connections;
  return measure;
}

size_t Discard(char*, size_t size, size_t count, void* user) {
  *static_cast<size_t*>(user) += size * count;
  return size * count;
}

// The peer: one blocking easy handle per thread, `transfers` threads.
Measure RunThreadPerTransfer(const Options& options, int port) {
  Measure measure;
  std::atomic<int> next{0}, ok{0};
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.transfers; ++t) {
    threads.emplace_back([&, t] {
      // The same 0.5 ms ramp as the fetcher's token bucket (see RunFetcher).
      std::this_thread::sleep_for(std::chrono::microseconds(500 * t));
      CURL* easy = curl_easy_init();
      size_t received = 0;
      curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Discard);
      curl_easy_setopt(easy, CURLOPT_WRITEDATA, &received);
      curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
      for (int i = next.fetch_add(1); i < options.images; i = next.fetch_add(1)) {
        const std::string url = ImageUrl(port, i);
        curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
        long status = 0;
        if (curl_easy_perform(easy) == CURLE_OK &&
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200) {
          ok.fetch_add(1);
        }
      }
      curl_easy_cleanup(easy);
    });
  }
  for (auto& thread : threads) thread.join();
  measure.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  measure.cpu_s = CpuSeconds() - cpu0;
  measure.ok = ok.load();
  return measure;
}

void Print(const char* name, const Measure& m, const Options& options) {
  std::printf("%-28s %6d/%d ok  %7.2f s  %7.1f images/s  %6.3f CPU s per 1000 images\n", name, m.ok,
              options.images, m.wall_s, m.ok / m.wall_s, 1000.0 * m.cpu_s / options.images);
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--images")
      options.images = value;
    else if (flag == "--transfers")
      options.transfers = value;
    else if (flag == "--latency-ms")
      options.latency_ms = value;
    else if (flag == "--bytes")
      options.bytes = value;
    else {
      std::fprintf(stderr,
                   "usage: fetch_bench [--images N] [--transfers T] [--latency-ms L] "
                   "[--bytes B]\n");
      return 2;
    }
  }
  pid_t child = 0;
  int stop_fd = -1;
  const int port = StartServerProcess(options, &child, &stop_fd);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  const double ideal = options.transfers * 1000.0 / options.latency_ms;
  std::printf(
      "fetch_bench: %d images of %d bytes, %d transfers, +%d ms per response; "
      "ideal %.0f images/s\n",
      options.images, options.bytes, options.transfers, options.latency_ms, ideal);
  // Warm-up: the server's thread pool and the kernel's socket paths, for both contenders alike.
  Options warm_up = options;
  warm_up.images = 4 * options.transfers;
  (void)RunThreadPerTransfer(warm_up, port);
  const Measure ours = RunFetcher(options, port);
  const Measure peer = RunThreadPerTransfer(options, port);
  Print("memes Fetcher (1 I/O thread)", ours, options);
  std::printf("%-28s %llu connections opened for %d images\n", "",
              static_cast<unsigned long long>(ours.connections), options.images);
  Print("peer: thread per transfer", peer, options);
  const double ratio = ours.ok / ours.wall_s / ideal;
  std::printf("ratio fetcher/ideal: %.3f (must be >= 0.80)\n", ratio);
  std::printf("ratio fetcher/peer images/s: %.3f, CPU: %.3f\n",
              (ours.ok / ours.wall_s) / (peer.ok / peer.wall_s), ours.cpu_s / peer.cpu_s);

  close(stop_fd);
  int status = 0;
  waitpid(child, &status, 0);
  return ratio >= 0.8 && ours.ok == options.images ? 0 : 1;
}
