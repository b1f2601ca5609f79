// Internal to src/io: FieldWriter's state, shared by vector_writer.cpp (opening, the OGR formats,
// closing) and field_writer_json.cpp (fieldseg's own GeoJSON / GeoJSONSeq writer, in parallel
// batches when VectorWriteOptions::threads > 1).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fieldseg/field_writer.hpp"
#include "fieldseg/geo.hpp"
#include "geojson_stream.hpp"

class GDALDataset;
class OGRLayer;
class OGRSpatialReference;

namespace fieldseg {

struct VectorFormat {
  std::string driver;
  bool geographicOnly = false;  // RFC 7946 family: always WGS84 lon/lat
};

struct FieldWriter::Impl {
  std::string path;
  std::string tempPath;
  VectorFormat format;
  std::vector<AttrDef> schema;
  std::optional<CoordTransform> transform;
  GDALDataset* ds = nullptr;
  OGRLayer* layer = nullptr;
  OGRSpatialReference* srs = nullptr;
  bool inTransaction = false;
  long long count = 0;
  int idIndex = -1;
  bool stringIds = false;
  std::vector<int> attrIndex;
  std::unique_ptr<io::GeoJsonStream> json;  // GeoJSON / GeoJSONSeq without OGR
  // Parallel JSON batches: fields wait here until a batch is full (or close()); each extra thread
  // has its own transform (a PROJ transformation serves one thread at a time).
  int threads = 1;
  Crs fieldsCrs, outCrs;
  std::vector<Field> pending;
  std::vector<CoordTransform> threadTransforms;

  void openOgr(const VectorWriteOptions& options);
  void abandon();
  /// Formats and writes the pending fields (on `threads` threads), in order.
  void flushPending();
};

/// `in` oriented (exterior CCW, holes CW) and closed (last point = first).
Ring orientedRing(const Ring& in, bool ccw);

}  // namespace fieldseg
