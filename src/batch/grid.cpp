// Grid manifests: cells of a regular grid in a metric CRS over an AOI or the union of image
// footprints, and their JSON form (grid.json). Overlap tests use GEOS through geometry.hpp.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "atomic_file.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"

namespace fieldseg::batch {

namespace {

std::string shortNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

using Json = nlohmann::ordered_json;

// Overlaps smaller than this fraction of a cell are floating-point noise along shared edges.
constexpr double kOverlapEps = 1e-9;

Polygon boxPolygon(double minX, double minY, double maxX, double maxY) {
  Polygon p;
  p.exterior = {{minX, minY}, {maxX, minY}, {maxX, maxY}, {minX, maxY}};
  return p;
}

Polygon transformPolygon(const Polygon& in, const CoordTransform& t, const std::string& what) {
  Polygon out = in;
  auto apply = [&](Ring& r) {
    if (!t.apply(r)) {
      throw DataError("batch: cannot transform the outline of '" + what +
                      "' to the grid CRS: some points fail. Pass a --crs that covers the area.");
    }
  };
  apply(out.exterior);
  for (auto& h : out.holes) apply(h);
  return out;
}

struct Area {
  std::vector<Polygon> polygons;  // in the grid CRS
  WorldBox box;
};

void extendBox(WorldBox& b, const Polygon& p) {
  for (const auto& pt : p.exterior) {
    b.minX = std::min(b.minX, pt.x);
    b.maxX = std::max(b.maxX, pt.x);
    b.minY = std::min(b.minY, pt.y);
    b.maxY = std::max(b.maxY, pt.y);
  }
}

WorldBox emptyBox() {
  WorldBox b;
  b.minX = b.minY = INFINITY;
  b.maxX = b.maxY = -INFINITY;
  return b;
}

// Converts polygons from `from` to `to`, skipping the transform when the CRSs are the same so
// coordinates stay bit-identical.
std::vector<Polygon> toGridCrs(const std::vector<Polygon>& polys, const Crs& from, const Crs& to,
                               const std::string& what) {
  if (from.sameAs(to)) return polys;
  CoordTransform t(from, to);
  std::vector<Polygon> out;
  out.reserve(polys.size());
  for (const auto& p : polys) out.push_back(transformPolygon(p, t, what));
  return out;
}

Crs chooseCrs(const std::vector<ImageFootprint>& images, const FieldSet& aoi) {
  if (!images.empty()) {
    const Crs& first = images.front().crs;
    bool common = !first.empty() && !first.isGeographic();
    for (const auto& im : images) common = common && im.crs.sameAs(first);
    if (common) return first;
  } else if (!aoi.crs.empty() && !aoi.crs.isGeographic()) {
    return aoi.crs;
  }
  // Centre of the area in lon/lat -> its UTM zone.
  WorldBox b = emptyBox();
  Crs wgs84 = Crs::wgs84();
  auto addAll = [&](const std::vector<Polygon>& polys, const Crs& crs, const std::string& what) {
    for (const auto& p : toGridCrs(polys, crs, wgs84, what)) extendBox(b, p);
  };
  if (!images.empty()) {
    for (const auto& im : images) addAll({im.footprint}, im.crs, im.path);
  } else {
    std::vector<Polygon> polys;
    for (const auto& f : aoi.fields) polys.push_back(f.polygon);
    addAll(polys, aoi.crs, "AOI");
  }
  return Crs::utmFor(0.5 * (b.minX + b.maxX), 0.5 * (b.minY + b.maxY));
}

bool overlaps(const Polygon& cellBox, const WorldBox& cellBounds, const Polygon& poly,
              const WorldBox& polyBounds, double minArea) {
  if (polyBounds.maxX <= cellBounds.minX || polyBounds.minX >= cellBounds.maxX ||
      polyBounds.maxY <= cellBounds.minY || polyBounds.minY >= cellBounds.maxY) {
    return false;
  }
  return intersectionArea(cellBox, poly) > minArea;
}

std::string cellId(int ix, int iy) { return "x" + std::to_string(ix) + "_y" + std::to_string(iy); }

Json boxJson(const WorldBox& b) { return Json::array({b.minX, b.minY, b.maxX, b.maxY}); }

// Cell ids become file names (cells/<id>.geojson, <id>.done): only a plain, bounded token is
// accepted, so a hostile or mistyped manifest can never name a path outside the output folder.
void checkCellId(const std::string& id, const std::string& source) {
  if (!isValidCellId(id)) {
    std::string shown;
    for (char ch : id.substr(0, 80)) {
      const auto u = static_cast<unsigned char>(ch);
      shown += (u < 0x20 || u >= 0x7f) ? '?' : ch;
    }
    throw DataError("batch: grid manifest '" + source + "' has an invalid cell id '" + shown +
                    (id.size() > 80 ? "...'" : "'") + ": ids must be 1-" +
                    std::to_string(kMaxCellIdLength) +
                    " characters of A-Z a-z 0-9 _ - and not start with '-'. Regenerate it with "
                    "`fieldseg grid`.");
  }
}

template <typename T>
T need(const Json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) {
    throw DataError("batch: grid manifest '" + source + "' lacks key '" + key +
                    "'. Regenerate it with `fieldseg grid`.");
  }
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw DataError("batch: grid manifest '" + source + "' key '" + key +
                    "' has the wrong type: " + e.what() + ". Regenerate it with `fieldseg grid`.");
  }
}

}  // namespace

