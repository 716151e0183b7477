// Which rank of a data-parallel training job this process is, read from the variables that
// torchrun, OpenMPI's mpirun, Slurm's srun and Kubernetes' PyTorchJob set, and which records of
// an epoch that rank trains on. LibTorch-free (the process group itself is train/distributed.h).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace memes::train {

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;       // rank on this machine (picks the GPU)
  std::string master_addr;  // rank 0's host, where the rendezvous store listens
  int master_port = 0;
  std::string launcher;  // which variables said so: "torchrun", "openmpi", "slurm", "none"
  bool distributed() const { return world_size > 1; }
};

// Reads, first match wins: RANK/WORLD_SIZE/LOCAL_RANK (torchrun, PyTorchJob), then
// OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK (mpirun), then SLURM_PROCID/NTASKS/LOCALID (srun).
// None of them: one process (world size 1). A world size above 1 needs MASTER_ADDR and
// MASTER_PORT whatever the launcher (mpirun and srun do not set them). Malformed or
// inconsistent values are an InvalidArgument naming the variable.
// `get` returns a variable's value, nullopt when unset (tests pass a map; see ReadDistEnv()).
Result<DistEnv> ReadDistEnv(const std::function<std::optional<std::string>(const char*)>& get);
Result<DistEnv> ReadDistEnv();  // from this process's environment

// The records `rank` trains on in one epoch, in order: `order` is cut into global batches of
// `global_batch` records (the last may be shorter) and each is cut into `world_size` equal
// contiguous parts; the rank takes part `rank` of each. So rank r's batch k (of
// global_batch / world_size records) is part r of the one-process run's batch k, and every rank
// gets the same number of records (the at most world_size - 1 records a short last batch does
// not divide evenly are left out this epoch).
// Requires: global_batch % world_size == 0, 0 <= rank < world_size.
std::vector<uint32_t> RankSlice(const std::vector<uint32_t>& order, int global_batch, int rank,
                                int world_size);

}  // namespace memes::train
