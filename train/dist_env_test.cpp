#include "train/dist_env.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>

namespace memes::train {
namespace {

Result<DistEnv> Read(const std::map<std::string, std::string>& vars) {
  return ReadDistEnv([&](const char* name) -> std::optional<std::string> {
    auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
  });
}

TEST(DistEnv, NoVariablesIsOneProcess) {
  auto env = Read({});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->world_size, 1);
  EXPECT_FALSE(env->distributed());
  EXPECT_EQ(env->launcher, "none");
}

TEST(DistEnv, TorchrunVariables) {
  auto env = Read({{"RANK", "3"},
                   {"WORLD_SIZE", "4"},
                   {"LOCAL_RANK", "1"},
                   {"MASTER_ADDR", "node0"},
                   {"MASTER_PORT", "29500"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->rank, 3);
  EXPECT_EQ(env->world_size, 4);
  EXPECT_EQ(env->local_rank, 1);
  EXPECT_EQ(env->master_addr, "node0");
  EXPECT_EQ(env->master_port, 29500);
  EXPECT_EQ(env->launcher, "torchrun");
}

TEST(DistEnv, OpenMpiAndSlurmVariables) {
  auto mpi = Read({{"OMPI_COMM_WORLD_RANK", "1"},
                   {"OMPI_COMM_WORLD_SIZE", "2"},
                   {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                   {"MASTER_ADDR", "h"},
                   {"MASTER_PORT", "1234"}});
  ASSERT_TRUE(mpi.ok()) << mpi.status().ToString();
  EXPECT_EQ(mpi->launcher, "openmpi");
  EXPECT_EQ(mpi->rank, 1);
  auto slurm = Read({{"SLURM_PROCID", "5"},
                     {"SLURM_NTASKS", "8"},
                     {"SLURM_LOCALID", "1"},
                     {"MASTER_ADDR", "h"},
                     {"MASTER_PORT", "1234"}});
  ASSERT_TRUE(slurm.ok()) << slurm.status().ToString();
  EXPECT_EQ(slurm->launcher, "slurm");
  EXPECT_EQ(slurm->rank, 5);
  EXPECT_EQ(slurm->world_size, 8);
}

TEST(DistEnv, BadValuesNameTheVariable) {
  auto missing_master = Read({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
  ASSERT_FALSE(missing_master.ok());
  EXPECT_NE(missing_master.status().ToString().find("MASTER_ADDR"), std::string::npos);
  auto rank_too_big =
      Read({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
  ASSERT_FALSE(rank_too_big.ok());
  EXPECT_NE(rank_too_big.status().ToString().find("RANK"), std::string::npos);
  auto half = Read({{"RANK", "0"}});
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().ToString().find("WORLD_SIZE"), std::string::npos);
  auto bad_port =
      Read({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "http"}});
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.status().ToString().find("MASTER_PORT"), std::string::npos);
}

TEST(RankSlice, PartsOfEachGlobalBatchAreDisjointAndEqual) {
  std::vector<uint32_t> order(10);
  std::iota(order.begin(), order.end(), 100u);
  // Global batches {100..103} {104..107} {108,109}; two ranks take halves of each.
  EXPECT_EQ(RankSlice(order, 4, 0, 2), (std::vector<uint32_t>{100, 101, 104, 105, 108}));
  EXPECT_EQ(RankSlice(order, 4, 1, 2), (std::vector<uint32_t>{102, 103, 106, 107, 109}));
  EXPECT_EQ(RankSlice(order, 4, 0, 1), order);
  // A short last batch that three ranks cannot divide: its leftover record is skipped.
  std::vector<uint32_t> seven(7);
  std::iota(seven.begin(), seven.end(), 0u);
  EXPECT_EQ(RankSlice(seven, 6, 2, 3), (std::vector<uint32_t>{4, 5}));
}

}  // namespace
}  // namespace memes::train
