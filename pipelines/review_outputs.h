// The files `memes review` writes into its --out folder (layouts in docs/review.md):
// suspects.csv (what `memes label import` reads back), suspects.png (a mosaic per class of the
// worst suspects with the suggested class written under each), and the raw out-of-fold
// probabilities for other tools: pred_probs.npy (float32, (N, C)), labels.npy (int64, (N,)) and
// hashes.txt (row i's blob). Every file is written atomically (temp + rename).
// Thread-safety: reentrant; concurrent calls must not write the same paths.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace memes::pipelines {

// One row of suspects.csv.
struct SuspectRow {
  std::string blob;
  std::string label;      // the catalog's label now
  std::string suggested;  // the class the out-of-fold model prefers
  double score = 0;       // self-confidence: p(label), in [0, 1]; lower = more likely wrong
  std::string url;        // the first source URL (may be empty)
  double margin = 0;      // normalized margin, in [0, 1]
  int frames = 0;         // frames averaged for the prediction
  int fold = 0;           // the fold the item was held out in
};

// suspects.csv: header "hash,label,suggested,score,url,action,margin,frames,fold"; the first six
// columns are a contract (memes serve and `label import` read them); action is left empty for a
// person to fill in. Rows in the given order (the caller sorts them worst first).
Status WriteSuspectsCsv(const std::filesystem::path& path, std::span<const SuspectRow> rows);

// A NumPy .npy v1.0 file of little-endian float32 values with shape (rows, cols), C order.
Status WriteNpyFloat32(const std::filesystem::path& path, std::span<const float> values,
                       int64_t rows, int64_t cols);
// A NumPy .npy v1.0 file of little-endian int64 values with shape (count,).
Status WriteNpyInt64(const std::filesystem::path& path, std::span<const int64_t> values);

// suspects.png: one row per class with suspects (classes in `classes` order), up to `per_class`
// of its worst suspects (first frame, scaled up), each captioned "-> suggested".
// `rows` in worst-first order. Frames come from `store` (frames/).
Status WriteSuspectsMosaic(const std::filesystem::path& path, store::Store& store,
                           std::span<const SuspectRow> rows,
                           const std::vector<std::string>& classes, int per_class);

}  // namespace memes::pipelines
