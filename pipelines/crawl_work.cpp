#include "pipelines/crawl_work.h"

#include <algorithm>
#include <fstream>
#include <set>

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

}  // namespace memes::pipelines::crawl
