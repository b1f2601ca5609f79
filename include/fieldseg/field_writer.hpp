// FieldWriter: streams fields into a vector file (GeoJSON RFC 7946, GeoJSONSeq, GeoPackage,
// FlatGeobuf) one at a time, so very large field sets never have to be held in memory.
// writeFields() in fields.hpp is a thin wrapper around it.
//
// The writer owns a temp file next to the target (same folder); close() commits the single
// transaction and renames it into place. Destroying a writer that was not closed deletes the temp
// file. Not thread-safe: use one writer from one thread (with VectorWriteOptions::threads > 1 it
// formats GeoJSON on threads of its own, in batches: an error of a field may then surface at a
// later add() or at close()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg {

enum class AttrType { Integer64, Real, String };

struct AttrDef {
  std::string name;
  AttrType type = AttrType::String;
};

/// The attribute schema of a field set: the union of Field::attrs keys (sorted by name, "id"
/// excluded because it is always written from Field::id). A key seen with several types is
/// widened: int64 + double -> Real, anything + string -> String.
std::vector<AttrDef> attrSchemaOf(const FieldSet& fields);

class FieldWriter {
 public:
  /// Opens `path` for writing (driver from the extension, as writeFields). `fieldsCrs` is the CRS
  /// of the polygons that will be added. Throws UsageError (unknown extension, target exists and
  /// !options.overwrite), DataError (CRS not transformable), IoError (cannot create).
  FieldWriter(const std::string& path, const Crs& fieldsCrs, std::vector<AttrDef> schema,
              const VectorWriteOptions& options = {});
  ~FieldWriter();
  FieldWriter(const FieldWriter&) = delete;
  FieldWriter& operator=(const FieldWriter&) = delete;

  /// Appends one field (its polygon in `fieldsCrs`). Attributes not in the schema are ignored;
  /// schema attributes missing from the field are written as null. Throws DataError / IoError.
  void add(const Field& field);
  /// The same, taking the field (no copy when batches are formatted in parallel).
  void add(Field&& field);
  /// Commits, closes and renames into place. Throws IoError.
  void close();
  long long count() const;

 private:
  void checkWritable(const Field& field) const;
  void addJson(const Field& field);
  void addPending(Field&& field);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fieldseg
