// metrics.jsonl of a run folder: one JSON line per finished epoch (train/README.md, "The run
// folder"). LibTorch-free. Thread-safety: pure functions over files.
#pragma once

#include <filesystem>
#include <vector>

#include "core/status.h"
#include "train/plots.h"

namespace memes::train {

// The lines of epochs <= last_epoch (a resumed run drops lines it will redo); unreadable lines
// are skipped (the file is rewritten whole at every epoch, so only a foreign edit makes one).
std::vector<EpochMetrics> ReadMetrics(const std::filesystem::path& path, int last_epoch);

// Rewrites the file atomically with one line per epoch.
Status WriteMetrics(const std::filesystem::path& path, const std::vector<EpochMetrics>& epochs);

}  // namespace memes::train
