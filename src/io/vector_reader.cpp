// readFields: every polygon of any OGR vector source -> FieldSet (see include/fieldseg/fields.hpp).
//
// Field::id is a running 1-based index over the polygons written (unique even when a multipolygon
// is split into parts); the source FID goes to attrs["source_fid"] and the part index
// (multipolygons only) to attrs["part"]. Every source attribute is copied as int64, double or
// string.
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_core.h>
#include <ogr_geometry.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"
#include "gdal_error.hpp"
#include "ogr_srs.hpp"
#include "run_threads.hpp"

namespace fieldseg {
namespace {

constexpr size_t kMaxSkipReasons = 50;

struct DatasetCloser {
  void operator()(GDALDataset* ds) const {
    if (ds) GDALClose(ds);
  }
};

struct Reader {
  VectorReadReport report;

  void skip(const std::string& reason) {
    ++report.skipped;
    if (report.skipReasons.size() < kMaxSkipReasons) report.skipReasons.push_back(reason);
  }
};

Ring toRing(const OGRLinearRing* ring) {
  Ring out;
  if (!ring) return out;
  const int n = ring->getNumPoints();
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    Point p{ring->getX(i), ring->getY(i)};
    if (!out.empty() && out.back().x == p.x && out.back().y == p.y) continue;
    out.push_back(p);
  }
  // Rings are stored closed implicitly: drop the repeated first point.
  while (out.size() > 1 && out.front().x == out.back().x && out.front().y == out.back().y)
    out.pop_back();
  return out;
}

// Collects the polygonal parts of any geometry (polygon, multipolygon, collection, curves).
void collectPolygons(const OGRGeometry* g, std::vector<Polygon>& out) {
  if (!g || g->IsEmpty()) return;
  const OGRwkbGeometryType t = wkbFlatten(g->getGeometryType());
  if (t == wkbPolygon) {
    const auto* poly = g->toPolygon();
    Polygon p;
    p.exterior = toRing(poly->getExteriorRing());
    if (p.exterior.size() < 3) return;
    for (int i = 0; i < poly->getNumInteriorRings(); ++i) {
      Ring h = toRing(poly->getInteriorRing(i));
      if (h.size() >= 3) p.holes.push_back(std::move(h));
    }
    out.push_back(std::move(p));
  } else if (t == wkbMultiPolygon || t == wkbGeometryCollection || t == wkbMultiSurface) {
    const auto* gc = dynamic_cast<const OGRGeometryCollection*>(g);
    if (!gc) return;
    for (int i = 0; i < gc->getNumGeometries(); ++i) collectPolygons(gc->getGeometryRef(i), out);
  } else if (t == wkbCurvePolygon || t == wkbPolyhedralSurface || t == wkbTIN) {
    std::unique_ptr<OGRGeometry> lin(g->getLinearGeometry());
    if (lin) {
      std::unique_ptr<OGRGeometry> forced(OGRGeometryFactory::forceToMultiPolygon(lin.release()));
      collectPolygons(forced.get(), out);
    }
  }
}

bool isPolygonal(OGRwkbGeometryType t) {
  t = wkbFlatten(t);
  return t == wkbPolygon || t == wkbMultiPolygon || t == wkbCurvePolygon || t == wkbMultiSurface ||
         t == wkbPolyhedralSurface || t == wkbTIN || t == wkbGeometryCollection;
}

AttrValue fieldValue(OGRFeature* f, int i) {
  const OGRFieldType ft = f->GetFieldDefnRef(i)->GetType();
  switch (ft) {
    case OFTInteger:
    case OFTInteger64:
      return static_cast<std::int64_t>(f->GetFieldAsInteger64(i));
    case OFTReal:
      return f->GetFieldAsDouble(i);
    default:
      return std::string(f->GetFieldAsString(i));
  }
}

// Prefers the authority code when the source names one: it keeps the EPSG label.
Crs layerCrs(OGRLayer* layer) { return geo::crsOfSrs(layer->GetSpatialRef(), true); }

// The layer named `layer`, or every layer; UsageError listing the layers when it is not there.
std::vector<OGRLayer*> selectLayers(GDALDataset* ds, const std::string& layer,
                                    const std::string& path) {
  std::vector<OGRLayer*> layers;
  if (!layer.empty()) {
    OGRLayer* l = ds->GetLayerByName(layer.c_str());
    if (!l) {
      std::string names;
      for (int i = 0; i < ds->GetLayerCount(); ++i)
        names += (i ? ", " : "") + std::string(ds->GetLayer(i)->GetName());
      throw UsageError("io: layer '" + layer + "' not found in '" + path +
                       "'. Available: " + (names.empty() ? std::string("(none)") : names) + ".");
    }
    layers.push_back(l);
  } else {
    for (int i = 0; i < ds->GetLayerCount(); ++i) layers.push_back(ds->GetLayer(i));
  }
  return layers;
}

// Why a feature's geometry cannot be a field whatever its coordinates (": no geometry", ": not
// a polygon (...)"), or an empty string.
std::string geometryTypeSkipReason(const OGRGeometry* g) {
  if (!g || g->IsEmpty()) return ": no geometry";
  if (!isPolygonal(g->getGeometryType()))
    return ": not a polygon (" + std::string(g->getGeometryName()) + ")";
  return {};
}

// The polygons of a non-empty polygonal geometry (geometryTypeSkipReason gave nothing):
// multipolygons split, invalid ones repaired with MakeValid when GEOS is there, degenerate parts
// dropped; an empty string, or why none is left. Reentrant: readFields runs it on several threads.
std::string featurePolygons(const OGRGeometry* g, bool haveGeos, std::vector<Polygon>& parts,
                            bool& repaired) {
  repaired = false;
  std::unique_ptr<OGRGeometry> geom(g->clone());
  geom->flattenTo2D();
  if (haveGeos) {
    if (!geom->IsValid()) {
      std::unique_ptr<OGRGeometry> fixed(geom->MakeValid());
      if (!fixed || fixed->IsEmpty() || !fixed->IsValid())
        return ": invalid geometry that MakeValid could not repair";
      geom = std::move(fixed);
      repaired = true;
    }
  }
  collectPolygons(geom.get(), parts);
  // Drop degenerate parts (MakeValid may leave zero-area slivers in a collection).
  parts.erase(std::remove_if(parts.begin(), parts.end(),
                             [](const Polygon& p) {
                               double a = 0;
                               const Ring& e = p.exterior;
                               for (size_t i = 0; i < e.size(); ++i) {
                                 const Point& u = e[i];
                                 const Point& v = e[(i + 1) % e.size()];
                                 a += u.x * v.y - v.x * u.y;
                               }
                               return std::fabs(a) <= 0.0;
                             }),
              parts.end());
  if (parts.empty()) return repaired ? ": no polygon left after MakeValid" : ": empty polygon";
  return {};
}

// A batch of features read in order, their geometries checked and repaired on `threads` threads
// (<= 0: the hardware's; GEOS validity is most of a read), then appended in order. A batch holds at
// most kSize features or about kBytes of geometry (WKB size); features skipped for their geometry
// type are not held, only their reason.
struct FeatureBatch {
  static constexpr size_t kSize = 2048;
  static constexpr size_t kBytes = size_t{64} << 20;
  struct Item {
    std::unique_ptr<OGRFeature> feature;  // null once skipped
    std::string where;
    std::vector<Polygon> parts;
    bool repaired = false;
    std::string skipReason;
  };
  std::vector<Item> items;
  size_t bytes = 0;

