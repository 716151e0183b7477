#include "pipelines/pipeline_file.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace memes::pipelines {
namespace {

// Collects every mistake in the file so the user fixes them in one pass.
class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void Add(const toml::source_region& where, std::string_view key, std::string_view problem) {
    std::ostringstream line;
    line << file_ << ":" << where.begin.line << ": " << key << ": " << problem;
    lines_.push_back(line.str());
  }
  void AddAtLine(uint32_t line_number, std::string_view key, std::string_view problem) {
    std::ostringstream line;
    line << file_ << ":" << line_number << ": " << key << ": " << problem;
    lines_.push_back(line.str());
  }
  bool empty() const { return lines_.empty(); }
  Status ToStatus() const {
    std::string joined;
    for (const auto& line : lines_) {
      if (!joined.empty()) joined += '\n';
      joined += line;
    }
    return InvalidArgument(joined);
  }

 private:
  std::string file_;
  std::vector<std::string> lines_;
};

std::string Dotted(std::string_view table, std::string_view key) {
  return table.empty() ? std::string(key) : std::string(table) + "." + std::string(key);
}

void RejectUnknownKeys(const toml::table& table, std::string_view table_name,
                       const std::set<std::string_view>& allowed, Problems& problems) {
  for (auto&& [key, node] : table) {
    if (!allowed.contains(key.str())) {
      std::string known;
      for (auto name : allowed) known += (known.empty() ? "" : ", ") + std::string(name);
      problems.Add(key.source(), Dotted(table_name, key.str()),
                   "unknown key (known here: " + known + ")");
    }
  }
}

