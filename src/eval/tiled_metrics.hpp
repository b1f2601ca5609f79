// Extent areas, areas inside the evaluation region and boundary "near" lengths of evaluateFields,
// computed tile by tile on a TileGrid (tile_grid.hpp). Each is the sum over tiles of the same
// overlay on the pieces in that tile, so it equals the whole-layer overlay up to rounding (the
// pieces of one tile are disjoint from those of another, but for edges of zero area or length).
// Tiles run on `threads` threads (parallel_for.hpp; <= 0: the hardware's) and their results are
// summed in tile order, so every figure is the same for any thread count.
// Internal to src/eval; functions are reentrant.
#pragma once

#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "dissolve_lines.hpp"
#include "fieldseg/geometry_metrics.hpp"
#include "parallel_for.hpp"
#include "tile_grid.hpp"

namespace fieldseg::eval {

/// The region cut into tiles: one Shape per tile (empty where the region is absent). No region
/// (unbounded R) gives an empty vector.
std::vector<Shape> regionByTile(const TileGrid& grid, const std::optional<Shape>& region);

/// The labelled area L = union(truth) grown by `bufferM` (round joins, `quadSegs` segments a
/// quarter circle; 0 = the union itself), n the AOI's tile pieces when `aoiTiles` (regionByTile)
/// is non-empty, cut into the tiles. A tile's piece is built from the truth within 2 x bufferM of
/// the tile only (the cuts there and the round caps they add stay bufferM away from the tile), so
/// no whole-layer union or buffer is built: the same region up to rounding.
std::vector<Shape> labelledByTile(const TileGrid& grid, const std::vector<Shape>& truth,
                                  double bufferM, int quadSegs, const std::vector<Shape>& aoiTiles,
                                  int threads = 1);

struct ExtentAreas {
  double truthM2 = 0;    ///< area(U_truth n R)
  double predM2 = 0;     ///< area(U_pred n R)
  double overlapM2 = 0;  ///< area(U_truth n U_pred n R)
};

/// Areas of the unions of two polygon layers and of their overlap inside R (`regionTiles` from
/// regionByTile; empty = everywhere). `progress` counts tiles (parallel_for.hpp).
ExtentAreas extentAreas(const TileGrid& grid, const std::vector<Shape>& truth,
                        const std::vector<Shape>& pred, const std::vector<Shape>& regionTiles,
                        int threads = 1, const ProgressFn& progress = {});

struct PairAreas {
  std::vector<double> truthM2, predM2;  ///< each shape's area
  /// For each truth shape, (prediction index, area of their intersection) by prediction index,
  /// for every prediction whose cover meets it in a strip of the sweep (the area may be 0 or a
  /// rounding residue where they only touch).
  std::vector<std::vector<std::pair<std::size_t, double>>> byTruth;
};

/// The area of every shape of both layers and of every intersecting (truth, prediction) pair,
/// by the same tiled sweep as extentAreas (no overlays). `progress` counts tiles.
PairAreas pairAreas(const TileGrid& grid, const std::vector<Shape>& truth,
                    const std::vector<Shape>& pred, int threads = 1,
                    const ProgressFn& progress = {});

/// area(shapes[i] n R) for every i with which[i] != 0 (0 elsewhere); `regionTiles` non-empty.
std::vector<double> areasInRegion(const TileGrid& grid, const std::vector<Shape>& shapes,
                                  const std::vector<char>& which,
                                  const std::vector<Shape>& regionTiles, int threads = 1);

/// Polygon boundary linework (`linework`: e.g. Shape::boundary() of each field) dissolved tile
/// by tile: per tile the noded union of the pieces in it (an edge shared by two fields once),
/// cut to the tile's region piece when `regionTiles` is non-empty. Their lengths add up to that
/// of the whole layer's union (n R). `progress` counts tiles.
std::vector<Shape> dissolvedByTile(const TileGrid& grid, const std::vector<Shape>& linework,
                                   const std::vector<Shape>& regionTiles, int threads = 1,
                                   const ProgressFn& progress = {});

/// Length of the lines of `linesByTile` (one Shape per tile inside it, e.g. from dissolvedByTile)
/// within `toleranceM` (> 0; distance <= toleranceM, exact Euclidean) of the lines of `linework`
/// (e.g. polygon boundaries), segment by segment (near_length.hpp). The lines must not run along
/// themselves (a dissolved union). `progress` counts tiles.
double nearLength(const TileGrid& grid, const std::vector<Shape>& linesByTile,
                  const std::vector<Shape>& linework, double toleranceM, int threads = 1,
                  const ProgressFn& progress = {});
struct BoundaryLengths {
  double truthM = 0, predM = 0;          ///< dissolved linework of each set
  double predNearM = 0, truthNearM = 0;  ///< of each, within the tolerance of the other's
};

/// Boundary lengths within a tolerance (> 0): both sets' linework dissolved without GEOS
/// (dissolve_lines.hpp), cut to the region's tile pieces when `regionTiles` (regionByTile) is
/// non-empty (length_inside.hpp: closed polygons), and the near lengths of the segments against
/// the other set's whole linework (near_length.hpp). `progressOf(part)` gives the progress of
/// pass 0..3 (truth and prediction dissolves, then the two near lengths).
BoundaryLengths boundaryLengths(const TileGrid& grid, const std::vector<Shape>& truthLines,
                                const std::vector<Shape>& predLines,
                                const std::vector<Shape>& regionTiles, double toleranceM,
                                int threads, const std::function<ProgressFn(int)>& progressOf);

/// The same through GEOS for any region (`regionTiles` from regionByTile, empty = everywhere) and
/// tolerance (0: the length lying on the other set's linework): per-tile noded unions cut to the
/// region's pieces (dissolvedByTile), then nearLength; passes 0..3 as above (0..1 without a
/// tolerance).
BoundaryLengths boundaryLengthsWithGeos(const TileGrid& grid, const std::vector<Shape>& truthLines,
                                        const std::vector<Shape>& predLines,
                                        const std::vector<Shape>& regionTiles, double toleranceM,
                                        int threads,
                                        const std::function<ProgressFn(int)>& progressOf);

/// The same for dissolved segments by tile (dissolve_lines.hpp).
double nearLength(const TileGrid& grid, const std::vector<std::vector<LineSegment>>& segmentsByTile,
                  const std::vector<Shape>& linework, double toleranceM, int threads = 1,
                  const ProgressFn& progress = {});

}  // namespace fieldseg::eval