  // Appends a feature just read; true when the batch is full.
  bool add(std::unique_ptr<OGRFeature> f, std::string where) {
    Item it;
    it.where = std::move(where);
    const OGRGeometry* g = f->GetGeometryRef();
    it.skipReason = geometryTypeSkipReason(g);
    if (it.skipReason.empty()) {
      bytes += g->WkbSize();
      it.feature = std::move(f);
    }
    items.push_back(std::move(it));
    return items.size() >= kSize || bytes >= kBytes;
  }

  void check(bool haveGeos, int threads) {
    if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
    const int n = std::max(1, std::min<int>(threads, static_cast<int>(items.size())));
    io::runOnThreads(n, [&](int t) {
      io::GdalErrorScope quiet;  // GEOS's complaints about invalid input (each thread has its own)
      for (size_t i = static_cast<size_t>(t); i < items.size(); i += static_cast<size_t>(n)) {
        Item& it = items[i];
        if (!it.feature) continue;  // skipped on reading
        it.skipReason =
            featurePolygons(it.feature->GetGeometryRef(), haveGeos, it.parts, it.repaired);
      }
    });
  }
};

// A feature's attributes, plus its source FID and (when several layers are read) its layer.
std::map<std::string, AttrValue> featureAttrs(OGRFeature* f, OGRLayer* l, bool severalLayers) {
  std::map<std::string, AttrValue> attrs;
  for (int i = 0; i < f->GetFieldCount(); ++i) {
    if (!f->IsFieldSetAndNotNull(i)) continue;
    attrs[f->GetFieldDefnRef(i)->GetNameRef()] = fieldValue(f, i);
  }
  if (f->GetFID() != OGRNullFID && !attrs.count("source_fid"))
    attrs["source_fid"] = static_cast<std::int64_t>(f->GetFID());
  if (severalLayers && !attrs.count("source_layer"))
    attrs["source_layer"] = std::string(l->GetName());

  return attrs;
}

}  // namespace