template <typename T>
void ReadInteger(const toml::table& table, std::string_view table_name, std::string_view key,
                 int64_t min, int64_t max, T& out, Problems& problems) {
  const toml::node* node = table.get(key);
  if (!node) return;
  const auto value = node->value_exact<int64_t>();
  if (!value) {
    problems.Add(node->source(), Dotted(table_name, key), "expected an integer");
  } else if (*value < min || *value > max) {
    problems.Add(node->source(), Dotted(table_name, key),
                 "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + std::to_string(*value));
  } else {
    out = static_cast<T>(*value);
  }
}

void ReadDouble(const toml::table& table, std::string_view table_name, std::string_view key,
                double min, double max, double& out, Problems& problems) {
  const toml::node* node = table.get(key);
  if (!node) return;
  const auto value = node->value<double>();  // integers are accepted too
  if (!value) {
    problems.Add(node->source(), Dotted(table_name, key), "expected a number");
  } else if (*value < min || *value > max) {
    std::ostringstream msg;
    msg << "must be between " << min << " and " << max << ", got " << *value;
    problems.Add(node->source(), Dotted(table_name, key), msg.str());
  } else {
    out = *value;
  }
}

void ReadBool(const toml::table& table, std::string_view table_name, std::string_view key,
              bool& out, Problems& problems) {
  const toml::node* node = table.get(key);
  if (!node) return;
  if (const auto value = node->value_exact<bool>()) {
    out = *value;
  } else {
    problems.Add(node->source(), Dotted(table_name, key), "expected true or false");
  }
}

bool ReadString(const toml::table& table, std::string_view table_name, std::string_view key,
                std::string& out, Problems& problems) {
  const toml::node* node = table.get(key);
  if (!node) return false;
  if (const auto value = node->value_exact<std::string>()) {
    out = *value;
    return true;
  }
  problems.Add(node->source(), Dotted(table_name, key), "expected a string");
  return false;
}

// The pipeline file spells a colour "#rrggbb" (docs/pipeline-file.md).
bool ParseHexColour(std::string_view text, uint8_t rgb[3]) {
  return text.size() == 7 && text[0] == '#' && ParseBackgroundHex(text, rgb);
}

void ReadImage(const toml::table& table, ImageSettings& image, Problems& problems) {
  static const std::set<std::string_view> kKeys = {"size",
                                                   "fit",
                                                   "background",
                                                   "max_frames",
                                                   "max_file_bytes",
                                                   "max_canvas_pixels",
                                                   "max_decoded_frames",
                                                   "decode_time_budget_ms",
                                                   "min_side"};
  RejectUnknownKeys(table, "image", kKeys, problems);
  ReadInteger(table, "image", "size", 8, 256, image.size, problems);
  std::string fit;
  if (ReadString(table, "image", "fit", fit, problems)) {
    if (const auto mode = ParseFitMode(fit))
      image.fit = *mode;
    else
      problems.Add(table.get("fit")->source(), "image.fit",
                   "must be \"pad\", \"crop\" or \"stretch\", got \"" + fit + "\"");
  }
  std::string background;
  if (ReadString(table, "image", "background", background, problems) &&
      !ParseHexColour(background, image.background)) {
    problems.Add(table.get("background")->source(), "image.background",
                 "expected a colour like \"#ffffff\", got \"" + background + "\"");
  }
  ReadInteger(table, "image", "max_frames", 1, 64, image.max_frames, problems);
  ReadInteger(table, "image", "max_file_bytes", 1, int64_t{1} << 40, image.max_file_bytes,
              problems);
  ReadInteger(table, "image", "max_canvas_pixels", 1, int64_t{1} << 40, image.max_canvas_pixels,
              problems);
  ReadInteger(table, "image", "max_decoded_frames", 1, 100'000, image.max_decoded_frames, problems);
  ReadInteger(table, "image", "decode_time_budget_ms", 1, 3'600'000, image.decode_time_budget_ms,
              problems);
  ReadInteger(table, "image", "min_side", 1, 65'536, image.min_side, problems);
}

void ReadDedupe(const toml::table& table, DedupeSettings& dedupe, Problems& problems) {
  static const std::set<std::string_view> kKeys = {"threshold",
                                                   "orientations",
                                                   "method",
                                                   "candidate_threshold",
                                                   "thumb_threshold",
                                                   "second_threshold",
                                                   "representatives",
                                                   "colour_threshold",
                                                   "peak_threshold",
                                                   "bridge_threshold",
                                                   "turned_threshold",
                                                   "second_near_threshold",
                                                   "second_far_thumb_threshold"};
  RejectUnknownKeys(table, "dedupe", kKeys, problems);
  ReadInteger(table, "dedupe", "threshold", 0, store::kMaxNearDuplicateDistance, dedupe.threshold,
              problems);
  ReadBool(table, "dedupe", "orientations", dedupe.orientations, problems);
  std::string method;
  if (ReadString(table, "dedupe", "method", method, problems)) {
    if (method == "verified" || method == "hash") {
      dedupe.verify = method == "verified";
    } else {
      problems.Add(table.get("method")->source(), "dedupe.method",
                   "expected \"verified\" or \"hash\", got \"" + method + "\"");
    }
  }
  ReadInteger(table, "dedupe", "candidate_threshold", 0, store::kMaxNearDuplicateDistance,
              dedupe.candidate_threshold, problems);
  ReadDouble(table, "dedupe", "thumb_threshold", 0, 765, dedupe.thumb_threshold, problems);
  ReadInteger(table, "dedupe", "second_threshold", -1, store::kMaxNearDuplicateDistance,
              dedupe.second_threshold, problems);
  ReadInteger(table, "dedupe", "representatives", 1, 64, dedupe.representatives, problems);
  ReadDouble(table, "dedupe", "colour_threshold", -1, 1020, dedupe.colour_threshold, problems);
  ReadDouble(table, "dedupe", "peak_threshold", -1, 765, dedupe.peak_threshold, problems);
  ReadDouble(table, "dedupe", "bridge_threshold", -1, 765, dedupe.bridge_threshold, problems);
  ReadInteger(table, "dedupe", "turned_threshold", -1, store::kMaxNearDuplicateDistance,
              dedupe.turned_threshold, problems);
  ReadInteger(table, "dedupe", "second_near_threshold", 0, store::kMaxNearDuplicateDistance,
              dedupe.second_near_threshold, problems);
  ReadDouble(table, "dedupe", "second_far_thumb_threshold", -1, 765,
             dedupe.second_far_thumb_threshold, problems);
}

void ReadPoliteness(const toml::table& table, Politeness& p, Problems& problems) {
  static const std::set<std::string_view> kKeys = {
      "user_agent",         "max_transfers",       "per_host_transfers",
      "per_host_rate",      "per_host_burst",      "retries",
      "connect_timeout_ms", "total_timeout_ms",    "low_speed_bytes_per_s",
      "low_speed_time_s",   "max_body_bytes",      "max_redirects",
      "obey_robots",        "allow_private_hosts", "pages_in_flight"};
  const std::string_view t = "politeness";
  RejectUnknownKeys(table, t, kKeys, problems);
  ReadString(table, t, "user_agent", p.user_agent, problems);
  ReadInteger(table, t, "max_transfers", 1, 4096, p.max_transfers, problems);
  ReadInteger(table, t, "per_host_transfers", 1, 4096, p.per_host_transfers, problems);
  ReadDouble(table, t, "per_host_rate", 0.001, 1e6, p.per_host_rate, problems);
  ReadInteger(table, t, "per_host_burst", 1, 1'000'000, p.per_host_burst, problems);
  ReadInteger(table, t, "retries", 0, 100, p.retries, problems);
  ReadInteger(table, t, "connect_timeout_ms", 1, 3'600'000, p.connect_timeout_ms, problems);
  ReadInteger(table, t, "total_timeout_ms", 1, 86'400'000, p.total_timeout_ms, problems);
  ReadInteger(table, t, "low_speed_bytes_per_s", 0, 1 << 30, p.low_speed_bytes_per_s, problems);
  ReadInteger(table, t, "low_speed_time_s", 0, 3600, p.low_speed_time_s, problems);
  ReadInteger(table, t, "max_body_bytes", 1, int64_t{1} << 40, p.max_body_bytes, problems);
  ReadInteger(table, t, "max_redirects", 0, 50, p.max_redirects, problems);
  ReadBool(table, t, "obey_robots", p.obey_robots, problems);
  if (const toml::node* node = table.get("allow_private_hosts")) {
    const toml::array* array = node->as_array();
    if (!array) {
      problems.Add(node->source(), "politeness.allow_private_hosts",
                   "expected a list of host names, like [\"nas.local\", \"10.0.0.5\"]");
    } else {
      for (const toml::node& element : *array) {
        const auto host = element.value_exact<std::string>();
        // A name or IP as it appears in a URL's host: IPv6 literals in brackets ("[fd00::1]").
        const bool bracketed =
            host && host->size() > 2 && host->front() == '[' && host->back() == ']';
        if (!host || host->empty() ||
            host->find_first_of(bracketed ? "/@ " : "/:@ ") != std::string::npos) {
          problems.Add(element.source(), "politeness.allow_private_hosts",
                       "expected a host name or IP address without scheme, port or path");
          continue;
        }
        p.allow_private_hosts.push_back(*host);
      }
    }
  }
  ReadInteger(table, t, "pages_in_flight", 1, 4096, p.pages_in_flight, problems);
}

void ReadClasses(const toml::table& table, std::vector<ClassSpec>& classes, Problems& problems) {
  // toml++ keeps keys sorted; order classes by where they appear in the file so that label
  // indices follow the order the user wrote.
  std::vector<std::pair<std::pair<uint32_t, uint32_t>, ClassSpec>> ordered;
  for (auto&& [key, node] : table) {
    const std::string name(key.str());
    const std::string dotted = "classes." + name;
    ClassSpec spec;
    spec.name = name;
    if (name.empty()) {
      problems.Add(key.source(), dotted, "a class name cannot be empty");
      continue;
    }
    if (const toml::array* array = node.as_array()) {
      for (const toml::node& element : *array) {
        if (const auto keyword = element.value_exact<std::string>(); keyword && !keyword->empty()) {
          spec.keywords.push_back(*keyword);
        } else {
          problems.Add(element.source(), dotted, "keywords must be non-empty strings");
        }
      }
    } else if (const auto keyword = node.value_exact<std::string>()) {
      spec.keywords.push_back(*keyword);
    } else {
      problems.Add(node.source(), dotted, "expected a list of keywords, like [\"蘑菇头\"]");
      continue;
    }
    // Line and column: an inline table (classes = { b = [], a = [] }) puts several on a line.
    ordered.emplace_back(std::make_pair(key.source().begin.line, key.source().begin.column),
                         std::move(spec));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [position, spec] : ordered) classes.push_back(std::move(spec));
}

// Without a [classes] table, folder sources name the classes: every subfolder of each source
// folder, sorted by name within a folder, in source order, each once (label indices follow).
std::vector<ClassSpec> ClassesFromFolders(const std::vector<Source>& sources) {
  std::vector<ClassSpec> classes;
  std::set<std::string> seen;
  for (const Source& source : sources) {
    std::vector<std::string> names;
    std::error_code error;
    for (auto it = std::filesystem::directory_iterator(source.path, error);
         !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
      std::error_code type_error;
      if (it->is_directory(type_error)) names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    for (std::string& name : names) {
      if (seen.insert(name).second) classes.push_back({std::move(name), {}});
    }
  }
  return classes;
}

void ReadSource(const toml::table& table, size_t index, const std::filesystem::path& base_dir,
                Source& source, Problems& problems) {
  const std::string t = "sources[" + std::to_string(index) + "]";
  source.line = static_cast<int>(table.source().begin.line);
  static const std::set<std::string_view> kKeys = {
      "kind", "name", "url", "pages", "page_size", "extract", "max_urls_per_page", "file", "path"};
  RejectUnknownKeys(table, t, kKeys, problems);
  std::string kind;
  if (!ReadString(table, t, "kind", kind, problems)) {
    if (!table.get("kind")) {
      problems.AddAtLine(table.source().begin.line, t + ".kind",
                         "missing (one of \"search\", \"urls\", \"folder\")");
    }
    return;
  }
  if (kind == "search")
    source.kind = SourceKind::kSearch;
  else if (kind == "urls")
    source.kind = SourceKind::kUrls;
  else if (kind == "folder")
    source.kind = SourceKind::kFolder;
  else {
    problems.Add(table.get("kind")->source(), t + ".kind",
                 "must be \"search\", \"urls\" or \"folder\", got \"" + kind + "\"");
    return;
  }
  source.name = kind + "-" + std::to_string(index + 1);
  ReadString(table, t, "name", source.name, problems);
  switch (source.kind) {
    case SourceKind::kSearch: {
      if (!ReadString(table, t, "url", source.url_template, problems)) {
        if (!table.get("url")) {
          problems.AddAtLine(table.source().begin.line, t + ".url",
                             "a search source needs a url template with {keyword}");
        }
      } else if (source.url_template.find("{keyword}") == std::string::npos) {
        problems.Add(table.get("url")->source(), t + ".url",
                     "the template has no {keyword} placeholder");
      } else if (source.url_template.rfind("http://", 0) != 0 &&
                 source.url_template.rfind("https://", 0) != 0) {
        problems.Add(table.get("url")->source(), t + ".url",
                     "only http:// and https:// are fetched");
      }
      ReadInteger(table, t, "pages", 1, 10'000, source.pages, problems);
      ReadInteger(table, t, "page_size", 1, 10'000, source.page_size, problems);
      ReadInteger(table, t, "max_urls_per_page", 1, 1'000'000, source.max_urls_per_page, problems);
      if (ReadString(table, t, "extract", source.extract, problems)) {
        const std::string& e = source.extract;
        const bool ok = e == "html" || (e.rfind("json:", 0) == 0 && e.size() > 5) ||
                        (e.rfind("regex:", 0) == 0 && e.size() > 6);
        if (!ok) {
          problems.Add(table.get("extract")->source(), t + ".extract",
                       "must be \"html\", \"json:KEY\" or \"regex:PATTERN\", got \"" + e + "\"");
        }
      }
      break;
    }
    case SourceKind::kUrls:
    case SourceKind::kFolder: {
      const char* key = source.kind == SourceKind::kUrls ? "file" : "path";
      std::string path;
      if (ReadString(table, t, key, path, problems)) {
        source.path = base_dir / path;
      } else if (!table.get(key)) {
        problems.AddAtLine(table.source().begin.line, t + "." + key,
                           source.kind == SourceKind::kUrls
                               ? "a urls source needs file = \"LIST.tsv\""
                               : "a folder source needs path = \"FOLDER\"");
      }
      break;
    }
  }
}

}  // namespace

Result<PipelineConfig> ParsePipelineText(const std::string& text, const std::string& display_name,
                                         const std::filesystem::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, display_name);
  } catch (const toml::parse_error& error) {
    std::ostringstream msg;
    msg << display_name << ":" << error.source().begin.line << ":" << error.source().begin.column
        << ": TOML syntax: " << error.description();
    return InvalidArgument(msg.str());
  }

  PipelineConfig config;
  config.file = display_name;
  Problems problems(display_name);
  static const std::set<std::string_view> kTopKeys = {"store",  "image",   "politeness",
                                                      "dedupe", "classes", "sources"};
  RejectUnknownKeys(root, "", kTopKeys, problems);

  std::string store = "store";
  ReadString(root, "", "store", store, problems);
  config.store = base_dir / store;

  auto read_table = [&](std::string_view key, auto&& reader) {
    const toml::node* node = root.get(key);
    if (!node) return;
    if (const toml::table* table = node->as_table()) {
      reader(*table);
    } else {
      problems.Add(node->source(), key, "expected a table ([" + std::string(key) + "])");
    }
  };
  read_table("image", [&](const toml::table& t) { ReadImage(t, config.image, problems); });
  read_table("politeness",
             [&](const toml::table& t) { ReadPoliteness(t, config.politeness, problems); });
  read_table("dedupe", [&](const toml::table& t) { ReadDedupe(t, config.dedupe, problems); });
  read_table("classes", [&](const toml::table& t) { ReadClasses(t, config.classes, problems); });
  if (!root.get("classes")) {
    // Checked after [[sources]] below: folder sources alone name their classes.
  } else if (config.classes.empty() && root.get("classes")->is_table()) {
    problems.Add(root.get("classes")->source(), "classes", "names no class");
  } else if (config.classes.size() > 256) {
    problems.Add(root.get("classes")->source(), "classes",
                 "more than 256 classes cannot be stored in a CIFAR label byte");
  }

  if (const toml::node* node = root.get("sources")) {
    if (const toml::array* array = node->as_array(); array && array->is_array_of_tables()) {
      size_t index = 0;
      for (const toml::node& element : *array) {
        Source source;
        ReadSource(*element.as_table(), index++, base_dir, source, problems);
        config.sources.push_back(std::move(source));
      }
    } else {
      problems.Add(node->source(), "sources", "expected [[sources]] tables");
    }
  }
  if (!root.get("classes")) {
    const bool only_folders =
        !config.sources.empty() &&
        std::all_of(config.sources.begin(), config.sources.end(),
                    [](const Source& source) { return source.kind == SourceKind::kFolder; });
    if (!only_folders) {
      problems.AddAtLine(1, "classes",
                         "missing: add a [classes] table, e.g. kumamon = [\"熊本熊\"]");
    } else {
      config.classes = ClassesFromFolders(config.sources);
      if (config.classes.empty()) {
        problems.AddAtLine(1, "classes",
                           "missing, and the folder sources have no subfolders to name them");
      } else if (config.classes.size() > 256) {
        problems.AddAtLine(1, "classes",
                           "the folder sources have more than 256 subfolders: more classes than "
                           "a CIFAR label byte can hold");
      }
    }
  }
  if (!problems.empty()) return problems.ToStatus();
  return config;
}

Result<PipelineConfig> LoadPipelineFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open pipeline file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("read failed", path.string());
  auto config = ParsePipelineText(text.str(), path.string(), path.parent_path());
  if (config.ok()) config->file = path;
  return config;
}

Result<std::vector<ClassSpec>> LoadKeywordList(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open keyword list", path.string());
  std::vector<ClassSpec> classes;
  std::vector<std::string> problems;
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    const std::string where = path.string() + ":" + std::to_string(line_number) + ": ";
    if (tab == std::string::npos) {
      problems.push_back(where + "expected \"label<TAB>keyword\", found no tab");
      continue;
    }
    std::string label = line.substr(0, tab);
    std::string keyword = line.substr(tab + 1);
    if (label.empty() || keyword.empty()) {
      problems.push_back(where + (label.empty() ? "empty label" : "empty keyword"));
      continue;
    }
    auto it = std::find_if(classes.begin(), classes.end(),
                           [&](const ClassSpec& c) { return c.name == label; });
    if (it == classes.end()) {
      classes.push_back({label, {}});
      it = classes.end() - 1;
    }
    it->keywords.push_back(keyword);
  }
  if (classes.empty() && problems.empty()) problems.push_back(path.string() + ": no keywords");
  if (!problems.empty()) {
    std::string joined;
    for (const auto& p : problems) joined += (joined.empty() ? "" : "\n") + p;
    return InvalidArgument(joined);
  }
  return classes;
}

}  // namespace memes::pipelines
