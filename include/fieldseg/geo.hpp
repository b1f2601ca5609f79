// Coordinate reference systems and raster grids.
//
// Crs is a value type holding a WKT2 definition (plus the EPSG code when known); PROJ/OSR objects
// are created inside src/geo only. All CRSs use the traditional GIS axis order (x = easting /
// longitude, y = northing / latitude), whatever the authority says. GridSpec maps pixel (col,row)
// <-> world (x,y) through a GDAL-style geotransform. PixelWindow (integers, pixels) and WorldBox
// (doubles, in a Crs) never convert silently: use GridSpec::windowOf / GridSpec::boxOf.
//
// Thread safety: all types here are immutable values, safe to share. CoordTransform is safe to use
// from one thread at a time; create one per thread.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fieldseg {

class Crs {
 public:
  Crs() = default;  ///< empty: "no CRS"
  /// From "EPSG:32633", a bare number, WKT, PROJ string or anything OSR SetFromUserInput takes.
  /// Throws DataError when it cannot be parsed.
  static Crs fromUserInput(const std::string& text);
  static Crs fromEpsg(int code);
  static Crs wgs84() { return fromEpsg(4326); }

  bool empty() const { return wkt_.empty(); }
  const std::string& wkt() const { return wkt_; }
  std::optional<int> epsg() const { return epsg_; }
  bool isGeographic() const { return geographic_; }
  /// "EPSG:3857" when the code is known, else the CRS name.
  std::string label() const { return label_; }
  /// Same CRS (OSR IsSame, ignoring axis-order metadata).
  bool sameAs(const Crs& other) const;
  /// A metric CRS suited to measuring near lon/lat: the UTM zone of that point (WGS84).
  static Crs utmFor(double lon, double lat);

 private:
  std::string wkt_;
  std::optional<int> epsg_;
  bool geographic_ = false;
  std::string label_;
};

struct Point {
  double x = 0;
  double y = 0;
};

/// Integer pixel window: columns [x, x+width), rows [y, y+height). May extend outside a raster.
struct PixelWindow {
  int x = 0;
  int y = 0;
  int width = 0;
  int height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
  long long area() const { return empty() ? 0 : static_cast<long long>(width) * height; }
  PixelWindow intersect(const PixelWindow& o) const;
  bool contains(int col, int row) const {
    return col >= x && col < x + width && row >= y && row < y + height;
  }
  bool operator==(const PixelWindow& o) const {
    return x == o.x && y == o.y && width == o.width && height == o.height;
  }
};

/// Axis-aligned box in world units of a Crs.
struct WorldBox {
  double minX = 0, minY = 0, maxX = 0, maxY = 0;
  Crs crs;
  bool empty() const { return !(maxX > minX && maxY > minY); }
};

class GridSpec {
 public:
  GridSpec() = default;
  /// geoTransform as GDAL: x = gt[0] + col*gt[1] + row*gt[2]; y = gt[3] + col*gt[4] + row*gt[5].
  GridSpec(int width, int height, std::array<double, 6> geoTransform, Crs crs);

  int width() const { return width_; }
  int height() const { return height_; }
  const std::array<double, 6>& geoTransform() const { return gt_; }
  const Crs& crs() const { return crs_; }
  PixelWindow fullWindow() const { return {0, 0, width_, height_}; }

  /// World coordinates of a pixel-space position (col, row may be fractional; 0.5 = pixel centre).
  Point pixelToWorld(double col, double row) const;
  /// Inverse of pixelToWorld.
  Point worldToPixel(double x, double y) const;
  /// Pixel size in CRS units along x and y (positive numbers).
  double resX() const;
  double resY() const;
  /// Ground sample distance in metres at the grid centre (works for geographic CRSs too).
  double gsdMeters() const;
  /// The grid of a sub-window (same resolution, shifted origin). The window may extend outside.
  GridSpec subGrid(const PixelWindow& w) const;
  /// The same extent at a pixel size multiplied by `factor` (> 1 = coarser); size rounded up.
  GridSpec rescaled(double factor) const;
  /// World bounds of a pixel window.
  WorldBox boxOf(const PixelWindow& w) const;
  /// Smallest pixel window covering a box given in this grid's CRS (not clipped).
  PixelWindow windowOf(const WorldBox& b) const;

 private:
  int width_ = 0;
  int height_ = 0;
  std::array<double, 6> gt_{0, 1, 0, 0, 0, -1};
  Crs crs_;
};

/// Point transform between two CRSs (PROJ through OSR), traditional GIS axis order on both sides.
class CoordTransform {
 public:
  CoordTransform(const Crs& from, const Crs& to);  ///< throws DataError if not transformable
  ~CoordTransform();
  CoordTransform(CoordTransform&&) noexcept;
  CoordTransform& operator=(CoordTransform&&) noexcept;
  /// Transforms in place; returns false for points that failed (left unchanged).
  bool apply(std::vector<Point>& pts) const;
  Point apply(Point p) const;  ///< throws DataError on failure
  /// Transformed bounds of a box (densified edges).
  WorldBox applyBox(const WorldBox& b) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fieldseg
