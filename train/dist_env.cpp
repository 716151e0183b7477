#include "train/dist_env.h"

#include <cassert>
#include <charconv>
#include <cstdlib>

namespace memes::train {
namespace {

Result<int> ParseInt(const char* name, const std::string& text, int low, int high) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return InvalidArgument("is \"" + text + "\", expected an integer in [" + std::to_string(low) +
                               ", " + std::to_string(high) + "]",
                           name);
  }
  return value;
}

struct Names {
  const char* launcher;
  const char* rank;
  const char* size;
  const char* local_rank;
};

}  // namespace

Result<DistEnv> ReadDistEnv(const std::function<std::optional<std::string>(const char*)>& get) {
  static constexpr Names kLaunchers[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK"},
      {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
  };
  DistEnv env;
  env.launcher = "none";
  for (const Names& names : kLaunchers) {
    const auto rank = get(names.rank);
    const auto size = get(names.size);
    if (!rank && !size) continue;
    if (!rank || !size) {
      return InvalidArgument(std::string("is set but ") + (rank ? names.size : names.rank) +
                                 " is not; both are needed to join a distributed run",
                             rank ? names.rank : names.size);
    }
    MEMES_ASSIGN_OR_RETURN(env.world_size, ParseInt(names.size, *size, 1, 1 << 20));
    MEMES_ASSIGN_OR_RETURN(env.rank, ParseInt(names.rank, *rank, 0, env.world_size - 1));
    if (const auto local = get(names.local_rank)) {
      MEMES_ASSIGN_OR_RETURN(env.local_rank, ParseInt(names.local_rank, *local, 0, 1 << 20));
    }
    env.launcher = names.launcher;
    break;
  }
  if (!env.distributed()) return env;
  const auto addr = get("MASTER_ADDR");
  const auto port = get("MASTER_PORT");
  if (!addr || addr->empty() || !port) {
    return InvalidArgument("a world size of " + std::to_string(env.world_size) + " (from " +
                           env.launcher +
                           "'s variables) needs MASTER_ADDR and MASTER_PORT: the host and port "
                           "of rank 0, where the ranks meet");
  }
  env.master_addr = *addr;
  MEMES_ASSIGN_OR_RETURN(env.master_port, ParseInt("MASTER_PORT", *port, 1, 65535));
  return env;
}

Result<DistEnv> ReadDistEnv() {
  return ReadDistEnv([](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

std::vector<uint32_t> RankSlice(const std::vector<uint32_t>& order, int global_batch, int rank,
                                int world_size) {
  assert(world_size >= 1 && rank >= 0 && rank < world_size);
  assert(global_batch % world_size == 0);
  if (world_size == 1) return order;
  std::vector<uint32_t> slice;
  slice.reserve(order.size() / world_size + 1);
  for (size_t start = 0; start < order.size(); start += global_batch) {
    const size_t length = std::min<size_t>(global_batch, order.size() - start);
    const size_t part = length / world_size;  // equal on every rank
    const auto first = order.begin() + static_cast<std::ptrdiff_t>(start + part * rank);
    slice.insert(slice.end(), first, first + static_cast<std::ptrdiff_t>(part));
  }
  return slice;
}

}  // namespace memes::train
