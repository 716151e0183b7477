// End-to-end: the real `memes serve` on 127.0.0.1 (a free port it picks and prints), over a
// store made by memes_store_fill: the JSON API, thumbnails, relabel and undo through the catalog
// (checked with `memes label`), the token/Origin/Host rules, item ids that are not catalogued
// hashes, path traversal attempts, the writer lock per request, the review queue and a repack.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "store/writer_lock.h"
#include "tests/harness/run_memes.h"
#include "tests/harness/slurp.h"
#include "tests/store_fixture.h"

namespace memes::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// `memes serve` as a child process; the constructor returns once it printed its URL.
class ServeProcess {
 public:
  explicit ServeProcess(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<std::string> argv_text = {MemesBinary().string(), "serve", "--port", "0"};
      argv_text.insert(argv_text.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : argv_text) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    // Blocking reads until the URL line: the child prints it once it listens.
    std::string text;
    char buffer[512];
    while (text.find("/?token=") == std::string::npos ||
           text.find('\n', text.find("/?token=")) == std::string::npos) {
      const ssize_t n = read(out[0], buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, n);
    }
    read_fd_ = out[0];
    const size_t at = text.find("http://127.0.0.1:");
    if (at == std::string::npos) return;
    const size_t colon = at + std::string("http://127.0.0.1").size();
    port_ = std::stoi(text.substr(colon + 1));
    const size_t token_at = text.find("token=", at) + 6;
    token_ = text.substr(token_at, text.find('\n', token_at) - token_at);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (read_fd_ >= 0) close(read_fd_);
  }
  // Exit status after SIGTERM (for the clean-shutdown check).
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }
  const std::string& token() const { return token_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int read_fd_ = -1;
  int port_ = 0;
  std::string token_;
};

