#include <gtest/gtest.h>

#include <map>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"

using namespace fieldseg;
using namespace fieldseg::batch;

namespace {
EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST(BatchShard, FlagsWinOverEnvironment) {
  ShardSpec s =
      resolveShard(2, 5, fakeEnv({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_EQ(s.indexSource, "flag");
  EXPECT_EQ(s.countSource, "flag");
}

TEST(BatchShard, EachEngine) {
  ShardSpec s = resolveShard(
      {}, {}, fakeEnv({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.indexSource, "SLURM_ARRAY_TASK_ID");
  EXPECT_EQ(s.countSource, "SLURM_ARRAY_TASK_COUNT");

  s = resolveShard({}, 10, fakeEnv({{"AWS_BATCH_JOB_ARRAY_INDEX", "7"}}));
  EXPECT_EQ(s.index, 7);
  EXPECT_EQ(s.count, 10);
  EXPECT_EQ(s.indexSource, "AWS_BATCH_JOB_ARRAY_INDEX");

  s = resolveShard({}, 3, fakeEnv({{"JOB_COMPLETION_INDEX", "0"}}));
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.indexSource, "JOB_COMPLETION_INDEX");

  s = resolveShard({}, {}, fakeEnv({{"CLOUD_RUN_TASK_INDEX", "1"}, {"CLOUD_RUN_TASK_COUNT", "2"}}));
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.count, 2);
  EXPECT_EQ(s.countSource, "CLOUD_RUN_TASK_COUNT");
}

TEST(BatchShard, DefaultsToAllCellsWithoutAnyIndex) {
  ShardSpec s = resolveShard({}, {}, fakeEnv({}));
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.count, 1);
  EXPECT_EQ(s.indexSource, "default");
}

TEST(BatchShard, Errors) {
  // AWS Batch and Kubernetes give no count.
  EXPECT_THROW(resolveShard({}, {}, fakeEnv({{"AWS_BATCH_JOB_ARRAY_INDEX", "1"}})), UsageError);
  EXPECT_THROW(resolveShard({}, {}, fakeEnv({{"JOB_COMPLETION_INDEX", "1"}})), UsageError);
  EXPECT_THROW(resolveShard({}, 4, fakeEnv({{"SLURM_ARRAY_TASK_ID", "x1"}})), UsageError);
  EXPECT_THROW(resolveShard({}, 4, fakeEnv({{"SLURM_ARRAY_TASK_ID", "-1"}})), UsageError);
  // Slurm --array=1-4 gives ids 1..4: id 4 is out of range for 4 shards.
  try {
    resolveShard({}, {}, fakeEnv({{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--array=0-3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolveShard(0, 0, fakeEnv({})), UsageError);
  EXPECT_THROW(resolveShard(-1, 2, fakeEnv({})), UsageError);
  EXPECT_THROW(resolveShard({}, 3, fakeEnv({})), UsageError);
  EXPECT_THROW(resolveShard(1, {}, fakeEnv({})), UsageError);
}

TEST(BatchShard, AssignmentsPartitionTheCells) {
  for (ShardMode mode : {ShardMode::RoundRobin, ShardMode::Blocks}) {
    for (int n : {0, 1, 5, 16, 17, 100}) {
      for (int count : {1, 2, 3, 4, 7, 16, 20}) {
        std::vector<int> owner(static_cast<size_t>(n), -1);
        size_t maxSize = 0, minSize = static_cast<size_t>(n) + 1;
        for (int s = 0; s < count; ++s) {
          ShardSpec spec;
          spec.index = s;
          spec.count = count;
          auto cells = cellsOfShard(n, spec, mode);
          maxSize = std::max(maxSize, cells.size());
          minSize = std::min(minSize, cells.size());
          for (size_t k = 0; k < cells.size(); ++k) {
            if (k) {
              ASSERT_LT(cells[k - 1], cells[k]);
            }
            ASSERT_EQ(owner[static_cast<size_t>(cells[k])], -1) << "cell in two shards";
            owner[static_cast<size_t>(cells[k])] = s;
            ASSERT_EQ(shardOfCell(cells[k], n, count, mode), s);
          }
          if (mode == ShardMode::Blocks && cells.size() > 1) {
            ASSERT_EQ(cells.back() - cells.front() + 1, static_cast<int>(cells.size()));
          }
        }
        for (int o : owner) ASSERT_GE(o, 0) << "cell in no shard";
        if (n > 0) {
          EXPECT_LE(maxSize - minSize, 1u) << "unbalanced";
        }
      }
    }
  }
  ShardSpec s;
  s.index = 1;
  s.count = 4;
  EXPECT_EQ(cellsOfShard(10, s, ShardMode::RoundRobin), (std::vector<int>{1, 5, 9}));
  EXPECT_EQ(cellsOfShard(10, s, ShardMode::Blocks), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(shardModeFromString(toString(ShardMode::Blocks)), ShardMode::Blocks);
  EXPECT_THROW(shardModeFromString("random"), UsageError);
}
