// Opening one GDAL dataset and reading its georeferencing and metadata (gdal_raster_source.hpp).
#include <algorithm>
#include <cctype>

#include "fieldseg/datetime.hpp"
#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "gdal_raster_source.hpp"
#include "ogr_srs.hpp"

namespace fieldseg::io {

GDALDataset* openDataset(const std::string& path) {
  GdalErrorScope errors;
  auto* ds = static_cast<GDALDataset*>(
      GDALOpenEx(path.c_str(), GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, nullptr,
                 nullptr, nullptr));
  if (ds) return ds;
  VSIStatBufL st;
  if (!isVsiPath(path) && VSIStatL(path.c_str(), &st) != 0) {
    throw IoError("io: cannot open raster '" + path +
                  "': no such file or directory. Check the path.");
  }
  // A vector file (GeoJSON, Shapefile...) deserves a plainer message than "not recognized".
  {
    GdalErrorScope quiet;
    GDALDatasetH vec =
        GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, nullptr, nullptr);
    if (vec) {
      GDALClose(vec);
      throw DataError("io: '" + path +
                      "' is a vector dataset, not a raster. Give an image (GeoTIFF, COG, VRT...).");
    }
  }
  throw IoError(
      "io: cannot open raster '" + path + "': " + gdalCause(errors, "GDAL cannot read it") +
      ". Give a raster GDAL can read (GeoTIFF, COG, VRT, JPEG2000, PNG with a world file...).");
}

std::string fileStem(const std::string& path) {
  std::string name = path.substr(path.find_last_of('/') + 1);
  size_t dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

std::string colorInterpName(GDALColorInterp ci) {
  return io::lower(GDALGetColorInterpretationName(ci));
}

std::array<double, 6> geoTransformOf(GDALDataset* ds, const std::string& path) {
  std::array<double, 6> gt{};
  GdalErrorScope errors;
  bool hasGt = ds->GetGeoTransform(gt.data()) == CE_None;
  if (!hasGt || geo::isEmptySrs(ds->GetSpatialRef())) {
    // A truncated file loses its georeferencing tags too: say what is really wrong. Its last
    // pixel cannot be read when the data blocks are gone.
    if (ds->GetRasterCount() > 0 && ds->GetRasterXSize() > 0 && ds->GetRasterYSize() > 0) {
      GdalErrorScope readErrors;
      float v = 0;
      if (ds->GetRasterBand(1)->RasterIO(GF_Read, ds->GetRasterXSize() - 1,
                                         ds->GetRasterYSize() - 1, 1, 1, &v, 1, 1, GDT_Float32, 0,
                                         0, nullptr) != CE_None)
        throw IoError("io: raster '" + path +
                      "' is truncated or corrupt: its pixels cannot be "
                      "read (" +
                      gdalCause(readErrors, "read failed") + "). Copy or download it again.");
    }
    std::string missing = !hasGt ? "no geotransform" : "no CRS";
    throw DataError("io: raster '" + path + "' has no georeferencing (" + missing +
                    "). Assign it, e.g. gdal_translate -a_srs EPSG:<code> -a_ullr <ulx> <uly> "
                    "<lrx> <lry>, or gdalwarp a GCP-referenced image.");
  }
  return gt;
}

Crs crsOf(GDALDataset* ds) { return geo::crsOfSrs(ds->GetSpatialRef(), false); }

namespace {

// TIFFTAG_DATETIME is "YYYY:MM:DD HH:MM:SS" (no zone: read as UTC); fiboa wants ISO 8601 UTC.
// A value that is no date at all is dropped rather than passed on.
std::string isoDatetime(const std::string& v) { return isoUtc(v).value_or(""); }

}  // namespace

std::string datetimeOf(GDALDataset* ds) {
  for (const char* domain : {"", "IMAGERY"}) {
    for (const char* key : {"ACQUISITIONDATETIME", "TIFFTAG_DATETIME", "DATETIME"}) {
      const char* v = ds->GetMetadataItem(key, domain);
      if (v && *v) return isoDatetime(v);
    }
  }
  return {};
}

}  // namespace fieldseg::io
