// Rasterising polygons onto a grid (GDALRasterizeGeometries on an in-memory dataset, src/io).
//
// The polygons must already be in the grid's CRS. Pixel-centre rule: a pixel takes a polygon's
// value when its centre lies inside the polygon (not in a hole). Where polygons overlap, the later
// one wins. Pure function of its inputs; reentrant and safe to call from several threads.
#pragma once

#include <cstdint>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/raster.hpp"

namespace fieldseg {

struct RasterizeOptions {
  /// Burn value per polygon; empty = index + 1 (so 0 means "no polygon").
  std::vector<std::int32_t> values;
  /// Burn every pixel the polygon touches instead of the pixel-centre rule.
  bool allTouched = false;
};

/// One Int32 band on `grid` (rows = grid.height(), cols = grid.width(), valid all 1), 0 where no
/// polygon covers a pixel centre. Throws UsageError when values.size() does not match, IoError when
/// GDAL fails.
Raster<std::int32_t> rasterizePolygons(const std::vector<Polygon>& polygons, const GridSpec& grid,
                                       const RasterizeOptions& options = {});

}  // namespace fieldseg
