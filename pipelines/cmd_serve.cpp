// `memes serve`: the local curation page (pipelines/serve/server.h). Prints the URL with the
// per-run token, then serves until Ctrl-C or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "pipelines/command.h"
#include "pipelines/serve/server.h"

namespace memes::pipelines {

namespace fs = std::filesystem;

namespace {

struct ServeArgs {
  std::string store_dir;
  std::string review_dir;
  std::string out;
  std::string host = "127.0.0.1";
  int port = 8080;
};

int RunServe(const ServeArgs& args) {
  serve::ServeOptions options;
  options.store_dir = args.store_dir;
  // The default puts review/ beside the store, where `memes review` writes it by default.
  fs::path store_path = fs::absolute(args.store_dir).lexically_normal();
  if (store_path.filename().empty()) store_path = store_path.parent_path();  // "store/"
  options.review_dir =
      args.review_dir.empty() ? store_path.parent_path() / "review" : fs::path(args.review_dir);
  options.pack_out = args.out;
  options.host = args.host;
  options.port = args.port;
  if (args.host != "127.0.0.1" && args.host != "localhost") {
    std::cerr << "memes serve: warning: listening on " << args.host
              << ": anyone who can reach this address and learns the token can relabel the "
                 "store; the page has no TLS\n";
  }
  if (args.host == "localhost") options.host = "127.0.0.1";
  // Blocked before any thread starts, so every thread inherits the mask and only sigwait below
  // sees them: stopping the server is not async-signal-safe, so it happens on this thread.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto server = serve::Server::Create(options);
  if (!server.ok()) {
    std::cerr << "memes serve: " << server.status().ToString() << "\n";
    return kExitUsage;
  }
  auto port = (*server)->Start();
  if (!port.ok()) {
    std::cerr << "memes serve: " << port.status().ToString() << "\n";
    return kExitUsage;
  }
  std::cout << "memes serve: open " << (*server)->Url() << "\n"
            << "  store " << args.store_dir << ", review queue "
            << (options.review_dir / "suspects.csv").string() << "\n"
            << "  Ctrl-C stops it" << std::endl;
  int received = 0;
  sigwait(&stop_signals, &received);
  (*server)->Stop();
  server->reset();
  std::cout << "memes serve: stopped" << std::endl;
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* sub =
      app.add_subcommand("serve", "A local web page to look at, relabel and repack a store");
  auto args = std::make_shared<ServeArgs>();
  sub->add_option("--store", args->store_dir, "The store folder")->required();
  sub->add_option("--port", args->port, "TCP port (0: any free port, printed)")
      ->check(IntegerRange(0, 65535));
  sub->add_option("--host", args->host,
                  "Address to listen on (default 127.0.0.1; anything else prints a warning)");
  sub->add_option("--review", args->review_dir,
                  "Folder of `memes review`'s suspects.csv (default: review/ beside the store)");
  sub->add_option("--out", args->out,
                  "Where the repack button writes shards (default STORE/shards)");
  sub->footer(
      "Changes go through the catalog like `memes label` (logged; `memes label log` shows them)\n"
      "and take the store's writer lock per change, so other commands run while the page is\n"
      "open. Mutating requests need the token printed in the URL. See docs/serve.md.");
  registry.Add(sub, [args] { return RunServe(*args); });
}

}  // namespace memes::pipelines
