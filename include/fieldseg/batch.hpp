// Country-scale batch runs: a grid of cells over an AOI or a set of images, sharded over the tasks
// of an array job (Slurm, AWS Batch, Kubernetes Indexed Job, Cloud Run), one output per cell
// written atomically with a done-marker, and a merge of all cell outputs into one layer.
//
// The grid manifest (grid.json) is the contract between `fieldseg grid`, the array tasks
// (`fieldseg delineate --grid`) and `fieldseg merge`: every task reads the same manifest and
// derives its cells from (shard index, shard count) alone, so no coordination service is needed.
//
// Ownership: a cell is a core window; the delineator reads it with a halo and returns only the
// fields owned by the core (the tile rule), so cells never duplicate or cut fields. Merge therefore
// only concatenates, re-numbers and checks.
//
// Thread safety: all functions are reentrant; value types are plain. Two processes may run the same
// cell at once (a retried task beside a slow one): writes go to unique temp names and are renamed
// into place, so the last writer wins with a complete file either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg::batch {

// ---- grid -------------------------------------------------------------------------------------

/// How cells are assigned to shards (stored in the manifest so all tasks agree).
enum class ShardMode {
  RoundRobin,  ///< cell i -> shard i % count: spreads dense and empty regions over all tasks
  Blocks       ///< contiguous runs of cells (row-major): better read locality per task
};
std::string toString(ShardMode mode);
ShardMode shardModeFromString(const std::string& text);  ///< throws UsageError

struct GridCell {
  int index = 0;    ///< position in the manifest (0-based, row-major north to south, west to east)
  std::string id;   ///< "x<ix>_y<iy>", stable for a given CRS, cell size and origin
  int ix = 0;       ///< column: minX = origin.x + ix * cellM
  int iy = 0;       ///< row counted northwards: minY = origin.y + iy * cellM
  WorldBox bounds;  ///< in the grid CRS
  std::vector<std::string> images;  ///< images whose footprint overlaps the cell, in input order
};

/// Longest cell id a manifest may hold (ids become file names).
constexpr std::size_t kMaxCellIdLength = 64;
/// True for 1..kMaxCellIdLength characters of [A-Za-z0-9_-], not starting with '-': no path
/// separator, no dot, no NUL, nothing hidden. `readGrid` refuses manifests with any other id.
bool isValidCellId(const std::string& id);

struct GridManifest {
  Crs crs;           ///< metric CRS of the cell bounds
  double cellM = 0;  ///< cell side in CRS units (metres)
  Point origin;      ///< cell edges lie at origin + k * cellM
  ShardMode shardMode = ShardMode::RoundRobin;
  std::vector<std::string> images;  ///< all input images, as given
  std::string aoi;                  ///< AOI path, empty when the image footprints define the area
  std::vector<GridCell> cells;
  /// Cells inside the AOI that no image covers (not in `cells`; reported so gaps are visible).
  std::vector<std::string> uncoveredCells;

  const GridCell* find(const std::string& cellId) const;
};

/// An image and its footprint (outline of its pixel grid, densified, in the image's own CRS).
struct ImageFootprint {
  std::string path;
  Polygon footprint;
  Crs crs;
};
/// Footprint of a pixel grid: its outline with `pointsPerEdge` points per side (in the grid's CRS).
ImageFootprint footprintOf(const std::string& path, const GridSpec& grid, int pointsPerEdge = 16);

struct GridOptions {
  double cellM = 10000;
  /// Grid CRS; empty = the images' common projected CRS, else the UTM zone of the area's centre.
  Crs crs;
  /// Cell origin; unset = (0, 0) of the CRS (global alignment) unless snapToExtent.
  std::optional<Point> origin;
  /// Put the origin at the south-west corner of the area (AOI or image union) instead.
  bool snapToExtent = false;
  ShardMode shardMode = ShardMode::RoundRobin;
};

/// Builds the manifest: every cell whose box overlaps (positive area) the AOI, or the union of the
/// image footprints when `aoi` is empty, and lists per cell the images overlapping it. Cells of the
/// AOI with no image go to uncoveredCells (when images are given). Deterministic: same inputs, same
/// manifest. Throws UsageError (cellM <= 0, nothing given), DataError (nothing overlaps, CRS
/// issues).
GridManifest buildGrid(const std::vector<ImageFootprint>& images, const FieldSet& aoi,
                       const GridOptions& options, const std::string& aoiPath = {});

std::string toJson(const GridManifest& grid);  ///< stable key order, 2-space indent
/// Parses a manifest; `source` names it in error messages. Throws DataError.
GridManifest gridFromJson(const std::string& text, const std::string& source);
void writeGrid(const GridManifest& grid, const std::string& path, bool overwrite);  ///< atomic
GridManifest readGrid(const std::string& path);  ///< throws IoError / DataError

/// The pixel window of `cell` on an image grid in the same CRS: cell edges rounded to the nearest
/// pixel edge (shared edges round identically, so the windows of all cells partition the pixels),
/// clipped to the raster. Throws DataError when the CRSs differ or the grid is rotated.
PixelWindow cellWindow(const GridCell& cell, const Crs& gridCrs, const GridSpec& image);

