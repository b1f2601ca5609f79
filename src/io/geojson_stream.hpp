// GeoJsonStream: the GeoJSON (RFC 7946 FeatureCollection) and GeoJSONSeq writer behind
// FieldWriter, written directly instead of through OGR. It produces the same bytes as GDAL 3.6's
// GeoJSON / GeoJSONSeq drivers with RFC7946=YES, COORDINATE_PRECISION=7 (the cross-check test
// writes a field set both ways and compares), about 10x faster: OGR builds a json-c object tree
// per feature and prints every number through printf.
//
// Internal to src/io. Writes to a file descriptor through fileEnv().write, so the FileEnv fault
// tests reach it; the caller owns the temp file, its removal and the rename into place.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"

namespace fieldseg::io {

class GeoJsonStream {
 public:
  /// Creates `path` (truncating it). `sequence`: GeoJSONSeq (one feature per line) instead of a
  /// FeatureCollection; `members` are the collection's foreign members (ignored for sequences).
  /// Throws IoError.
  GeoJsonStream(const std::string& path, bool sequence, const std::string& layerName,
                const std::map<std::string, std::string>& members);
  ~GeoJsonStream();
  GeoJsonStream(const GeoJsonStream&) = delete;
  GeoJsonStream& operator=(const GeoJsonStream&) = delete;

  /// One property of a feature: its value converted to `type` as the OGR field would hold it;
  /// null when `value` is.
  struct Prop {
    const std::string* name;
    AttrType type;
    const AttrValue* value;
  };
  /// One feature: `rings` are lon/lat, closed and oriented (exterior first); `props` in order.
  /// Throws IoError when a write fails.
  void add(const std::vector<Ring>& rings, const std::vector<Prop>& props);
  /// Appends one feature's text to `out` as add() writes it, for features formatted elsewhere
  /// (in parallel): `first` = no separator before it.
  static void format(std::string& out, const std::vector<Ring>& rings,
                     const std::vector<Prop>& props, bool sequence, bool first);
  /// Writes `n` features formatted by format() (the first with first = true). Throws IoError.
  void addFormatted(const std::string& text, long long n);
  /// Writes the end of the collection, flushes and closes. Throws IoError.
  void finish();

 private:
  void flush();
  std::string path_;
  int fd_ = -1;
  bool sequence_ = false;
  long long count_ = 0;
  std::string buf_;
};

/// `v` as JSON text the way the GDAL 3.6 GeoJSON writer prints it: coordinates with `precision`
/// decimals, trailing zeros dropped (at least one kept: "2.0"); exposed for the unit test.
std::string geoJsonCoordinate(double v, int precision = 7);
/// A real property: 17 significant digits, fewer (down to 14) when they end a binary-rounding run
/// of 9s or 0s; ".0" added to integral values; null when not finite.
std::string geoJsonReal(double v);
/// A JSON string literal, escaped as json-c does; `escapeSlash` also writes "/" as "\/" (GDAL's
/// GeoJSONSeq driver does, its GeoJSON driver does not).
std::string geoJsonString(const std::string& v, bool escapeSlash = false);

}  // namespace fieldseg::io