class ServeE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memes-serve-e2e-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = (dir_ / "store").string();
    // 12 items, 3 classes, up to 2 frames, near-duplicate pairs (items 2k and 2k+1).
    const RunResult fill = RunProgram(
        {MEMES_STORE_FILL_PATH, store_, "--items", "12", "--classes", "3", "--group-size", "2"});
    ASSERT_EQ(fill.exit_code, 0) << fill.Describe();
    server_ = std::make_unique<ServeProcess>(std::vector<std::string>{"--store", store_});
    ASSERT_GT(server_->port(), 0) << "memes serve printed no URL";
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    client_.reset();
    server_.reset();
    fs::remove_all(dir_);
  }
  static std::string BlobOf(int item) {
    return ToHex(Sha256Of(std::string_view(FixtureBlobBytes(0, item))));
  }
  json Get(const std::string& path, int expect = 200) {
    auto res = client_->Get(path);
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  httplib::Result Post(const std::string& path, const json& body, httplib::Headers headers) {
    return client_->Post(path, headers, body.dump(), "application/json");
  }
  httplib::Headers Good() const {
    return {{"Origin", server_->origin()}, {"X-Memes-Token", server_->token()}};
  }
  json PostOk(const std::string& path, const json& body) {
    auto res = Post(path, body, Good());
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  // hash → "label,dropped" as `memes label export` writes it: the catalog, read by another
  // process through the CLI.
  std::string ExportedRow(int item) {
    const fs::path csv = dir_ / "export.csv";
    const RunResult run = RunMemes({"label", "--store", store_, "export", csv.string()});
    EXPECT_EQ(run.exit_code, 0) << run.Describe();
    const std::string text = Slurp(csv);
    const size_t at = text.find(BlobOf(item));
    if (at == std::string::npos) return "missing";
    const std::string line = text.substr(at, text.find('\n', at) - at);
    return line.substr(65);
  }

  fs::path dir_;
  std::string store_;
  std::unique_ptr<ServeProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServeE2e, ListsClassesItemsDetailAndThumbnails) {
  const json classes = Get("/api/classes");
  ASSERT_EQ(classes["classes"].size(), 3u);
  EXPECT_EQ(classes["classes"][0]["name"], "class0");
  EXPECT_EQ(classes["classes"][0]["items"], 4);

  const json all = Get("/api/items?limit=5");
  EXPECT_EQ(all["total"], 12);
  EXPECT_EQ(all["items"].size(), 5u);
  const json class1 = Get("/api/items?class=" + std::to_string(int(classes["classes"][1]["id"])));
  EXPECT_EQ(class1["total"], 4);
  for (const json& item : class1["items"]) EXPECT_EQ(item["label"], "class1");
  EXPECT_EQ(Get("/api/items?keyword=fixture")["total"], 12);
  EXPECT_EQ(Get("/api/items?keyword=nothing-like-this")["total"], 0);
  EXPECT_EQ(Get("/api/items?min_group=2")["total"], 12);

  const json item = Get("/api/item/" + BlobOf(3));
  EXPECT_EQ(item["label"], "class0");
  EXPECT_EQ(item["kept_frames"].size(), 2u);  // FixtureFrames(3, 2)
  ASSERT_EQ(item["sources"].size(), 1u);
  EXPECT_EQ(item["sources"][0]["url"], "http://fixture.test/img/3.gif");
  EXPECT_EQ(item["group_members"], json::array({BlobOf(2)}));

  auto png = client_->Get("/api/thumb/" + BlobOf(3) + "/1.png?scale=3");
  ASSERT_TRUE(png);
  ASSERT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  ASSERT_GT(png->body.size(), 24u);
  EXPECT_EQ(png->body.substr(1, 3), "PNG");
  EXPECT_EQ(uint8_t(png->body[19]), 96);  // IHDR width: 32 × 3
  EXPECT_EQ(Get("/api/thumb/" + BlobOf(3) + "/2.png", 404).contains("error"), true);

  auto page = client_->Get("/");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("memes serve"), std::string::npos);
  EXPECT_EQ(page->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(page->get_header_value("Referrer-Policy"), "no-referrer");
}

TEST_F(ServeE2e, RelabelDropAndUndoGoThroughTheCatalogLog) {
  EXPECT_EQ(ExportedRow(4), "class1,http://fixture.test/img/4.gif,0");
  json changed = PostOk("/api/change", {{"items", {BlobOf(4)}}, {"label", "class2"}});
  EXPECT_EQ(changed["previous"][0]["label"], "class1");
  EXPECT_EQ(ExportedRow(4), "class2,http://fixture.test/img/4.gif,0");

  const json dropped =
      PostOk("/api/change", {{"items", {BlobOf(4), BlobOf(5)}}, {"dropped", true}});
  EXPECT_EQ(ExportedRow(4), "class2,http://fixture.test/img/4.gif,1");
  EXPECT_EQ(ExportedRow(5), "class2,http://fixture.test/img/5.gif,1");

  PostOk("/api/undo", {{"restore", dropped["previous"]}});
  EXPECT_EQ(ExportedRow(5), "class2,http://fixture.test/img/5.gif,0");
  PostOk("/api/undo", {{"restore", changed["previous"]}});
  EXPECT_EQ(ExportedRow(4), "class1,http://fixture.test/img/4.gif,0");

  const RunResult log = RunMemes({"label", "--store", store_, "log"});
  ASSERT_EQ(log.exit_code, 0) << log.Describe();
  EXPECT_NE(log.out.find("\tserve\n"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("\tserve undo\n"), std::string::npos) << log.out;
  const json history = Get("/api/item/" + BlobOf(4))["history"];
  EXPECT_GE(history.size(), 4u);  // set, drop, undrop, undo

  // An unknown class is refused (the page offers existing classes only), nothing changes.
  auto res = Post("/api/change", {{"items", {BlobOf(4)}}, {"label", "clas1"}}, Good());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(ExportedRow(4), "class1,http://fixture.test/img/4.gif,0");
}

TEST_F(ServeE2e, MutationsNeedTheTokenAMatchingOriginAndHost) {
  const json body = {{"items", {BlobOf(0)}}, {"label", "class2"}};
  const std::string origin = server_->origin();
  const std::vector<std::pair<std::string, httplib::Headers>> refused = {
      {"no token", {{"Origin", origin}}},
      {"wrong token", {{"Origin", origin}, {"X-Memes-Token", server_->token() + "0"}}},
      {"empty token", {{"Origin", origin}, {"X-Memes-Token", ""}}},
      {"no Origin", {{"X-Memes-Token", server_->token()}}},
      {"foreign Origin", {{"Origin", "http://evil.example"}, {"X-Memes-Token", server_->token()}}},
      {"other port", {{"Origin", "http://127.0.0.1:1"}, {"X-Memes-Token", server_->token()}}},
      {"rebound Host",
       {{"Host", "evil.example:" + std::to_string(server_->port())},
        {"Origin", "http://evil.example:" + std::to_string(server_->port())},
        {"X-Memes-Token", server_->token()}}},
  };
  for (const auto& [what, headers] : refused) {
    auto res = Post("/api/change", body, headers);
    ASSERT_TRUE(res) << what;
    EXPECT_EQ(res->status, 403) << what << ": " << res->body;
  }
  // A form post (what a CSRF page can send without a preflight) is refused.
  auto form = client_->Post("/api/change", Good(), "items=x", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  // DNS rebinding: reads under a foreign Host are refused too.
  auto read = client_->Get("/api/classes", {{"Host", "evil.example"}});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 403);
  auto repack = Post("/api/pack", json::object(), {{"Origin", origin}});
  ASSERT_TRUE(repack);
  EXPECT_EQ(repack->status, 403);
  EXPECT_EQ(ExportedRow(0), "class0,http://fixture.test/img/0.gif,0");
  // localhost is the same server.
  auto local = Post("/api/change", body,
                    {{"Host", "localhost:" + std::to_string(server_->port())},
                     {"Origin", "http://localhost:" + std::to_string(server_->port())},
                     {"X-Memes-Token", server_->token()}});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200) << local->body;
  EXPECT_EQ(ExportedRow(0), "class2,http://fixture.test/img/0.gif,0");
}

TEST_F(ServeE2e, ItemIdsAreCheckedHashesAndNoPathReachesTheFileSystem) {
  const std::string unknown(64, 'a');
  Get("/api/item/" + unknown, 404);
  Get("/api/similar/" + unknown, 404);
  Get("/api/group/" + unknown, 404);
  auto thumb = client_->Get("/api/thumb/" + unknown + "/0.png");
  ASSERT_TRUE(thumb);
  EXPECT_EQ(thumb->status, 404);
  for (const std::string& path :
       {std::string("/api/item/") + BlobOf(0).substr(0, 8),
        std::string("/api/item/../catalog.sqlite"),
        std::string("/api/thumb/..%2f..%2fcatalog.sqlite/0.png"), std::string("/../catalog.sqlite"),
        std::string("/%2e%2e/%2e%2e/etc/passwd"), std::string("/catalog.sqlite"),
        std::string("/frames/") + BlobOf(0).substr(0, 2),
        std::string("/api/item/") + BlobOf(0) + "/../../lock",
        std::string("/api/thumb/") + BlobOf(0) + "/0.png/../../../catalog.sqlite"}) {
    auto res = client_->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(res->body.find("SQLite format"), std::string::npos) << path;
  }
  for (const json& items :
       {json::array({"../../etc/passwd"}), json::array({BlobOf(0).substr(0, 8)}),
        json::array({unknown}), json::array({42}), json::array(), json("x")}) {
    auto res = Post("/api/change", {{"items", items}, {"dropped", true}}, Good());
    ASSERT_TRUE(res) << items.dump();
    EXPECT_TRUE(res->status == 400 || res->status == 404) << items.dump() << res->body;
  }
  auto garbage = client_->Post("/api/change", Good(), "{not json", "application/json");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
}

TEST_F(ServeE2e, OtherWritersRunWhileServeIsOpenAndAHeldLockRefusesWithItsPid) {
  const int64_t version = Get("/api/version")["version"];
  // Serve holds no lock while idle: `memes label` writes, and the page's version changes.
  const RunResult set =
      RunMemes({"label", "--store", store_, "set", BlobOf(1).substr(0, 12), "class2"});
  ASSERT_EQ(set.exit_code, 0) << set.Describe();
  EXPECT_NE(Get("/api/version")["version"], version);
  EXPECT_EQ(Get("/api/item/" + BlobOf(1))["label"], "class2");

  {
    auto held = store::WriterLock::Acquire(store_);
    ASSERT_TRUE(held.ok()) << held.status().ToString();
    auto res = Post("/api/change", {{"items", {BlobOf(1)}}, {"label", "class0"}}, Good());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 409);
    EXPECT_NE(res->body.find(std::to_string(getpid())), std::string::npos) << res->body;
  }
  PostOk("/api/change", {{"items", {BlobOf(1)}}, {"label", "class0"}});
  EXPECT_EQ(ExportedRow(1), "class0,http://fixture.test/img/1.gif,0");
}

