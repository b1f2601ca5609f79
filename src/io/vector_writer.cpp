// writeFields / FieldWriter: OGR vector output (GeoJSON RFC 7946, GeoJSONSeq, GPKG, FlatGeobuf).
//
// Why a temp file + rename: a crash or a failed write never leaves a truncated file under the
// target name. Why one transaction: per-feature commits make GeoPackage about 10x slower.
// Rings are oriented here (exterior CCW, holes CW) rather than trusting the driver, so every format
// gets the same convention.
#include <gdal_priv.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "field_writer_impl.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/file_env.hpp"
#include "fieldseg/temp_files.hpp"
#include "gdal_error.hpp"
#include "geojson_stream.hpp"
#include "ogr_srs.hpp"

namespace fs = std::filesystem;

namespace fieldseg {

using io::gdalCause;
using io::GdalErrorScope;

namespace {

// A JSON string literal (quotes, backslashes and control characters escaped).
std::string jsonString(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(ch));
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string lowerExt(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

VectorFormat formatFor(const std::string& path) {
  const std::string ext = lowerExt(path);
  if (ext == ".geojson" || ext == ".json") return {"GeoJSON", true};
  if (ext == ".geojsonl" || ext == ".geojsons") return {"GeoJSONSeq", true};
  if (ext == ".gpkg") return {"GPKG", false};
  if (ext == ".fgb") return {"FlatGeobuf", false};
  throw UsageError(
      "io: unsupported vector output extension '" + ext + "' of '" + path +
      "': no writer for it. Use .geojson, .json, .geojsonl, .geojsons, .gpkg or .fgb.");
}

OGRLinearRing* makeRing(const Ring& in) {
  auto* ring = new OGRLinearRing();
  ring->setNumPoints(static_cast<int>(in.size()), FALSE);
  for (size_t i = 0; i < in.size(); ++i) ring->setPoint(static_cast<int>(i), in[i].x, in[i].y);
  return ring;
}

void registerDrivers() {
  static std::once_flag once;
  std::call_once(once, [] { GDALAllRegister(); });
}

}  // namespace

std::vector<AttrDef> attrSchemaOf(const FieldSet& fields) {
  std::map<std::string, AttrType> types;
  for (const Field& f : fields.fields) {
    for (const auto& [name, value] : f.attrs) {
      if (name == "id") continue;
      AttrType t = std::holds_alternative<std::int64_t>(value) ? AttrType::Integer64
                   : std::holds_alternative<double>(value)     ? AttrType::Real
                                                               : AttrType::String;
      auto it = types.find(name);
      if (it == types.end()) {
        types.emplace(name, t);
      } else if (it->second != t) {
        if (it->second == AttrType::String || t == AttrType::String)
          it->second = AttrType::String;
        else
          it->second = AttrType::Real;
      }
    }
  }
  std::vector<AttrDef> out;
  for (const auto& [name, t] : types) out.push_back({name, t});
  return out;
}

void FieldWriter::Impl::abandon() {
  if (inFlight.valid()) inFlight.wait();  // its result (or error) is dropped with the file
  inFlight = {};
  inFlightFields = 0;
  json.reset();
  pending.clear();
  if (ds) {
    GDALClose(ds);
    ds = nullptr;
  }
  if (srs) {
    geo::releaseSrs(srs);
    srs = nullptr;
  }
  if (!tempPath.empty()) {
    std::error_code ec;
    fs::remove(tempPath, ec);
    tempPath.clear();
  }
}

// The OGR dataset and layer of a GPKG / FlatGeobuf (or viaOgr GeoJSON) writer, in m.tempPath.
void FieldWriter::Impl::openOgr(const VectorWriteOptions& options) {
  Impl& m = *this;
  const std::string& path = m.path;
  std::error_code ec;
  GdalErrorScope errors;
  GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(m.format.driver.c_str());
  if (!driver) {
    m.abandon();
    throw IoError("io: GDAL driver '" + m.format.driver + "' is not available for '" + path +
                  "'. Install a GDAL build with it.");
  }
  fs::remove(m.tempPath, ec);
  m.ds = driver->Create(m.tempPath.c_str(), 0, 0, 0, GDT_Unknown, nullptr);
  if (!m.ds) {
    const std::string why = gdalCause(errors, "unknown GDAL error");
    m.tempPath.clear();
    m.abandon();
    throw IoError("io: cannot create '" + path + "': " + why + ". Check the folder is writable.");
  }
  char** lco = nullptr;
  if (m.format.driver == "GeoJSON") {
    lco = CSLSetNameValue(lco, "RFC7946", "YES");
    lco = CSLSetNameValue(lco, "COORDINATE_PRECISION", "7");
    if (!options.collectionMetadata.empty()) {
      // Foreign members of the FeatureCollection (GDAL RFC 60 native data).
      std::string members = "{";
      for (const auto& [k, v] : options.collectionMetadata)
        members += (members.size() > 1 ? ", " : "") + jsonString(k) + ": " + jsonString(v);
      members += "}";
      lco = CSLSetNameValue(lco, "NATIVE_DATA", members.c_str());
      lco = CSLSetNameValue(lco, "NATIVE_MEDIA_TYPE", "application/vnd.geo+json");
    }
  } else if (m.format.driver == "GeoJSONSeq") {
    lco = CSLSetNameValue(lco, "RS", "NO");
    lco = CSLSetNameValue(lco, "COORDINATE_PRECISION", "7");
  }
  m.layer = m.ds->CreateLayer(options.layerName.c_str(), m.srs, wkbPolygon, lco);
  CSLDestroy(lco);
  if (!m.layer) {
    const std::string why = gdalCause(errors, "unknown GDAL error");
    m.abandon();
    throw IoError("io: cannot create layer '" + options.layerName + "' in '" + path + "': " + why +
                  ".");
  }
  if (m.format.driver == "GPKG")
    for (const auto& [k, v] : options.collectionMetadata)
      m.layer->SetMetadataItem(k.c_str(), v.c_str());
  auto addField = [&](const std::string& name, OGRFieldType type) {
    OGRFieldDefn defn(name.c_str(), type);
    if (m.layer->CreateField(&defn) != OGRERR_NONE) {
      const std::string why = gdalCause(errors, "unknown GDAL error");
      m.abandon();
      throw IoError("io: cannot create attribute '" + name + "' in '" + path + "': " + why + ".");
    }
  };
  addField("id", m.stringIds ? OFTString : OFTInteger64);
  for (const AttrDef& a : m.schema)
    addField(a.name, a.type == AttrType::Integer64 ? OFTInteger64
                     : a.type == AttrType::Real    ? OFTReal
                                                   : OFTString);
  OGRFeatureDefn* defn = m.layer->GetLayerDefn();
  m.idIndex = defn->GetFieldIndex("id");
  for (const AttrDef& a : m.schema) m.attrIndex.push_back(defn->GetFieldIndex(a.name.c_str()));

  // Drivers without transactions (GeoJSON, FlatGeobuf) answer OGRERR_UNSUPPORTED_OPERATION: fine.
  m.inTransaction = m.ds->StartTransaction(FALSE) == OGRERR_NONE;
}

FieldWriter::FieldWriter(const std::string& path, const Crs& fieldsCrs, std::vector<AttrDef> schema,
                         const VectorWriteOptions& options)
    : impl_(std::make_unique<Impl>()) {
  registerDrivers();
  Impl& m = *impl_;
  m.path = path;
  m.format = formatFor(path);
  m.schema = std::move(schema);

  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!options.overwrite)
      throw UsageError("io: output '" + path +
                       "' already exists. Pass --overwrite (VectorWriteOptions::overwrite) or "
                       "choose another path.");
    if (fs::is_directory(path, ec))
      throw UsageError("io: output '" + path + "' is a directory. Choose a file path.");
  }