std::string toString(ShardMode mode) {
  return mode == ShardMode::RoundRobin ? "round-robin" : "blocks";
}

ShardMode shardModeFromString(const std::string& text) {
  if (text == "round-robin") return ShardMode::RoundRobin;
  if (text == "blocks") return ShardMode::Blocks;
  throw UsageError("batch: unknown shard mode '" + text + "'. Use round-robin or blocks.");
}

const GridCell* GridManifest::find(const std::string& cellId) const {
  for (const auto& c : cells)
    if (c.id == cellId) return &c;
  return nullptr;
}

ImageFootprint footprintOf(const std::string& path, const GridSpec& grid, int pointsPerEdge) {
  ImageFootprint fp;
  fp.path = path;
  fp.crs = grid.crs();
  const int n = std::max(1, pointsPerEdge);
  const double w = grid.width(), h = grid.height();
  Ring& r = fp.footprint.exterior;
  // Walk the pixel outline: top (left->right), right (down), bottom (right->left), left (up).
  for (int i = 0; i < n; ++i) r.push_back(grid.pixelToWorld(w * i / n, 0));
  for (int i = 0; i < n; ++i) r.push_back(grid.pixelToWorld(w, h * i / n));
  for (int i = 0; i < n; ++i) r.push_back(grid.pixelToWorld(w - w * i / n, h));
  for (int i = 0; i < n; ++i) r.push_back(grid.pixelToWorld(0, h - h * i / n));
  return fp;
}

