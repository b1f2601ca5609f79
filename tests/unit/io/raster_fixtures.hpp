// Test fixtures for the raster reader: small GeoTIFFs written with the GDAL C API (so the files do
// not depend on the writer under test), with nodata, masks, alpha, scale/offset and metadata.
#pragma once

#include <gdal.h>

#include <array>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg::test {

struct FixtureBand {
  std::function<double(int col, int row)> value;
  std::optional<double> nodata;
  std::string description;
  GDALColorInterp colorInterp = GCI_Undefined;
  double scale = 1.0;
  double offset = 0.0;
};

struct FixtureSpec {
  int width = 40;
  int height = 30;
  GDALDataType type = GDT_UInt16;
  std::array<double, 6> geoTransform{500000, 10, 0, 4000000, 0, -10};
  std::string srs = "EPSG:32633";  ///< "" = no CRS
  bool georeferenced = true;       ///< false = no geotransform and no CRS
  std::vector<FixtureBand> bands;
  /// Per-dataset mask band (GMF_PER_DATASET) value for each pixel, when set.
  std::function<bool(int col, int row)> datasetMask;
  std::vector<std::pair<std::string, std::string>> metadata;
};

inline void writeFixture(const std::string& path, const FixtureSpec& s) {
  GDALAllRegister();
  GDALDriverH drv = GDALGetDriverByName("GTiff");
  GDALDatasetH ds = GDALCreate(drv, path.c_str(), s.width, s.height,
                               static_cast<int>(s.bands.size()), s.type, nullptr);
  if (!ds) throw std::runtime_error("fixture: cannot create " + path);
  if (s.georeferenced) {
    std::array<double, 6> gt = s.geoTransform;
    GDALSetGeoTransform(ds, gt.data());
    if (!s.srs.empty()) {
      GDALSetProjection(ds, Crs::fromUserInput(s.srs).wkt().c_str());
    }
  }
  for (const auto& [k, v] : s.metadata) GDALSetMetadataItem(ds, k.c_str(), v.c_str(), nullptr);
  std::vector<double> buf(static_cast<size_t>(s.width) * s.height);
  for (size_t b = 0; b < s.bands.size(); ++b) {
    const FixtureBand& fb = s.bands[b];
    GDALRasterBandH band = GDALGetRasterBand(ds, static_cast<int>(b) + 1);
    for (int r = 0; r < s.height; ++r) {
      for (int c = 0; c < s.width; ++c) buf[static_cast<size_t>(r) * s.width + c] = fb.value(c, r);
    }
    if (GDALRasterIO(band, GF_Write, 0, 0, s.width, s.height, buf.data(), s.width, s.height,
                     GDT_Float64, 0, 0) != CE_None) {
      throw std::runtime_error("fixture: cannot write " + path);
    }
    if (fb.nodata) GDALSetRasterNoDataValue(band, *fb.nodata);
    if (!fb.description.empty()) GDALSetDescription(band, fb.description.c_str());
    GDALSetRasterColorInterpretation(band, fb.colorInterp);
    if (fb.scale != 1.0) GDALSetRasterScale(band, fb.scale);
    if (fb.offset != 0.0) GDALSetRasterOffset(band, fb.offset);
  }
  if (s.datasetMask) {
    GDALCreateDatasetMaskBand(ds, GMF_PER_DATASET);
    GDALRasterBandH mb = GDALGetMaskBand(GDALGetRasterBand(ds, 1));
    std::vector<unsigned char> m(static_cast<size_t>(s.width) * s.height);
    for (int r = 0; r < s.height; ++r) {
      for (int c = 0; c < s.width; ++c)
        m[static_cast<size_t>(r) * s.width + c] = s.datasetMask(c, r) ? 255 : 0;
    }
    if (GDALRasterIO(mb, GF_Write, 0, 0, s.width, s.height, m.data(), s.width, s.height, GDT_Byte,
                     0, 0) != CE_None) {
      throw std::runtime_error("fixture: cannot write the mask of " + path);
    }
  }
  GDALClose(ds);
}

/// A deterministic, non-trivial pixel pattern.
inline double pattern(int c, int r, int b = 0) { return 100 + ((c * 7 + r * 13 + b * 31) % 97); }

}  // namespace fieldseg::test
