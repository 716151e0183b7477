// review_bench_select: `memes review`'s selection (pipelines/review_scoring.h FindLabelIssues)
// on a review folder's saved out-of-fold probabilities, without training: prints the flagged
// rows, one a line, as bench/confident_learning.py REVIEW_DIR does, so the C++ rule and the NumPy
// peer can be compared on any pred_probs.npy (bench/review_bench.py score does).
//   review_bench_select REVIEW_DIR   (reads pred_probs.npy: <f4 (N, C); labels.npy: <i8 (N,))
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "pipelines/review_scoring.h"

namespace {

// The data of a .npy v1.0 file of `descr` (C order), and its shape; false when it is not one.
bool ReadNpy(const std::string& path, const std::string& descr, std::vector<char>& data,
             std::vector<int64_t>& shape) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY\x01\x00", 8) != 0) return false;
  const size_t header_size =
      static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  if (bytes.size() < 10 + header_size) return false;
  const std::string header(bytes.data() + 10, header_size);
  if (header.find("'descr': '" + descr + "'") == std::string::npos ||
      header.find("'fortran_order': False") == std::string::npos) {
    return false;
  }
  const size_t open = header.find("'shape': (");
  if (open == std::string::npos) return false;
  shape.clear();
  for (size_t at = open + 10; at < header.size() && header[at] != ')';) {
    if (header[at] >= '0' && header[at] <= '9') {
      size_t end = at;
      shape.push_back(std::stoll(header.substr(at), &end));
      at += end;
    } else {
      ++at;
    }
  }
  data.assign(bytes.begin() + 10 + header_size, bytes.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: review_bench_select REVIEW_DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<char> probs_bytes, labels_bytes;
  std::vector<int64_t> probs_shape, labels_shape;
  if (!ReadNpy(dir + "/pred_probs.npy", "<f4", probs_bytes, probs_shape) ||
      !ReadNpy(dir + "/labels.npy", "<i8", labels_bytes, labels_shape) || probs_shape.size() != 2 ||
      labels_shape.size() != 1 || probs_shape[0] != labels_shape[0] || probs_shape[1] < 2 ||
      probs_bytes.size() != static_cast<size_t>(probs_shape[0] * probs_shape[1]) * 4 ||
      labels_bytes.size() != static_cast<size_t>(labels_shape[0]) * 8) {
    std::fprintf(stderr, "review_bench_select: %s: not a review's pred_probs.npy and labels.npy\n",
                 dir.c_str());
    return 1;
  }
  const int classes = static_cast<int>(probs_shape[1]);
  std::vector<float> probs(probs_bytes.size() / 4);
  std::memcpy(probs.data(), probs_bytes.data(), probs_bytes.size());
  std::vector<int> labels(labels_shape[0]);
  for (size_t i = 0; i < labels.size(); ++i) {
    int64_t label = 0;
    std::memcpy(&label, labels_bytes.data() + i * 8, 8);
    if (label < 0 || label >= classes) {
      std::fprintf(stderr, "review_bench_select: %s: label %lld of row %zu out of range\n",
                   dir.c_str(), static_cast<long long>(label), i);
      return 1;
    }
    labels[i] = static_cast<int>(label);
  }
  for (int64_t row : memes::pipelines::FindLabelIssues(probs, labels, classes).flagged) {
    std::printf("%lld\n", static_cast<long long>(row));
  }
  return 0;
}
