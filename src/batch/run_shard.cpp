// Runs the cells of one shard: skip what is finished, delineate and write the rest, keep going past
// a failing cell and fail at the end, so one bad cell does not waste the whole task.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "atomic_file.hpp"
#include "cell_store_internal.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"

namespace fieldseg::batch {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

int ShardRunReport::processed() const {
  int n = 0;
  for (const auto& c : cells) n += c.action == "processed";
  return n;
}

int ShardRunReport::skipped() const {
  int n = 0;
  for (const auto& c : cells) n += c.action == "skipped";
  return n;
}

std::string ShardRunReport::toJson() const {
  Json j;
  j["shard_index"] = shard.index;
  j["shard_count"] = shard.count;
  j["index_source"] = shard.indexSource;
  j["count_source"] = shard.countSource;
  Json processedIds = Json::array(), skippedIds = Json::array(), failedIds = Json::array();
  Json cellsJson = Json::array();
  for (const auto& c : cells) {
    if (c.action == "processed")
      processedIds.push_back(c.id);
    else if (c.action == "skipped")
      skippedIds.push_back(c.id);
    else
      failedIds.push_back(c.id);
    cellsJson.push_back({{"id", c.id},
                         {"action", c.action},
                         {"reason", c.reason},
                         {"fields", c.fields},
                         {"seconds", c.seconds}});
  }
  j["processed"] = std::move(processedIds);
  j["skipped"] = std::move(skippedIds);
  j["failed"] = std::move(failedIds);
  j["cells"] = std::move(cellsJson);
  if (!runInfoJson.empty()) j["run"] = Json::parse(runInfoJson);
  return j.dump(2) + "\n";
}

ShardRunReport runShard(const GridManifest& grid, const ShardSpec& shard, const std::string& dir,
                        const CellDelineator& delineate, const ShardRunOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  int stallAt = 0;
  if (const char* v = std::getenv("FIELDSEG_BATCH_STALL_BEFORE_MARKER")) stallAt = std::atoi(v);

  ShardRunReport report;
  report.shard = shard;
  report.runInfoJson = options.runInfoJson;
  if (!report.runInfoJson.empty() && !Json::accept(report.runInfoJson)) {
    throw UsageError("batch: run info is not valid JSON. Pass a JSON object.");
  }
  std::vector<std::string> failures;
  const std::vector<int> mine =
      cellsOfShard(static_cast<int>(grid.cells.size()), shard, grid.shardMode);
  log("batch: shard " + std::to_string(shard.index) + " of " + std::to_string(shard.count) + " (" +
      toString(grid.shardMode) + "): " + std::to_string(mine.size()) + " of " +
      std::to_string(grid.cells.size()) + " cells");
  int processedCount = 0;
  for (int idx : mine) {
    const GridCell& cell = grid.cells[static_cast<size_t>(idx)];
    CellStatus st = inspectCell(dir, cell.id);
    CellRun run;
    run.id = cell.id;
    if (st.state == CellState::Finished && !options.force) {
      run.action = "skipped";
      run.reason = "finished";
      log("batch: cell " + cell.id + " skipped (finished)");
      report.cells.push_back(run);
      continue;
    }
    run.reason = st.state == CellState::Finished ? "forced" : toString(st.state);
    auto t0 = std::chrono::steady_clock::now();
    try {
      FieldSet fields = delineate(cell);
      std::string out = cellOutputText(cell, grid.crs, fields);
      CellPaths p = cellPaths(dir, cell.id);
      std::error_code ec;
      fs::remove(p.marker, ec);
      writeFileAtomic(p.output, out);
      ++processedCount;
      if (stallAt > 0 && processedCount == stallAt) {
        log("batch: cell " + cell.id +
            " output written; stalling before its done-marker "
            "(FIELDSEG_BATCH_STALL_BEFORE_MARKER)");
        for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      writeFileAtomic(p.marker, markerText(cell, out, static_cast<int>(fields.fields.size())));
      run.action = "processed";
      run.fields = static_cast<int>(fields.fields.size());
    } catch (const Error& e) {
      run.action = "failed";
      failures.push_back(cell.id + ": " + e.what());
      log("batch: cell " + cell.id + " FAILED: " + e.what());
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (run.action == "processed") {
      log("batch: cell " + cell.id + " processed (was " + run.reason + "), " +
          std::to_string(run.fields) + " fields");
    }
    report.cells.push_back(run);
  }
  writeFileAtomic(
      (fs::path(dir) / "runs" /
       ("shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) + ".json"))
          .string(),
      report.toJson());
  if (!failures.empty()) {
    std::string msg = "batch: " + std::to_string(failures.size()) + " of " +
                      std::to_string(mine.size()) + " cells of shard " +
                      std::to_string(shard.index) + " failed: " + failures.front();
    if (failures.size() > 1) msg += " (and " + std::to_string(failures.size() - 1) + " more)";
    throw Error(msg + ". Fix the cause and rerun the shard; finished cells are skipped.");
  }
  return report;
}

}  // namespace fieldseg::batch
