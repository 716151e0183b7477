// The review queue `memes serve` shows: the rows of `memes review`'s suspects.csv (header
// hash,label,suggested,score,url,action, maybe more columns after; score in [0, 1], lower = more
// likely mislabelled; rows worst first). The file is read again whenever it changes on disk, so
// a `memes review` run while the page is open shows up.
// Thread-safety: none; the server serialises calls.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace memes::pipelines::serve {

struct Suspect {
  std::string hash;
  std::string label;      // the label when `memes review` ran
  std::string suggested;  // the class the models suggest
  double score = 0;       // lower: more likely mislabelled
  std::string url;
};

class ReviewQueue {
 public:
  // `dir` holds suspects.csv (it need not exist yet).
  explicit ReviewQueue(std::filesystem::path dir) : dir_(std::move(dir)) {}

  std::filesystem::path file() const { return dir_ / "suspects.csv"; }
  // Re-reads the file when its size or modification time changed. Ok with no rows when the
  // file does not exist; an error naming FILE:LINE when it is malformed (then no rows).
  Status Refresh();
  bool available() const { return available_; }
  const std::vector<Suspect>& rows() const { return rows_; }  // worst first, as in the file
  const Suspect* Find(const std::string& hash) const;

 private:
  std::filesystem::path dir_;
  bool available_ = false;
  std::optional<std::filesystem::file_time_type> mtime_;
  uintmax_t size_ = 0;
  std::vector<Suspect> rows_;
  std::unordered_map<std::string, size_t> by_hash_;
};

// Splits one CSV line (RFC 4180 quoting: "a,b" and "" for a quote). Exposed for tests.
std::vector<std::string> SplitCsvLine(const std::string& line);

}  // namespace memes::pipelines::serve
