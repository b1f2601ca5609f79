// Per-cell outputs and done-markers. The output is GeoJSON 2008 (with a "crs" member) in the grid
// CRS, because RFC 7946 would force WGS84 and lose the exact grid coordinates that merge must
// reproduce; GDAL/QGIS still read it. The marker records the output's size and hash, so a truncated
// or replaced output is detected, not trusted.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "cell_store_internal.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/version.hpp"

namespace fieldseg::batch {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

Json ringJson(const Ring& r) {
  Json a = Json::array();
  for (const auto& p : r) a.push_back(Json::array({p.x, p.y}));
  if (!r.empty()) a.push_back(Json::array({r.front().x, r.front().y}));  // GeoJSON closes rings
  return a;
}

Ring ringFrom(const Json& a, const std::string& source) {
  Ring r;
  for (const auto& p : a) {
    if (!p.is_array() || p.size() < 2) {
      throw DataError("batch: cell output '" + source + "' has a malformed coordinate.");
    }
    r.push_back({p[0].get<double>(), p[1].get<double>()});
  }
  if (r.size() > 1 && r.front().x == r.back().x && r.front().y == r.back().y) r.pop_back();
  return r;
}

std::string utcNow() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string toString(CellState state) {
  switch (state) {
    case CellState::Missing:
      return "missing";
    case CellState::Unfinished:
      return "unfinished";
    case CellState::Corrupt:
      return "corrupt";
    case CellState::Finished:
      return "finished";
  }
  return "unknown";
}

bool isValidCellId(const std::string& id) {
  if (id.empty() || id.size() > kMaxCellIdLength || id.front() == '-') return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

CellPaths cellPaths(const std::string& dir, const std::string& cellId) {
  if (!isValidCellId(cellId)) {
    throw DataError("batch: refusing cell id '" + cellId.substr(0, 80) +
                    "' as a file name: only A-Z a-z 0-9 _ - are allowed. Regenerate the grid with "
                    "`fieldseg grid`.");
  }
  fs::path base = fs::path(dir) / "cells";
  return {(base / (cellId + ".geojson")).string(), (base / (cellId + ".done")).string()};
}

std::string cellOutputText(const GridCell& cell, const Crs& gridCrs, const FieldSet& fields) {
  Json j;
  j["type"] = "FeatureCollection";
  j["name"] = cell.id;
  if (auto code = gridCrs.epsg()) {
    j["crs"] = {{"type", "name"},
                {"properties", {{"name", "urn:ogc:def:crs:EPSG::" + std::to_string(*code)}}}};
  }
  j["fieldseg_cell"] = {{"id", cell.id}, {"crs_wkt", gridCrs.wkt()}};
  Json feats = Json::array();
  for (const auto& f : fields.fields) {
    Json props = Json::object();
    for (const auto& [k, v] : f.attrs) {
      std::visit([&](const auto& x) { props[k] = x; }, v);
    }
    Json coords = Json::array();
    coords.push_back(ringJson(f.polygon.exterior));
    for (const auto& h : f.polygon.holes) coords.push_back(ringJson(h));
    feats.push_back({{"type", "Feature"},
                     {"id", f.id},
                     {"properties", std::move(props)},
                     {"geometry", {{"type", "Polygon"}, {"coordinates", std::move(coords)}}}});
  }
  j["features"] = std::move(feats);
  return j.dump() + "\n";
}

FieldSet parseCellOutput(const std::string& text, const std::string& source) {
  FieldSet fs;
  try {
    Json j = Json::parse(text);
    fs.crs = Crs::fromUserInput(j.at("fieldseg_cell").at("crs_wkt").get<std::string>());
    for (const auto& jf : j.at("features")) {
      Field f;
      f.id = jf.at("id").get<std::int64_t>();
      for (const auto& [k, v] : jf.at("properties").items()) {
        if (v.is_number_integer())
          f.attrs[k] = v.get<std::int64_t>();
        else if (v.is_number_float())
          f.attrs[k] = v.get<double>();
        else if (v.is_string())
          f.attrs[k] = v.get<std::string>();
      }
      const Json& coords = jf.at("geometry").at("coordinates");
      if (!coords.is_array() || coords.empty()) {
        throw DataError("batch: cell output '" + source + "' has a polygon without rings.");
      }
      f.polygon.exterior = ringFrom(coords[0], source);
      for (size_t i = 1; i < coords.size(); ++i)
        f.polygon.holes.push_back(ringFrom(coords[i], source));
      fs.fields.push_back(std::move(f));
    }
  } catch (const nlohmann::json::exception& e) {
    throw DataError("batch: cell output '" + source + "' is not a fieldseg cell file: " + e.what() +
                    ". Delete it and rerun its shard.");
  }
  return fs;
}

std::string markerText(const GridCell& cell, const std::string& output, int fieldCount) {
  Json m;
  m["cell"] = cell.id;
  m["output"] = fs::path(cellPaths(".", cell.id).output).filename().string();
  m["bytes"] = output.size();
  m["fnv1a64"] = fnv1a64Hex(output);
  m["fields"] = fieldCount;
  m["fieldseg_version"] = kVersion;
  m["finished_utc"] = utcNow();
  return m.dump(2) + "\n";
}

CellStatus inspectCell(const std::string& dir, const std::string& cellId) {
  CellPaths p = cellPaths(dir, cellId);
  const bool haveOut = fs::exists(p.output), haveMarker = fs::exists(p.marker);
  if (!haveOut && !haveMarker) return {CellState::Missing, "no output and no done-marker"};
  if (!haveMarker) return {CellState::Unfinished, "output without done-marker (interrupted)"};
  if (!haveOut) return {CellState::Unfinished, "done-marker without output (output deleted)"};
  std::string markerRaw, out;
  if (!readWholeFile(p.marker, markerRaw) || !readWholeFile(p.output, out)) {
    return {CellState::Corrupt, "cannot read output or done-marker"};
  }
  Json m;
  try {
    m = Json::parse(markerRaw);
    if (m.at("cell").get<std::string>() != cellId) {
      return {CellState::Corrupt, "done-marker names another cell"};
    }
    if (m.at("bytes").get<size_t>() != out.size()) {
      return {CellState::Corrupt, "output has " + std::to_string(out.size()) +
                                      " bytes, done-marker says " +
                                      std::to_string(m.at("bytes").get<size_t>())};
    }
    if (m.at("fnv1a64").get<std::string>() != fnv1a64Hex(out)) {
      return {CellState::Corrupt, "output hash differs from the done-marker"};
    }
  } catch (const nlohmann::json::exception&) {
    return {CellState::Corrupt, "done-marker is not valid JSON"};
  }
  return {CellState::Finished, "done"};
}

std::string writeCellOutput(const std::string& dir, const GridCell& cell, const Crs& gridCrs,
                            const FieldSet& fields) {
  std::string out = cellOutputText(cell, gridCrs, fields);
  CellPaths p = cellPaths(dir, cell.id);
  // Drop a stale marker first: between here and the new marker the cell reads as unfinished.
  std::error_code ec;
  fs::remove(p.marker, ec);
  writeFileAtomic(p.output, out);
  std::string marker = markerText(cell, out, static_cast<int>(fields.fields.size()));
  writeFileAtomic(p.marker, marker);
  return marker;
}

FieldSet readCellOutput(const std::string& dir, const std::string& cellId) {
  CellStatus st = inspectCell(dir, cellId);
  CellPaths p = cellPaths(dir, cellId);
  if (st.state != CellState::Finished) {
    throw DataError("batch: cell '" + cellId + "' in '" + dir + "' is " + toString(st.state) +
                    " (" + st.detail + "). Rerun the shard that owns it.");
  }
  std::string text;
  if (!readWholeFile(p.output, text)) {
    throw IoError("batch: cannot read cell output '" + p.output + "'. Check permissions.");
  }
  return parseCellOutput(text, p.output);
}

}  // namespace fieldseg::batch