  // Output CRS: RFC 7946 formats are always WGS84 lon/lat; others use options.crs or the input's.
  Crs outCrs = m.format.geographicOnly ? Crs::wgs84()
               : options.crs.empty()   ? fieldsCrs
                                       : options.crs;
  if (!outCrs.empty()) {
    if (fieldsCrs.empty())
      throw DataError("io: cannot write '" + path + "' in " + outCrs.label() +
                      ": the fields have no CRS. Give the field set a CRS.");
    if (!fieldsCrs.sameAs(outCrs)) m.transform.emplace(fieldsCrs, outCrs);
    m.fieldsCrs = fieldsCrs;
    m.outCrs = outCrs;
    m.srs = geo::newSrs(outCrs);
    if (!m.srs) {
      m.abandon();
      throw DataError("io: cannot use CRS '" + outCrs.label() + "' for '" + path +
                      "': OGR cannot parse its WKT. Give an EPSG code.");
    }
  }

  fs::path target(path);
  fs::path dir = target.parent_path();
  if (!dir.empty() && !fs::is_directory(dir, ec)) {
    m.abandon();
    throw IoError("io: cannot write '" + path + "': folder '" + dir.string() +
                  "' does not exist. Create it first.");
  }
  // The FileEnv may refuse the temp file; a throwing constructor runs no destructor, so the CRS
  // object is released here.
  try {
    m.tempPath = tempSibling(path);
  } catch (...) {
    m.abandon();
    throw;
  }

  m.stringIds = options.stringIds;
  m.threads = std::max(1, options.threads);
  if (m.format.geographicOnly && !options.viaOgr) {
    try {
      m.json = std::make_unique<io::GeoJsonStream>(m.tempPath, m.format.driver == "GeoJSONSeq",
                                                   options.layerName, options.collectionMetadata);
    } catch (...) {
      m.tempPath.clear();
      m.abandon();
      throw;
    }
    return;
  }

  m.openOgr(options);
}

FieldWriter::~FieldWriter() {
  if (impl_) impl_->abandon();
}

long long FieldWriter::count() const {
  return impl_->count + impl_->inFlightFields + static_cast<long long>(impl_->pending.size());
}