TEST_F(ServeE2e, SimilarAndSameGroupViews) {
  const json similar = Get("/api/similar/" + BlobOf(6));
  ASSERT_FALSE(similar["items"].empty());
  EXPECT_EQ(similar["items"][0]["hash"], BlobOf(7));  // its near-duplicate: the same pHash
  EXPECT_EQ(similar["items"][0]["distance"], 0);
  EXPECT_EQ(similar["items"].size(), 11u);
  const json group = Get("/api/group/" + BlobOf(6));
  ASSERT_EQ(group["items"].size(), 2u);
}

TEST_F(ServeE2e, ReviewQueueAcceptAndRepackWithProgress) {
  json review = Get("/api/review");
  EXPECT_FALSE(review["available"]);
  EXPECT_NE(review["hint"].get<std::string>().find("memes review"), std::string::npos);

  fs::create_directories(dir_ / "review");
  std::ofstream(dir_ / "review" / "suspects.csv")
      << "hash,label,suggested,score,url,action,extra\n"
      << BlobOf(8) << ",class2,class1,0.02,http://fixture.test/img/8.gif,,x\n"
      << BlobOf(3) << ",class0,class2,0.10,\"http://fixture.test/img/3.gif\",,\n"
      << std::string(64, 'b') << ",class0,class1,0.2,gone,,\n";
  review = Get("/api/review");
  ASSERT_TRUE(review["available"]) << review.dump();
  ASSERT_EQ(review["items"].size(), 2u);  // the uncatalogued row is skipped
  EXPECT_EQ(review["items"][0]["hash"], BlobOf(8));
  EXPECT_EQ(review["items"][0]["suggested"], "class1");
  EXPECT_EQ(Get("/api/items?max_score=0.05")["total"], 1);

  PostOk("/api/change", {{"items", {BlobOf(8)}}, {"label", "class1"}});
  EXPECT_EQ(ExportedRow(8), "class1,http://fixture.test/img/8.gif,0");

  EXPECT_EQ(PostOk("/api/pack", json::object())["state"], "running");
  json state;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  do {
    state = Get("/api/pack");
    if (state["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, not a timed wait
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(state["state"], "done") << state.dump();
  EXPECT_EQ(state["done"], 12);
  EXPECT_EQ(state["total"], 12);
  const json manifest = json::parse(Slurp(fs::path(store_) / "shards" / "dataset.json"));
  int64_t class1_items = 0;
  for (const json& c : state["result"]["classes"]) {
    if (c["name"] == "class1")
      class1_items = c["train_items"].get<int64_t>() + c["test_items"].get<int64_t>();
  }
  EXPECT_EQ(class1_items, 5);  // 4 + item 8
  EXPECT_TRUE(manifest.contains("classes"));
  const RunResult verify = RunMemes({"verify", (fs::path(store_) / "shards").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.Describe();

  // A damaged review file is reported with its line, not taken for an empty queue.
  std::ofstream(dir_ / "review" / "suspects.csv", std::ios::trunc)
      << "hash,label,suggested,score,url,action\n"
      << BlobOf(8) << ",class2,class1,not-a-number,http://fixture.test/img/8.gif,\n";
  review = Get("/api/review");
  EXPECT_FALSE(review["available"]);
  EXPECT_NE(review.value("error", "").find("suspects.csv:2"), std::string::npos) << review.dump();
  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace memes::testing
