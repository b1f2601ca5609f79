#include "aoi.hpp"

#include <filesystem>
#include <sstream>
#include <vector>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {

FieldSet readAoi(const std::string& text, const std::string& command) {
  std::error_code ec;
  std::vector<double> v;
  if (!std::filesystem::exists(text, ec)) {
    std::stringstream ss(text);
    for (std::string item; std::getline(ss, item, ',');) {
      try {
        size_t used = 0;
        const double x = std::stod(item, &used);
        if (used != item.size()) break;
        v.push_back(x);
      } catch (const std::exception&) {
        break;
      }
    }
  }
  if (v.size() != 4 || text.find(',') == std::string::npos) return readFields(text);
  const double minLon = v[0], minLat = v[1], maxLon = v[2], maxLat = v[3];
  if (!(minLon >= -180 && maxLon <= 180 && minLat >= -90 && maxLat <= 90 && minLon < maxLon &&
        minLat < maxLat)) {
    throw UsageError(
        command + ": --aoi '" + text +
        "' is not a lon/lat box minlon,minlat,maxlon,maxlat (WGS84 degrees, min < max). "
        "Give e.g. --aoi 30.31,-1.52,30.33,-1.51, or a vector file.");
  }
  FieldSet aoi;
  aoi.crs = Crs::wgs84();
  Field f;
  f.id = 1;
  f.polygon.exterior = {
      {minLon, minLat}, {maxLon, minLat}, {maxLon, maxLat}, {minLon, maxLat}, {minLon, minLat}};
  aoi.fields.push_back(f);
  return aoi;
}

}  // namespace fieldseg::cli