GridManifest buildGrid(const std::vector<ImageFootprint>& images, const FieldSet& aoi,
                       const GridOptions& options, const std::string& aoiPath) {
  if (!(options.cellM > 0) || !std::isfinite(options.cellM)) {
    throw UsageError("batch: cell size " + std::to_string(options.cellM) +
                     " m must be > 0. Pass e.g. --cell-m 10000.");
  }
  if (images.empty() && aoi.fields.empty()) {
    throw UsageError("batch: no images and no AOI polygons: nothing to grid. Pass --images.");
  }
  GridManifest g;
  g.crs = options.crs.empty() ? chooseCrs(images, aoi) : options.crs;
  if (g.crs.isGeographic()) {
    throw UsageError("batch: grid CRS '" + g.crs.label() +
                     "' is geographic; cells are sized in metres. Pass a projected --crs such as "
                     "a UTM zone.");
  }
  g.cellM = options.cellM;
  g.shardMode = options.shardMode;
  g.aoi = aoiPath;
  for (const auto& im : images) g.images.push_back(im.path);

  std::vector<Polygon> imagePolys;
  std::vector<WorldBox> imageBoxes;
  for (const auto& im : images) {
    imagePolys.push_back(toGridCrs({im.footprint}, im.crs, g.crs, im.path).front());
    WorldBox b = emptyBox();
    extendBox(b, imagePolys.back());
    imageBoxes.push_back(b);
  }
  std::vector<Polygon> areaPolys;
  if (!aoi.fields.empty()) {
    std::vector<Polygon> polys;
    for (const auto& f : aoi.fields) polys.push_back(f.polygon);
    areaPolys = toGridCrs(polys, aoi.crs, g.crs, aoiPath.empty() ? "AOI" : aoiPath);
  } else {
    areaPolys = imagePolys;
  }
  std::vector<WorldBox> areaBoxes;
  WorldBox extent = emptyBox();
  for (const auto& p : areaPolys) {
    WorldBox b = emptyBox();
    extendBox(b, p);
    areaBoxes.push_back(b);
    extendBox(extent, p);
  }
  if (options.origin)
    g.origin = *options.origin;
  else if (options.snapToExtent)
    g.origin = {extent.minX, extent.minY};
  else
    g.origin = {0, 0};

  const double c = g.cellM;
  // Cell indices are counted from the origin: a far or non-finite origin (or cell size) would
  // overflow them, so it is refused with the figures.
  const double kMaxIndex = 1e12;
  for (double v : {(extent.minX - g.origin.x) / c, (extent.maxX - g.origin.x) / c,
                   (extent.minY - g.origin.y) / c, (extent.maxY - g.origin.y) / c})
    if (!std::isfinite(v) || std::fabs(v) > kMaxIndex)
      throw UsageError("batch: the grid origin " + shortNumber(g.origin.x) + "," +
                       shortNumber(g.origin.y) + " lies more than 1e12 cells of " + shortNumber(c) +
                       " m from the area (" + shortNumber(extent.minX) + "," +
                       shortNumber(extent.minY) +
                       "). Pass an --origin near the area, in the grid CRS.");
  const long long ix0 = static_cast<long long>(std::floor((extent.minX - g.origin.x) / c));
  const long long ix1 = static_cast<long long>(std::ceil((extent.maxX - g.origin.x) / c));
  const long long iy0 = static_cast<long long>(std::floor((extent.minY - g.origin.y) / c));
  const long long iy1 = static_cast<long long>(std::ceil((extent.maxY - g.origin.y) / c));
  const long long candidates = (ix1 - ix0) * (iy1 - iy0);
  if (candidates > 10'000'000) {
    throw UsageError("batch: the area spans " + std::to_string(candidates) + " cells of " +
                     std::to_string(c) + " m. Raise --cell-m.");
  }
  const double minArea = kOverlapEps * c * c;
  // Row-major from north to south, west to east: the order of raster rows and of tile plans.
  for (long long iy = iy1 - 1; iy >= iy0; --iy) {
    for (long long ix = ix0; ix < ix1; ++ix) {
      WorldBox cb;
      cb.crs = g.crs;
      cb.minX = g.origin.x + static_cast<double>(ix) * c;
      cb.maxX = g.origin.x + static_cast<double>(ix + 1) * c;
      cb.minY = g.origin.y + static_cast<double>(iy) * c;
      cb.maxY = g.origin.y + static_cast<double>(iy + 1) * c;
      Polygon box = boxPolygon(cb.minX, cb.minY, cb.maxX, cb.maxY);
      bool inArea = false;
      for (size_t k = 0; k < areaPolys.size() && !inArea; ++k)
        inArea = overlaps(box, cb, areaPolys[k], areaBoxes[k], minArea);
      if (!inArea) continue;
      GridCell cell;
      cell.ix = static_cast<int>(ix);
      cell.iy = static_cast<int>(iy);
      cell.id = cellId(cell.ix, cell.iy);
      cell.bounds = cb;
      for (size_t k = 0; k < imagePolys.size(); ++k)
        if (overlaps(box, cb, imagePolys[k], imageBoxes[k], minArea))
          cell.images.push_back(images[k].path);
      if (!images.empty() && cell.images.empty()) {
        g.uncoveredCells.push_back(cell.id);
        continue;
      }
      cell.index = static_cast<int>(g.cells.size());
      g.cells.push_back(std::move(cell));
    }
  }
  if (g.cells.empty()) {
    throw DataError("batch: no cell of the grid overlaps " +
                    std::string(images.empty() ? "the AOI" : "the images") +
                    (aoi.fields.empty() || images.empty() ? "" : " inside the AOI") +
                    ". Check that the AOI and the images overlap and share a usable CRS.");
  }
  return g;
}

std::string toJson(const GridManifest& g) {
  Json j;
  j["fieldseg_grid"] = 1;
  j["crs"] = g.crs.label();
  j["crs_wkt"] = g.crs.wkt();
  j["cell_m"] = g.cellM;
  j["origin"] = Json::array({g.origin.x, g.origin.y});
  j["shard_mode"] = toString(g.shardMode);
  j["aoi"] = g.aoi;
  j["images"] = g.images;
  j["cell_count"] = g.cells.size();
  Json cells = Json::array();
  for (const auto& c : g.cells) {
    Json jc;
    jc["index"] = c.index;
    jc["id"] = c.id;
    jc["ix"] = c.ix;
    jc["iy"] = c.iy;
    jc["bounds"] = boxJson(c.bounds);
    jc["images"] = c.images;
    cells.push_back(std::move(jc));
  }
  j["cells"] = std::move(cells);
  j["uncovered_cells"] = g.uncoveredCells;
  return j.dump(2) + "\n";
}

