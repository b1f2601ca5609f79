// Pixel-mask -> exact pixel-edge polygons through GDALPolygonize (see fieldseg/geometry.hpp).
#include <gdal_alg.h>
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "gdal_error.hpp"

namespace fieldseg {

Ring canonicalRing(const Ring& ring) {
  Ring r;
  r.reserve(ring.size());
  for (const auto& p : ring)
    if (r.empty() || r.back().x != p.x || r.back().y != p.y) r.push_back(p);
  while (r.size() > 1 && r.front().x == r.back().x && r.front().y == r.back().y) r.pop_back();
  // Drop collinear vertices until none is left (a removal can make its neighbour collinear).
  bool changed = true;
  while (changed && r.size() > 3) {
    changed = false;
    Ring out;
    out.reserve(r.size());
    const size_t n = r.size();
    for (size_t i = 0; i < n; ++i) {
      const Point& a = r[(i + n - 1) % n];
      const Point& b = r[i];
      const Point& c = r[(i + 1) % n];
      const double cross = (b.x - a.x) * (c.y - b.y) - (b.y - a.y) * (c.x - b.x);
      if (cross == 0) {
        changed = true;
        continue;
      }
      out.push_back(b);
    }
    if (out.size() < 3) break;
    r.swap(out);
  }
  if (r.empty()) return r;
  auto less = [](const Point& a, const Point& b) { return a.y < b.y || (a.y == b.y && a.x < b.x); };
  auto it = std::min_element(r.begin(), r.end(), less);
  std::rotate(r.begin(), it, r.end());
  return r;
}

std::vector<Polygon> polygonizeMask(const std::uint8_t* mask, int rows, int cols, long long originX,
                                    long long originY) {
  std::vector<Polygon> out;
  if (rows <= 0 || cols <= 0) return out;
  io::initGdal();
  io::GdalErrorScope errors;
  GDALDriver* memRaster = GetGDALDriverManager()->GetDriverByName("MEM");
  GDALDriver* memVector = GetGDALDriverManager()->GetDriverByName("Memory");
  if (!memRaster || !memVector)
    throw Error("post: GDAL MEM/Memory drivers are missing. Reinstall GDAL with its core drivers.");
  std::unique_ptr<GDALDataset> ds(memRaster->Create("", cols, rows, 1, GDT_Byte, nullptr));
  std::unique_ptr<GDALDataset> vds(memVector->Create("", 0, 0, 0, GDT_Unknown, nullptr));
  if (!ds || !vds)
    throw Error("post: cannot create in-memory datasets to polygonize: " +
                io::gdalCause(errors, "out of memory"));
  // Pixel coordinates with y growing down, so GDAL emits pixel-corner integers directly.
  double gt[6] = {static_cast<double>(originX), 1, 0, static_cast<double>(originY), 0, 1};
  ds->SetGeoTransform(gt);
  GDALRasterBand* band = ds->GetRasterBand(1);
  if (band->RasterIO(GF_Write, 0, 0, cols, rows, const_cast<std::uint8_t*>(mask), cols, rows,
                     GDT_Byte, 0, 0, nullptr) != CE_None)
    throw Error("post: cannot fill the polygonize buffer: " + io::gdalCause(errors, "unknown"));
  OGRLayer* layer = vds->CreateLayer("p", nullptr, wkbPolygon, nullptr);
  OGRFieldDefn fd("v", OFTInteger);
  layer->CreateField(&fd);
  // The band is its own mask: zero pixels produce no polygon. 4-connectivity (the default) keeps
  // every output ring simple.
  if (GDALPolygonize(band, band, layer, 0, nullptr, nullptr, nullptr) != CE_None)
    throw Error("post: GDALPolygonize failed: " + io::gdalCause(errors, "unknown"));
  layer->ResetReading();
  for (auto& feat : *layer) {
    const OGRGeometry* g = feat->GetGeometryRef();
    if (!g || wkbFlatten(g->getGeometryType()) != wkbPolygon) continue;
    const OGRPolygon* poly = g->toPolygon();
    auto ringOf = [](const OGRLinearRing* lr) {
      Ring r;
      for (int i = 0; i < lr->getNumPoints(); ++i) r.push_back({lr->getX(i), lr->getY(i)});
      return canonicalRing(r);
    };
    Polygon p;
    p.exterior = ringOf(poly->getExteriorRing());
    for (int i = 0; i < poly->getNumInteriorRings(); ++i)
      p.holes.push_back(ringOf(poly->getInteriorRing(i)));
    if (p.exterior.size() >= 4) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace fieldseg