FieldSet readFields(const std::string& path, VectorReadReport* report, const std::string& layer,
                    int threads) {
  io::initGdal();
  io::GdalErrorScope errors;
  std::unique_ptr<GDALDataset, DatasetCloser> ds(static_cast<GDALDataset*>(
      GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr)));
  if (!ds) {
    throw IoError("io: cannot open vector source '" + path +
                  "': " + io::gdalCause(errors, "not a vector file GDAL/OGR can read") +
                  ". Check the path (zipped files: /vsizip/archive.zip/file.shp).");
  }

  const std::vector<OGRLayer*> layers = selectLayers(ds.get(), layer, path);

  Reader r;
  FieldSet out;
  std::vector<std::string> nonPolygonLayers;
  bool crsSet = false;
  const bool haveGeos = OGRGeometryFactory::haveGEOS();

  for (OGRLayer* l : layers) {
    // Skip layers that declare a non-polygon geometry type (points, lines, attribute tables).
    const OGRwkbGeometryType declared = l->GetGeomType();
    if (declared != wkbUnknown && !isPolygonal(declared)) {
      nonPolygonLayers.push_back(std::string(l->GetName()) + " (" +
                                 OGRGeometryTypeToName(declared) + ")");
      continue;
    }

    const Crs crs = layerCrs(l);
    std::unique_ptr<CoordTransform> xf;
    if (!crsSet) {
      out.crs = crs;
      crsSet = true;
    } else if (!crs.empty() && !out.crs.empty() && !crs.sameAs(out.crs)) {
      xf = std::make_unique<CoordTransform>(crs, out.crs);
    }

    l->ResetReading();
    FeatureBatch batch;
    auto flush = [&] {
      batch.check(haveGeos, threads);
      for (FeatureBatch::Item& it : batch.items) {
        if (!it.skipReason.empty()) {
          r.skip(it.where + it.skipReason);
          continue;
        }
        if (it.repaired) ++r.report.repaired;
        const std::map<std::string, AttrValue> attrs =
            featureAttrs(it.feature.get(), l, layers.size() > 1);
        for (size_t k = 0; k < it.parts.size(); ++k) {
          Field field;
          field.id = static_cast<std::int64_t>(out.fields.size()) + 1;
          field.polygon = std::move(it.parts[k]);
          if (xf) {
            xf->apply(field.polygon.exterior);
            for (Ring& h : field.polygon.holes) xf->apply(h);
          }
          field.attrs = attrs;
          if (it.parts.size() > 1) field.attrs["part"] = static_cast<std::int64_t>(k);
          out.fields.push_back(std::move(field));
          ++r.report.polygonsOut;
        }
      }
      batch.items.clear();
      batch.bytes = 0;
    };
    OGRFeature* raw = nullptr;
    while ((raw = l->GetNextFeature()) != nullptr) {
      ++r.report.featuresRead;
      std::string where = std::string(l->GetName()) + " feature " +
                          std::to_string(static_cast<long long>(raw->GetFID()));
      if (batch.add(std::unique_ptr<OGRFeature>(raw), std::move(where))) flush();
    }
    flush();
  }

  if (report) *report = r.report;
  if (out.fields.empty()) {
    std::string why = std::to_string(r.report.featuresRead) + " features read";
    if (r.report.skipped > 0) why += ", " + std::to_string(r.report.skipped) + " skipped";
    if (!r.report.skipReasons.empty()) why += " (first: " + r.report.skipReasons.front() + ")";
    for (const std::string& n : nonPolygonLayers) why += ", layer " + n + " is not polygonal";
    throw DataError("io: no polygons in '" + path + "': " + why +
                    ". Give a vector file with Polygon or MultiPolygon features.");
  }
  return out;
}

}  // namespace fieldseg