void FieldWriter::add(Field&& field) {
  Impl& m = *impl_;
  if (!m.json || m.threads <= 1) return add(static_cast<const Field&>(field));
  checkWritable(field);
  addPending(std::move(field));
}

void FieldWriter::checkWritable(const Field& field) const {
  const Impl& m = *impl_;
  if (!m.layer && !m.json)
    throw IoError("io: FieldWriter for '" + m.path + "' is closed. Open a new one.");
  if (field.polygon.exterior.size() < 3)
    throw DataError("io: field " + std::to_string(field.id) + " for '" + m.path +
                    "' has fewer than 3 exterior points. Drop degenerate fields before writing.");
}

void FieldWriter::add(const Field& field) {
  Impl& m = *impl_;
  checkWritable(field);
  if (m.json) {
    if (m.threads > 1)
      addPending(Field(field));
    else
      addJson(field);
    return;
  }
  const std::vector<Ring> rings =
      preparedRings(field, m.transform ? &*m.transform : nullptr, m.path);
  OGRPolygon ogrPoly;
  for (const Ring& r : rings) ogrPoly.addRingDirectly(makeRing(r));

  OGRFeature* feature = OGRFeature::CreateFeature(m.layer->GetLayerDefn());
  if (m.stringIds) {
    auto it = field.attrs.find("id");
    const std::string* s =
        it == field.attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
    feature->SetField(m.idIndex, s ? s->c_str() : std::to_string(field.id).c_str());
  } else {
    feature->SetField(m.idIndex, static_cast<GIntBig>(field.id));
  }
  for (size_t i = 0; i < m.schema.size(); ++i) {
    auto it = field.attrs.find(m.schema[i].name);
    const int idx = m.attrIndex[i];
    if (it == field.attrs.end()) {
      feature->SetFieldNull(idx);
      continue;
    }
    const AttrValue& v = it->second;
    switch (m.schema[i].type) {
      case AttrType::Integer64:
        feature->SetField(idx, static_cast<GIntBig>(std::get<std::int64_t>(v)));
        break;
      case AttrType::Real:
        feature->SetField(idx, std::holds_alternative<double>(v)
                                   ? std::get<double>(v)
                                   : static_cast<double>(std::get<std::int64_t>(v)));
        break;
      case AttrType::String:
        if (std::holds_alternative<std::string>(v))
          feature->SetField(idx, std::get<std::string>(v).c_str());
        else if (std::holds_alternative<double>(v))
          feature->SetField(idx, std::get<double>(v));
        else
          feature->SetField(idx, static_cast<GIntBig>(std::get<std::int64_t>(v)));
        break;
    }
  }
  feature->SetGeometry(&ogrPoly);
  GdalErrorScope errors;
  const OGRErr err = m.layer->CreateFeature(feature);
  OGRFeature::DestroyFeature(feature);
  if (err != OGRERR_NONE)
    throw IoError("io: cannot write field " + std::to_string(field.id) + " to '" + m.path +
                  "': " + gdalCause(errors, "unknown GDAL error") + ". Check free disk space.");
  ++m.count;
}

void FieldWriter::close() {
  Impl& m = *impl_;
  if (m.json) {
    m.flushPending();
    m.writeInFlight();
    try {
      m.json->finish();
    } catch (...) {
      m.abandon();
      throw;
    }
    m.json.reset();
    const std::string finished = m.tempPath;
    m.tempPath.clear();  // publishFile removes it on failure
    m.abandon();         // releases the CRS object
    publishFile(finished, m.path, "io");
    return;
  }
  if (!m.ds) throw IoError("io: FieldWriter for '" + m.path + "' is already closed.");
  GdalErrorScope errors;
  if (m.inTransaction && m.ds->CommitTransaction() != OGRERR_NONE) {
    const std::string why = gdalCause(errors, "unknown GDAL error");
    m.abandon();
    throw IoError("io: cannot commit '" + m.path + "': " + why + ". Check free disk space.");
  }
  m.layer = nullptr;
  GDALClose(m.ds);  // flushes: FlatGeobuf builds its index and writes everything here
  m.ds = nullptr;
  if (errors.hasFailure()) {
    const std::string why = gdalCause(errors, "unknown GDAL error");
    m.abandon();
    throw IoError("io: cannot finish '" + m.path + "': " + why + ". Check free disk space.");
  }
  const std::string finished = m.tempPath;
  m.tempPath.clear();  // publishFile removes it on failure
  publishFile(finished, m.path, "io");
  if (m.srs) {
    geo::releaseSrs(m.srs);
    m.srs = nullptr;
  }
}

void writeFields(const FieldSet& fields, const std::string& path,
                 const VectorWriteOptions& options) {
  VectorWriteOptions o = options;
  for (const Field& f : fields.fields) {
    auto it = f.attrs.find("id");
    if (it != f.attrs.end() && std::holds_alternative<std::string>(it->second)) {
      o.stringIds = true;
      break;
    }
  }
  FieldWriter writer(path, fields.crs, attrSchemaOf(fields), o);
  for (const Field& f : fields.fields) writer.add(f);
  writer.close();
}

}  // namespace fieldseg
