// FieldSet / Field: field polygons (with holes) and their attributes, in one Crs.
// Plain value types. Polygons are stored as rings of points, closed implicitly (first point not
// repeated at the end). Orientation is not guaranteed on input; writers orient as each format
// wants.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg {

using Ring = std::vector<Point>;

struct Polygon {
  Ring exterior;
  std::vector<Ring> holes;
};

using AttrValue = std::variant<std::int64_t, double, std::string>;

struct Field {
  std::int64_t id = 0;
  Polygon polygon;
  std::map<std::string, AttrValue> attrs;
};

struct FieldSet {
  Crs crs;
  std::vector<Field> fields;
};

/// What happened while reading a vector source.
struct VectorReadReport {
  int featuresRead = 0;
  int polygonsOut = 0;                   ///< polygons after splitting multipolygons
  int repaired = 0;                      ///< invalid geometries fixed with MakeValid
  int skipped = 0;                       ///< features dropped
  std::vector<std::string> skipReasons;  ///< one line per skipped feature (capped)
};

/// Reads every polygon of every layer (or `layer` when not empty) of any OGR source: GeoJSON, GPKG,
/// Shapefile, FlatGeobuf, /vsizip/... Multipolygons are split into parts; invalid geometries are
/// repaired (MakeValid) or skipped, with reasons in `report`. Geometries are checked (GEOS
/// validity) on `threads` threads (<= 0: the hardware's) in batches; the result is the same for
/// any count. Throws IoError / DataError (no polygons).
FieldSet readFields(const std::string& path, VectorReadReport* report = nullptr,
                    const std::string& layer = {}, int threads = 1);

/// Reprojects every polygon to `to` (densifying nothing). Throws DataError if not transformable.
FieldSet reproject(const FieldSet& in, const Crs& to);

struct VectorWriteOptions {
  bool overwrite = false;
  std::string layerName = "fields";
  Crs crs;  ///< output CRS for GPKG/FGB (empty = the FieldSet's); GeoJSON is always EPSG:4326
  /// "id" as a string column (fiboa): a field's string attrs["id"] when it has one, else its
  /// number as text. writeFields() turns it on by itself when a field has a string id.
  bool stringIds = false;
  /// Collection-level metadata (e.g. {"fiboa_version", "0.2.0"}), written where the format holds
  /// it: a member of the GeoJSON FeatureCollection, GPKG layer metadata (gpkg_metadata). GeoJSONSeq
  /// has no collection and GDAL 3.6's FlatGeobuf no metadata: ignored there.
  std::map<std::string, std::string> collectionMetadata;
  /// GeoJSON / GeoJSONSeq through OGR's drivers instead of fieldseg's own writer (the same bytes,
  /// about 10x slower): for the cross-check test.
  bool viaOgr = false;
  /// Threads that reproject and format GeoJSON / GeoJSONSeq (fieldseg's own writer), in batches
  /// of fields written in order: the bytes do not depend on it. 1 = one field at a time.
  int threads = 1;
};

/// Writes by extension: .geojson/.json (RFC 7946), .geojsonl/.geojsons (GeoJSONSeq), .gpkg, .fgb.
/// One transaction, to a temp file renamed into place. Throws UsageError when the file exists and
/// overwrite is false, IoError on write failure. An empty FieldSet writes a valid empty layer.
void writeFields(const FieldSet& fields, const std::string& path,
                 const VectorWriteOptions& options = {});

}  // namespace fieldseg
