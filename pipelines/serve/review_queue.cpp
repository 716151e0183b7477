#include "pipelines/serve/review_queue.h"

#include <cmath>
#include <fstream>

#include "core/text.h"
#include "store/store.h"

namespace memes::pipelines::serve {

namespace fs = std::filesystem;

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  for (std::string& field : fields) field = std::string(TrimText(field));
  return fields;
}

const Suspect* ReviewQueue::Find(const std::string& hash) const {
  const auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? nullptr : &rows_[it->second];
}

Status ReviewQueue::Refresh() {
  std::error_code error;
  const fs::path path = file();
  if (!fs::is_regular_file(path, error)) {
    available_ = false;
    rows_.clear();
    by_hash_.clear();
    mtime_.reset();
    return Status::Ok();
  }
  const auto mtime = fs::last_write_time(path, error);
  const uintmax_t size = fs::file_size(path, error);
  if (!error && mtime_ && *mtime_ == mtime && size_ == size) return Status::Ok();
  available_ = false;
  rows_.clear();
  by_hash_.clear();
  mtime_ = mtime;
  size_ = size;
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read the review file", path.string());
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument("empty file, no header", path.string());
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
  const std::vector<std::string> header = SplitCsvLine(line);
  const std::vector<std::string> expected = {"hash", "label", "suggested", "score", "url"};
  for (size_t i = 0; i < expected.size(); ++i) {
    if (i >= header.size() || header[i] != expected[i]) {
      return InvalidArgument("the header must start with hash,label,suggested,score,url",
                             path.string() + ":1");
    }
  }
  std::vector<Suspect> rows;
  for (int number = 2; std::getline(in, line); ++number) {
    if (TrimText(line).empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(number);
    const std::vector<std::string> fields = SplitCsvLine(line);
    if (fields.size() < expected.size()) return InvalidArgument("too few columns", where);
    Suspect row{fields[0], fields[1], fields[2], 0, fields[4]};
    if (!store::IsBlobHash(row.hash)) return InvalidArgument("not a content hash", where);
    char* end = nullptr;
    row.score = std::strtod(fields[3].c_str(), &end);
    if (fields[3].empty() || *end != '\0' || !std::isfinite(row.score)) {
      return InvalidArgument("the score is not a number: '" + fields[3] + "'", where);
    }
    rows.push_back(std::move(row));
  }
  rows_ = std::move(rows);
  for (size_t i = 0; i < rows_.size(); ++i) by_hash_.emplace(rows_[i].hash, i);
  available_ = true;
  return Status::Ok();
}

}  // namespace memes::pipelines::serve
