// Pixel mask -> exact pixel-edge polygons by tracing the region borders directly: the same
// outlines as GDALPolygonize (fieldseg::polygonizeMask, the reference the tests compare with)
// without building an in-memory raster and vector layer per call, which made polygonising
// the fields of a scene as slow as labelling them (src/post/README.md, "Speed").
#pragma once

#include <cstdint>
#include <vector>

#include "fieldseg/geometry.hpp"

namespace fieldseg::post {

/// The outlines (with holes) of the 4-connected regions where mask != 0 (every non-zero value is
/// one class). `mask` is rows x cols, row-major. Coordinates are pixel corners x = originX + col,
/// y = originY + row (y grows downwards). As polygonizeMask: rings without repeated or collinear
/// vertices, each starting at its smallest (y, x) vertex. Unlike GDALPolygonize, whose ring
/// directions vary, every ring (exterior and hole) runs counter-clockwise as seen with y down,
/// regions come in the order of their first pixel (row-major) and holes in the order of their
/// first vertex. Where two pixels of one region touch only at a corner,
/// the rings are split there, so no ring passes a vertex twice (an exterior and a hole, or two
/// holes, may share that corner: a valid polygon).
std::vector<Polygon> traceOutlines(const std::uint8_t* mask, int rows, int cols,
                                   long long originX = 0, long long originY = 0);

}  // namespace fieldseg::post