// ---- shards -----------------------------------------------------------------------------------

struct ShardSpec {
  int index = 0;
  int count = 1;
  std::string indexSource = "default";  ///< "flag", an environment variable name, or "default"
  std::string countSource = "default";
};

/// Environment lookup (injectable for tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

/// Resolves the shard: flags win; else the index comes from SLURM_ARRAY_TASK_ID,
/// AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX or CLOUD_RUN_TASK_INDEX (first set, in that
/// order) and the count from SLURM_ARRAY_TASK_COUNT or CLOUD_RUN_TASK_COUNT. AWS Batch and
/// Kubernetes give no count: pass --shard-count. With no index anywhere and no count flag: shard 0
/// of 1 (all cells). Throws UsageError for non-numbers, index outside [0, count), an index without
/// a count.
ShardSpec resolveShard(std::optional<int> indexFlag, std::optional<int> countFlag,
                       const EnvLookup& env);

/// Cell indices (into GridManifest::cells) of one shard, ascending.
std::vector<int> cellsOfShard(int cellCount, const ShardSpec& shard, ShardMode mode);
/// The shard that runs cell `cellIndex`.
int shardOfCell(int cellIndex, int cellCount, int shardCount, ShardMode mode);

// ---- cell outputs -----------------------------------------------------------------------------

/// DIR/cells/<id>.geojson (GeoJSON 2008 in the grid CRS with full double precision, readable by
/// GDAL) and DIR/cells/<id>.done (JSON: byte size and FNV-1a 64 hash of the output, field count).
struct CellPaths {
  std::string output;
  std::string marker;
};
/// Throws DataError for an id that `isValidCellId` refuses, so no caller can build a path outside
/// DIR/cells from a hostile id.
CellPaths cellPaths(const std::string& dir, const std::string& cellId);

enum class CellState {
  Missing,     ///< no output and no marker
  Unfinished,  ///< output without marker, or marker without output (interrupted)
  Corrupt,     ///< marker present but the output differs from it (truncated, replaced)
  Finished     ///< marker and output agree
};
std::string toString(CellState state);
struct CellStatus {
  CellState state = CellState::Missing;
  std::string detail;  ///< why, in words
};
CellStatus inspectCell(const std::string& dir, const std::string& cellId);

/// Writes the output (temp + fsync + rename) and then the marker (same way). `fields` must be in
/// the grid CRS. Returns the marker's JSON text.
std::string writeCellOutput(const std::string& dir, const GridCell& cell, const Crs& gridCrs,
                            const FieldSet& fields);
/// Reads a finished cell's fields (verifying the marker). Throws DataError when not finished.
FieldSet readCellOutput(const std::string& dir, const std::string& cellId);

// ---- running a shard --------------------------------------------------------------------------

/// Delineates one cell and returns the fields it owns, in the grid CRS.
using CellDelineator = std::function<FieldSet(const GridCell& cell)>;

struct ShardRunOptions {
  bool force = false;  ///< redo finished cells too
  /// Called with one line per event (cell processed/skipped); may be empty.
  std::function<void(const std::string&)> log;
  /// A JSON object (text) stored under "run" in the shard report: resolved config, inputs,
  /// versions. Empty = none.
  std::string runInfoJson;
};

struct CellRun {
  std::string id;
  std::string action;  ///< "processed" or "skipped"
  std::string reason;  ///< state before the run: missing / unfinished / corrupt / finished / forced
  int fields = 0;
  double seconds = 0;
};

struct ShardRunReport {
  ShardSpec shard;
  std::vector<CellRun> cells;
  std::string runInfoJson;  ///< copied from ShardRunOptions
  int processed() const;
  int skipped() const;
  std::string toJson()
      const;  ///< {"shard_index":..,"processed":[ids],"skipped":[ids],"cells":[..]}
};

/// Runs the cells of `shard`: finished cells are skipped, all others delineated and written. Also
/// writes DIR/runs/shard-<i>-of-<n>.json (the report). Test hook: when the environment variable
/// FIELDSEG_BATCH_STALL_BEFORE_MARKER=k is set, the k-th processed cell writes its output and then
/// sleeps forever before its marker (to simulate a task killed mid-cell).
ShardRunReport runShard(const GridManifest& grid, const ShardSpec& shard, const std::string& dir,
                        const CellDelineator& delineate, const ShardRunOptions& options = {});

// ---- merge ------------------------------------------------------------------------------------

struct MergeReport {
  int cells = 0;
  int fields = 0;
  int duplicatesDropped = 0;  ///< identical geometries found in two cells (should be 0)
};

/// Reads every cell of the grid from `dir` and concatenates them into one FieldSet (grid CRS), ids
/// renumbered 1..n in cell order. Throws DataError naming every missing/unfinished/corrupt cell.
FieldSet mergeCells(const GridManifest& grid, const std::string& dir,
                    MergeReport* report = nullptr);

}  // namespace fieldseg::batch
