#include "pipelines/crawl_work.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/sha256.h"
#include "ingest/url.h"

namespace memes::pipelines::crawl {
namespace fs = std::filesystem;

Result<std::vector<ingest::UrlExtractor>> MakeExtractors(const PipelineConfig& config) {
  std::vector<ingest::UrlExtractor> extractors;
  for (const Source& source : config.sources) {
    auto extractor = ingest::UrlExtractor::Create(
        source.kind == SourceKind::kSearch ? source.extract : std::string("html"),
        source.max_urls_per_page);
    if (!extractor.ok()) {
      return extractor.status().At(config.file.string() + ":" + std::to_string(source.line) +
                                   ": sources." + source.name + ".extract");
    }
    extractors.push_back(std::move(extractor).value());
  }
  return extractors;
}

Result<std::vector<PageTask>> ListPageTasks(const PipelineConfig& config,
                                            const std::vector<ingest::UrlExtractor>& extractors) {
  std::vector<PageTask> tasks;
  size_t keyword_index = 0;
  for (size_t s = 0; s < config.sources.size(); ++s) {
    const Source& source = config.sources[s];
    if (source.kind != SourceKind::kSearch) continue;
    if (Status check = ingest::CheckSearchTemplate(source.url_template); !check.ok()) {
      return check.At(config.file.string() + ":" + std::to_string(source.line) + ": sources." +
                      source.name + ".url");
    }
    for (const ClassSpec& spec : config.classes) {
      for (const std::string& keyword : spec.keywords) {
        for (int page = 1; page <= source.pages; ++page) {
          tasks.push_back({&source, &extractors[s], spec.name, keyword, page, keyword_index});
        }
        ++keyword_index;
      }
    }
  }
  return tasks;
}

namespace {

std::string Trim(std::string text) {
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  text.erase(text.begin(), std::find_if(text.begin(), text.end(), not_space));
  text.erase(std::find_if(text.rbegin(), text.rend(), not_space).base(), text.end());
  return text;
}

Status ListUrlFile(const Source& source, const std::set<std::string>& labels,
                   std::vector<ImagePtr>& out) {
  std::ifstream in(source.path);
  if (!in) return NotFound("cannot read the URL list", source.path.string());
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string text = Trim(line);
    if (text.empty() || text[0] == '#') continue;
    const size_t split = text.find_first_of("\t,");
    const std::string where = source.path.string() + ":" + std::to_string(number);
    if (split == std::string::npos) return InvalidArgument("expected label,url", where);
    const std::string label = Trim(text.substr(0, split));
    const std::string url = Trim(text.substr(split + 1));
    if (number == 1 && label == "label" && url == "url") continue;  // a header line
    if (!labels.count(label)) {
      return InvalidArgument("label '" + label + "' is not one of the classes", where);
    }
    auto image = std::make_shared<ImageWork>();
    image->url = url;
    image->label = label;
    image->source_name = source.name;
    out.push_back(std::move(image));
  }
  return Status();
}

Status ListFolder(const Source& source, const std::set<std::string>& labels,
                  std::vector<ImagePtr>& out) {
  std::error_code error;
  if (!fs::is_directory(source.path, error)) {
    return NotFound("not a folder", source.path.string());
  }
  std::vector<fs::path> files;
  for (const auto& label_dir : fs::directory_iterator(source.path, error)) {
    if (!label_dir.is_directory()) continue;
    const std::string label = label_dir.path().filename().string();
    if (!labels.count(label)) {
      return InvalidArgument("subfolder '" + label + "' is not one of the classes",
                             label_dir.path().string());
    }
    for (const auto& entry : fs::recursive_directory_iterator(label_dir.path(), error)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
  }
  if (error) return IoError(error.message(), source.path.string());
  std::sort(files.begin(), files.end());  // deterministic order
  for (const fs::path& file : files) {
    auto image = std::make_shared<ImageWork>();
    image->local_file = file;
    image->url = "file://" + fs::absolute(file).lexically_normal().string();
    image->label = fs::relative(file, source.path).begin()->string();
    image->source_name = source.name;
    out.push_back(std::move(image));
  }
  return Status();
}

}  // namespace

void AddSourceHosts(const PipelineConfig& config, const std::vector<ImagePtr>& direct_images,
                    std::vector<std::string>& hosts) {
  std::set<std::string> named(hosts.begin(), hosts.end());
  auto add = [&](const std::string& url) {
    auto parts = ingest::ParseHttpUrl(url);
    if (parts.ok() && named.insert(parts->host).second) hosts.push_back(parts->host);
  };
  for (const Source& source : config.sources) {
    if (source.kind != SourceKind::kSearch) continue;
    auto url = ingest::ExpandSearchUrl(source.url_template, "keyword", 1, source.page_size);
    if (url.ok()) add(*url);
  }
  for (const ImagePtr& image : direct_images) {
    if (image->local_file.empty()) add(image->url);
  }
}

void ReadLocalImage(ImageWork& image, uint64_t max_bytes) {
  image.fetch.url = image.url;
  const std::string where = image.local_file.string();
  auto fail = [&](ingest::FetchError error, Status status) {
    image.fetch.error = error;
    image.fetch.status = std::move(status);
    image.fetch.body.clear();
  };
  std::ifstream in(image.local_file, std::ios::binary);
  if (!in) return fail(ingest::FetchError::kOther, IoError("cannot open", where));
  std::error_code error;
  const uintmax_t size = fs::file_size(image.local_file, error);
  const auto too_large = [&](uint64_t bytes) {
    fail(ingest::FetchError::kTooLarge,
         LimitExceeded("file of " + std::to_string(bytes) + " bytes exceeds image.max_file_bytes " +
                           std::to_string(max_bytes),
                       where));
  };
  if (!error && size > max_bytes) return too_large(size);
  // Read at most one byte past the limit: a file that grew since the size check is caught
  // without holding more than max_bytes + 1 in memory.
  const uint64_t to_read = error ? max_bytes + 1 : std::min<uint64_t>(size, max_bytes) + 1;
  std::string bytes(static_cast<size_t>(to_read), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) return fail(ingest::FetchError::kOther, IoError("cannot read", where));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (bytes.size() > max_bytes) return too_large(bytes.size());
  image.fetch.body = std::move(bytes);
}

Result<std::vector<ImagePtr>> ListDirectImages(const PipelineConfig& config) {
  std::set<std::string> labels;
  for (const ClassSpec& spec : config.classes) labels.insert(spec.name);
  std::vector<ImagePtr> images;
  for (const Source& source : config.sources) {
    if (source.kind == SourceKind::kUrls) {
      MEMES_RETURN_IF_ERROR(ListUrlFile(source, labels, images));
    } else if (source.kind == SourceKind::kFolder) {
      MEMES_RETURN_IF_ERROR(ListFolder(source, labels, images));
    }
  }
  return images;
}

namespace {

bool ParseWhole(std::string_view text, int& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Unit keys: a kind, then fields that no pipeline file can make ambiguous (names and keywords
// cannot hold a NUL).
std::string SearchUnitKey(const PageTask& task) {
  return std::string("search") + '\0' + task.source->name + '\0' + task.label + '\0' + task.keyword;
}

std::string SliceUnitKey(const std::string& source_name, size_t slice) {
  return std::string("list") + '\0' + source_name + '\0' + std::to_string(slice);
}

}  // namespace

Result<Partition> ParsePartition(const std::string& text) {
  const size_t slash = text.find('/');
  Partition partition;
  if (slash == std::string::npos ||
      !ParseWhole(std::string_view(text).substr(0, slash), partition.index) ||
      !ParseWhole(std::string_view(text).substr(slash + 1), partition.count)) {
    return InvalidArgument("--partition takes K/N (e.g. 2/8), not '" + text + "'");
  }
  if (partition.count < 1 || partition.count > 1'000'000 || partition.index < 1 ||
      partition.index > partition.count) {
    return InvalidArgument("--partition K/N needs 1 <= K <= N <= 1000000, not '" + text + "'");
  }
  return partition;
}

int PartitionOfUnit(std::string_view unit_key, int count) {
  const Digest digest = Sha256Of(unit_key);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = value << 8 | digest[i];
  return static_cast<int>(value % static_cast<uint64_t>(count));
}

std::string SelectPartition(const Partition& partition, std::vector<PageTask>& tasks,
                            std::vector<ImagePtr>& direct_images) {
  if (partition.whole()) return {};
  // The fingerprint covers every unit of the whole crawl, in order: partitions of one plan
  // agree on it, so the merge can tell a partition of another pipeline file from a sibling.
  Sha256 plan;
  nlohmann::json search = nlohmann::json::array();
  nlohmann::json direct = nlohmann::json::array();
  const int wanted = partition.index - 1;

  std::vector<ImagePtr> kept_images;
  std::map<std::string, size_t> entries_per_source;
  for (size_t rank = 0; rank < direct_images.size(); ++rank) {
    ImagePtr& image = direct_images[rank];
    const size_t in_source = entries_per_source[image->source_name]++;
    const std::string key = SliceUnitKey(image->source_name, in_source / kPartitionSlice);
    if (in_source % kPartitionSlice == 0) {  // a slice's first entry: a new unit
      plan.Update(key);
      plan.Update(std::string_view("\n", 1));
    }
    if (PartitionOfUnit(key, partition.count) != wanted) continue;
    direct.push_back({rank, image->url});
    kept_images.push_back(std::move(image));
  }
  direct_images = std::move(kept_images);

  std::vector<PageTask> kept_tasks;
  size_t dense = 0;
  size_t last_original = SIZE_MAX;
  bool last_kept = false;
  for (PageTask& task : tasks) {
    if (task.keyword_index != last_original) {  // a keyword's first page: a new unit
      last_original = task.keyword_index;
      const std::string key = SearchUnitKey(task);
      plan.Update(key);
      plan.Update(std::string_view("\n", 1));
      last_kept = PartitionOfUnit(key, partition.count) == wanted;
      if (last_kept) {
        search.push_back({task.keyword_index, task.source->name, task.keyword});
        ++dense;
      }
    }
    if (!last_kept) continue;
    task.keyword_index = dense - 1;
    kept_tasks.push_back(std::move(task));
  }
  tasks = std::move(kept_tasks);

  nlohmann::json record = {{"partition", partition.Name()},
                           {"plan", ToHex(plan.Finish()).substr(0, 16)},
                           {"search", std::move(search)},
                           {"direct", std::move(direct)}};
  return record.dump();
}

Status RecordPartition(store::Catalog& catalog, const Partition& partition,
                       const std::string& record, const std::string& store_dir) {
  MEMES_ASSIGN_OR_RETURN(const std::optional<std::string> held, catalog.GetMeta(kPartitionMetaKey));
  auto describe = [](const std::string& json) {
    const auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("partition")) return std::string("?");
    return parsed["partition"].get<std::string>() + " of plan " +
           parsed.value("plan", std::string("?"));
  };
  if (partition.whole()) {
    if (!held) return Status::Ok();
    return InvalidArgument("this store holds partition " + describe(*held) +
                               " of a crawl; crawl the whole into another store, or give the "
                               "same --partition",
                           store_dir);
  }
  if (held) {
    if (describe(*held) == describe(record)) return Status::Ok();
    return InvalidArgument("this store holds partition " + describe(*held) + ", not " +
                               describe(record) +
                               " (another partition, or the pipeline file changed since); "
                               "crawl each partition into its own store",
                           store_dir);
  }
  MEMES_ASSIGN_OR_RETURN(const int64_t items, catalog.CountItems());
  if (items > 0) {
    return InvalidArgument(
        "this store already holds an unpartitioned crawl; give each partition a new store",
        store_dir);
  }
  return catalog.SetMeta(kPartitionMetaKey, record);
}

void SharePoliteness(ingest::FetchSettings& settings, const Partition& partition) {
  if (partition.whole()) return;
  const int n = partition.count;
  settings.per_host_rate /= n;
  settings.per_host_burst = std::max(1, settings.per_host_burst / n);
  settings.per_host_transfers = std::max(1, settings.per_host_transfers / n);
  MEMES_LOG(kInfo) << "partition " << partition.Name() << ": per-host limits divided by " << n
                   << " (rate " << settings.per_host_rate << "/s, burst " << settings.per_host_burst
                   << ", transfers " << settings.per_host_transfers << "), so " << n
                   << " partitions together stay within the pipeline file's [politeness]";
}

}  // namespace memes::pipelines::crawl
