// Internal to src/io: FieldWriter's state, shared by vector_writer.cpp (opening, the OGR formats,
// closing) and field_writer_json.cpp (fieldseg's own GeoJSON / GeoJSONSeq writer, in parallel
// batches when VectorWriteOptions::threads > 1).
#pragma once

#include <future>
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
  // has its own transform (a PROJ transformation serves one thread at a time). A full batch is
  // formatted in the background while the caller goes on adding fields and the batch before it is
  // written: one batch at a time in flight, written in order.
  int threads = 1;
  Crs fieldsCrs, outCrs;
  std::vector<Field> pending;
  std::vector<CoordTransform> threadTransforms;
  struct Formatted {
    std::vector<std::string> text;  // per part, in order
    std::vector<long long> fields;  // features in each part
  };
  std::future<Formatted> inFlight;
  long long inFlightFields = 0;

  void openOgr(const VectorWriteOptions& options);
  void abandon();
  /// Starts formatting the pending fields (on `threads` threads) and writes the batch before.
  void flushPending();
  /// Waits for the batch in flight and writes it (none: nothing).
  void writeInFlight();
  void writeFormatted(const Formatted& done, long long fields);
  size_t bytesPerField = 2048;  // text per field in the last batch written: the next one's reserve
  Formatted formatBatch(std::vector<Field>& batch, size_t parts, size_t bytesPerField) const;
};

/// The rings of `field` ready to write: reprojected with `transform` (if any; DataError naming the
/// field when a point cannot be), oriented (exterior CCW, holes CW), closed (last point = first);
/// holes of fewer than 3 points dropped. `path` names the output in the error.
std::vector<Ring> preparedRings(const Field& field, const CoordTransform* transform,
                                const std::string& path);

}  // namespace fieldseg
