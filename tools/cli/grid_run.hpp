// Grid mode of `fieldseg delineate` (owner: batch). delineate_command.cpp calls
// addGridRunOptions() in its setup and, in its callback, hands its resolved input and options to
// runGridShard() when gridRunRequested(); everything else about grid runs lives in src/batch.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "fieldseg/delineate.hpp"

namespace fieldseg::cli {

struct GridRunFlags {
  std::string grid;
  int shardIndex = -1;  ///< -1 = from the environment
  int shardCount = -1;
  std::string outDir;
  int cellHaloPx = 256;
  bool force = false;
  bool countSet = false, indexSet = false;
};

/// Adds --grid, --shard-index, --shard-count, --out-dir, --cell-halo-px, --redo-finished.
void addGridRunOptions(CLI::App& sub, GridRunFlags& flags);
bool gridRunRequested(const GridRunFlags& flags);

/// Runs this task's cells. `input.dates` empty = each cell reads the first image the grid lists
/// for it; otherwise those dates are used for every cell (a grid built from the first date).
/// `input.probabilitiesIn` (oracle / external model) works the same way. Prints the shard report
/// JSON on stdout. Throws UsageError / Error.
void runGridShard(const GridRunFlags& flags, const DelineateInput& input,
                  const DelineateOptions& options);

}  // namespace fieldseg::cli