GridManifest gridFromJson(const std::string& text, const std::string& source) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw DataError("batch: grid manifest '" + source + "' is not valid JSON: " + e.what() +
                    ". Regenerate it with `fieldseg grid`.");
  }
  if (!j.is_object() || !j.contains("fieldseg_grid")) {
    throw DataError("batch: '" + source +
                    "' is not a fieldseg grid manifest (no 'fieldseg_grid' key). Create one with "
                    "`fieldseg grid`.");
  }
  GridManifest g;
  g.crs = Crs::fromUserInput(need<std::string>(j, "crs_wkt", source));
  g.cellM = need<double>(j, "cell_m", source);
  auto origin = need<std::vector<double>>(j, "origin", source);
  if (origin.size() != 2)
    throw DataError("batch: grid manifest '" + source + "' origin needs 2 numbers.");
  g.origin = {origin[0], origin[1]};
  g.shardMode = shardModeFromString(need<std::string>(j, "shard_mode", source));
  g.aoi = need<std::string>(j, "aoi", source);
  g.images = need<std::vector<std::string>>(j, "images", source);
  if (j.contains("uncovered_cells"))
    g.uncoveredCells = need<std::vector<std::string>>(j, "uncovered_cells", source);
  const Json& cells = j.contains("cells") ? j.at("cells") : Json();
  if (!cells.is_array()) {
    throw DataError("batch: grid manifest '" + source + "' lacks a 'cells' array.");
  }
  std::set<std::string> ids;
  for (const auto& jc : cells) {
    GridCell c;
    c.index = need<int>(jc, "index", source);
    c.id = need<std::string>(jc, "id", source);
    c.ix = need<int>(jc, "ix", source);
    c.iy = need<int>(jc, "iy", source);
    auto b = need<std::vector<double>>(jc, "bounds", source);
    if (b.size() != 4)
      throw DataError("batch: grid manifest '" + source + "' cell '" + c.id +
                      "' bounds need 4 numbers.");
    c.bounds = {b[0], b[1], b[2], b[3], g.crs};
    c.images = need<std::vector<std::string>>(jc, "images", source);
    checkCellId(c.id, source);
    if (!ids.insert(c.id).second) {
      throw DataError("batch: grid manifest '" + source + "' lists cell id '" + c.id +
                      "' twice: each cell needs its own id or one cell's output would replace "
                      "another's. Regenerate it with `fieldseg grid`.");
    }
    if (c.index != static_cast<int>(g.cells.size())) {
      throw DataError("batch: grid manifest '" + source + "' cell '" + c.id + "' has index " +
                      std::to_string(c.index) + " but is at position " +
                      std::to_string(g.cells.size()) + ". Regenerate it with `fieldseg grid`.");
    }
    g.cells.push_back(std::move(c));
  }
  if (j.contains("cell_count")) {
    const auto declared = need<long long>(j, "cell_count", source);
    if (declared != static_cast<long long>(g.cells.size())) {
      throw DataError("batch: grid manifest '" + source + "' declares cell_count " +
                      std::to_string(declared) + " but lists " + std::to_string(g.cells.size()) +
                      " cells: it is truncated or edited. Regenerate it with `fieldseg grid`.");
    }
  }
  for (const auto& id : g.uncoveredCells) checkCellId(id, source);
  return g;
}

void writeGrid(const GridManifest& grid, const std::string& path, bool overwrite) {
  if (!overwrite && std::filesystem::exists(path)) {
    throw UsageError("batch: output '" + path +
                     "' exists. Pass --overwrite or choose another path.");
  }
  writeFileAtomic(path, toJson(grid));
}

GridManifest readGrid(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw IoError("batch: cannot open grid manifest '" + path + "': " + std::strerror(errno) +
                  ". Create it with `fieldseg grid`.");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return gridFromJson(ss.str(), path);
}

PixelWindow cellWindow(const GridCell& cell, const Crs& gridCrs, const GridSpec& image) {
  if (!gridCrs.sameAs(image.crs())) {
    throw DataError("batch: cell '" + cell.id + "' is in " + gridCrs.label() +
                    " but the image is in " + image.crs().label() +
                    ": cells must share the image CRS so they partition its pixels. Rebuild the "
                    "grid with --crs of the images, or warp the images (gdalwarp -t_srs).");
  }
  const auto& gt = image.geoTransform();
  if (gt[2] != 0 || gt[4] != 0) {
    throw DataError("batch: image grid of cell '" + cell.id +
                    "' is rotated: not supported. Warp it to a north-up grid (gdalwarp).");
  }
  auto edge = [](double v) { return static_cast<int>(std::floor(v + 0.5)); };
  int c0 = edge((cell.bounds.minX - gt[0]) / gt[1]);
  int c1 = edge((cell.bounds.maxX - gt[0]) / gt[1]);
  int r0 = edge((cell.bounds.maxY - gt[3]) / gt[5]);
  int r1 = edge((cell.bounds.minY - gt[3]) / gt[5]);
  if (c1 < c0) std::swap(c0, c1);
  if (r1 < r0) std::swap(r0, r1);
  PixelWindow w{c0, r0, c1 - c0, r1 - r0};
  return w.intersect(image.fullWindow());
}

}  // namespace fieldseg::batch
