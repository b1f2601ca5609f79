// Shard index/count resolution from flags or the array-job environment of each engine, and the
// assignment of cells to shards.
#include <cstdlib>
#include <string>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"

namespace fieldseg::batch {

namespace {

// Index variables in priority order; only Slurm and Cloud Run also give a count.
const char* const kIndexVars[] = {"SLURM_ARRAY_TASK_ID", "AWS_BATCH_JOB_ARRAY_INDEX",
                                  "JOB_COMPLETION_INDEX", "CLOUD_RUN_TASK_INDEX"};
const char* const kCountVars[] = {"SLURM_ARRAY_TASK_COUNT", "CLOUD_RUN_TASK_COUNT"};

int parseNonNegative(const std::string& text, const std::string& what) {
  bool ok = !text.empty() && text.size() <= 9 &&
            text.find_first_not_of("0123456789") == std::string::npos;
  if (!ok) {
    throw UsageError("batch: " + what + " '" + text +
                     "' is not a non-negative integer. Fix the value or pass --shard-index / "
                     "--shard-count explicitly.");
  }
  return std::stoi(text);
}

}  // namespace

EnvLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

ShardSpec resolveShard(std::optional<int> indexFlag, std::optional<int> countFlag,
                       const EnvLookup& env) {
  ShardSpec s;
  bool haveIndex = false, haveCount = false;
  if (indexFlag) {
    if (*indexFlag < 0) {
      throw UsageError("batch: --shard-index " + std::to_string(*indexFlag) + " must be >= 0.");
    }
    s.index = *indexFlag;
    s.indexSource = "flag";
    haveIndex = true;
  } else {
    for (const char* var : kIndexVars) {
      if (auto v = env(var); v && !v->empty()) {
        s.index = parseNonNegative(*v, std::string("environment variable ") + var);
        s.indexSource = var;
        haveIndex = true;
        break;
      }
    }
  }
  if (countFlag) {
    if (*countFlag < 1) {
      throw UsageError("batch: --shard-count " + std::to_string(*countFlag) + " must be >= 1.");
    }
    s.count = *countFlag;
    s.countSource = "flag";
    haveCount = true;
  } else {
    for (const char* var : kCountVars) {
      if (auto v = env(var); v && !v->empty()) {
        s.count = parseNonNegative(*v, std::string("environment variable ") + var);
        s.countSource = var;
        haveCount = true;
        if (s.count < 1) {
          throw UsageError(std::string("batch: environment variable ") + var +
                           " is 0. Pass --shard-count.");
        }
        break;
      }
    }
  }
  if (haveIndex && !haveCount) {
    throw UsageError("batch: shard index " + std::to_string(s.index) + " (from " + s.indexSource +
                     ") has no shard count: this engine does not provide one. Pass --shard-count "
                     "N (the array size).");
  }
  if (haveCount && !haveIndex) {
    throw UsageError("batch: shard count " + std::to_string(s.count) + " (from " + s.countSource +
                     ") has no shard index. Pass --shard-index I or run inside an array job.");
  }
  if (s.index >= s.count) {
    throw UsageError("batch: shard index " + std::to_string(s.index) + " (from " + s.indexSource +
                     ") is not below the shard count " + std::to_string(s.count) + " (from " +
                     s.countSource + "). Array indices must run 0..N-1 (e.g. sbatch --array=0-" +
                     std::to_string(s.count - 1) +
                     "); pass --shard-count N when resubmitting "
                     "a subset of tasks.");
  }
  return s;
}

std::vector<int> cellsOfShard(int cellCount, const ShardSpec& shard, ShardMode mode) {
  std::vector<int> out;
  if (cellCount <= 0) return out;
  if (mode == ShardMode::RoundRobin) {
    for (int i = shard.index; i < cellCount; i += shard.count) out.push_back(i);
  } else {
    // Balanced contiguous blocks: shard s gets [s*n/count, (s+1)*n/count).
    const long long n = cellCount;
    const long long b = n * shard.index / shard.count;
    const long long e = n * (shard.index + 1) / shard.count;
    for (long long i = b; i < e; ++i) out.push_back(static_cast<int>(i));
  }
  return out;
}

int shardOfCell(int cellIndex, int cellCount, int shardCount, ShardMode mode) {
  if (mode == ShardMode::RoundRobin) return cellIndex % shardCount;
  // The block formula's inverse: the largest s with s*n/count <= cellIndex.
  const long long n = cellCount;
  long long s = (static_cast<long long>(cellIndex) * shardCount) / n;
  while (s + 1 < shardCount && n * (s + 1) / shardCount <= cellIndex) ++s;
  while (s > 0 && n * s / shardCount > cellIndex) --s;
  return static_cast<int>(s);
}

}  // namespace fieldseg::batch
