// Boundary linework dissolved tile by tile without GEOS: the segments of every ring that reach a
// tile, with collinear overlaps merged (an edge shared by two fields, or a field's edge along part
// of a neighbour's, counts once), cut to the tile. The same point set as the noded union of the
// pieces (tiled_metrics.hpp, dissolvedByTile), so the same lengths up to rounding, at a fraction of
// the cost. Collinearity is decided exactly (orientation), as GEOS's noder does. Internal to
// src/eval.
#pragma once

#include <array>
#include <vector>

#include "fieldseg/geo.hpp"
#include "fieldseg/geometry_metrics.hpp"
#include "parallel_for.hpp"
#include "tile_grid.hpp"

namespace fieldseg::eval {

/// +1 when c lies left of the line a -> b, -1 right, 0 on it; exact for any doubles (an
/// error-free expansion of the determinant when the floating-point value is too small to trust).
int orientation(const Point& a, const Point& b, const Point& c);

using LineSegment = std::array<Point, 2>;

/// For each tile of `grid`, the segments of the lines of `linework` (e.g. Shape::boundary() of
/// each field) inside it, dissolved: collinear segments that overlap become one; cut to the tile
/// (tile edges avoid the vertices, so no segment runs along one). `progress` counts tiles.
std::vector<std::vector<LineSegment>> dissolvedSegmentsByTile(const TileGrid& grid,
                                                              const std::vector<Shape>& linework,
                                                              int threads = 1,
                                                              const ProgressFn& progress = {});

}  // namespace fieldseg::eval
