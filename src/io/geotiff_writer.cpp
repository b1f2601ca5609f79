// Streaming GeoTIFF writer: tiled 256x256, DEFLATE (+ predictor), BIGTIFF=IF_SAFER, written to
// a temp sibling (fieldseg/temp_files.hpp) and renamed on close(). write() may be called from
// several threads; a mutex serialises access to the one GDAL dataset.
#include <gdal_priv.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/file_env.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "gdal_error.hpp"

namespace fieldseg {

using io::gdalCause;
using io::GdalErrorScope;

struct GeoTiffWriter::Impl {
  std::string path;
  std::string tmpPath;
  GridSpec grid;
  int bands = 0;
  GDALDataset* ds = nullptr;
  std::mutex mutex;
  bool closed = false;
  bool cog = false;
};

namespace {

GDALDataType gdalType(GeoTiffWriter::Type t) {
  switch (t) {
    case GeoTiffWriter::Type::Byte:
      return GDT_Byte;
    case GeoTiffWriter::Type::UInt16:
      return GDT_UInt16;
    case GeoTiffWriter::Type::Int32:
      return GDT_Int32;
    case GeoTiffWriter::Type::Float32:
      return GDT_Float32;
  }
  return GDT_Float32;
}

}  // namespace

GeoTiffWriter::GeoTiffWriter(const std::string& path, const GridSpec& grid, int bands, Type type,
                             std::vector<std::string> bandNames, std::optional<double> nodata,
                             Compression compression)
    : impl_(std::make_unique<Impl>()) {
  io::initGdal();
  if (bands <= 0 || grid.width() <= 0 || grid.height() <= 0) {
    throw UsageError("io: cannot write '" + path + "': " + std::to_string(bands) + " bands of " +
                     std::to_string(grid.width()) + "x" + std::to_string(grid.height()) +
                     " pixels is empty. Give at least one band and a non-empty grid.");
  }
  if (!bandNames.empty() && static_cast<int>(bandNames.size()) != bands) {
    throw UsageError("io: cannot write '" + path + "': " + std::to_string(bandNames.size()) +
                     " band names for " + std::to_string(bands) +
                     " bands. Give one name per band.");
  }
  impl_->path = path;
  impl_->tmpPath = tempSibling(path);
  impl_->grid = grid;
  impl_->bands = bands;

  GDALDriver* drv = GetGDALDriverManager()->GetDriverByName("GTiff");
  if (!drv) throw IoError("io: the GDAL GTiff driver is missing. Reinstall GDAL.");
  // Horizontal differencing suits integers; the floating-point predictor suits Float32.
  const char* predictor = type == Type::Float32 ? "PREDICTOR=3" : "PREDICTOR=2";
  // MINISBLACK: these are measurements (probabilities, labels, reflectance), not an RGB picture.
  const char* compress = "COMPRESS=DEFLATE";
  const char* level = nullptr;
  if (compression == Compression::Fast) {
    const char* list = drv->GetMetadataItem(GDAL_DMD_CREATIONOPTIONLIST);
    const bool zstd = list && std::strstr(list, "ZSTD");
    compress = zstd ? "COMPRESS=ZSTD" : "COMPRESS=DEFLATE";
    level = zstd ? "ZSTD_LEVEL=1" : "ZLEVEL=1";
  }
  const char* opts[] = {
      "TILED=YES",        "BLOCKXSIZE=256",  "BLOCKYSIZE=256",         compress, predictor,
      "BIGTIFF=IF_SAFER", "INTERLEAVE=BAND", "PHOTOMETRIC=MINISBLACK", level,    nullptr};
  GdalErrorScope errors;
  impl_->ds = drv->Create(impl_->tmpPath.c_str(), grid.width(), grid.height(), bands,
                          gdalType(type), const_cast<char**>(opts));
  if (!impl_->ds) {
    throw IoError("io: cannot create '" + impl_->tmpPath +
                  "': " + gdalCause(errors, "GDAL could not create the file") +
                  ". Check that the folder exists and is writable.");
  }
  std::array<double, 6> gt = grid.geoTransform();
  impl_->ds->SetGeoTransform(gt.data());
  if (!grid.crs().empty()) impl_->ds->SetProjection(grid.crs().wkt().c_str());
  for (int b = 0; b < bands; ++b) {
    GDALRasterBand* band = impl_->ds->GetRasterBand(b + 1);
    if (!bandNames.empty()) band->SetDescription(bandNames[b].c_str());
    if (nodata) band->SetNoDataValue(*nodata);
  }
  if (errors.hasFailure()) {
    std::string cause = gdalCause(errors, "");
    GDALClose(impl_->ds);
    impl_->ds = nullptr;
    VSIUnlink(impl_->tmpPath.c_str());
    throw IoError("io: cannot set up '" + impl_->tmpPath + "': " + cause +
                  ". Check the grid's CRS and geotransform.");
  }
}

GeoTiffWriter::~GeoTiffWriter() {
  if (impl_ && impl_->ds && !impl_->closed) {
    GdalErrorScope errors;  // abandoning: nothing to report
    GDALClose(impl_->ds);
    impl_->ds = nullptr;
    VSIUnlink(impl_->tmpPath.c_str());
  }
}

void GeoTiffWriter::write(int x, int y, const Raster<float>& r) {
  if (r.bands != impl_->bands) {
    throw UsageError("io: writing " + std::to_string(r.bands) + " bands into '" + impl_->path +
                     "' which has " + std::to_string(impl_->bands) + ". Pass a raster with " +
                     std::to_string(impl_->bands) + " bands.");
  }
  if (r.data.size() != static_cast<size_t>(r.bands) * r.plane()) {
    throw UsageError("io: raster written to '" + impl_->path +
                     "' has a data size that does not match bands x rows x cols.");
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed || !impl_->ds) {
    throw UsageError("io: write to '" + impl_->path + "' after close(). Write before closing.");
  }
  // Parts outside the file are dropped, so callers can write halo-padded tiles unclipped.
  PixelWindow w{x, y, r.cols, r.rows};
  PixelWindow in = w.intersect(impl_->grid.fullWindow());
  if (in.empty()) return;
  GdalErrorScope errors;
  for (int b = 0; b < r.bands; ++b) {
    const float* src = r.band(b) + static_cast<size_t>(in.y - y) * r.cols + (in.x - x);
    // GDAL rounds and clamps float -> integer types on the way in.
    CPLErr err = impl_->ds->GetRasterBand(b + 1)->RasterIO(
        GF_Write, in.x, in.y, in.width, in.height, const_cast<float*>(src), in.width, in.height,
        GDT_Float32, sizeof(float), static_cast<GSpacing>(sizeof(float)) * r.cols, nullptr);
    if (err != CE_None) {
      throw IoError("io: cannot write band " + std::to_string(b + 1) + " of '" + impl_->tmpPath +
                    "': " + gdalCause(errors, "write failed") + ". Check free disk space.");
    }
  }
}

void GeoTiffWriter::setScaleOffset(double scale, double offset) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (int b = 0; impl_->ds && b < impl_->bands; ++b) {
    impl_->ds->GetRasterBand(b + 1)->SetScale(scale);
    impl_->ds->GetRasterBand(b + 1)->SetOffset(offset);
  }
}

void GeoTiffWriter::writeCogOnClose() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->cog = true;
}

void GeoTiffWriter::setMetadata(const std::string& key, const std::string& value) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->ds) impl_->ds->SetMetadataItem(key.c_str(), value.c_str());
}

void GeoTiffWriter::close() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  if (impl_->closed) return;
  GdalErrorScope errors;
  impl_->ds->FlushCache(false);
  bool failed = errors.hasFailure();
  std::string finished = impl_->tmpPath;  // the file renamed into place
  if (impl_->cog && !failed) {
    // The COG driver copies the finished tiles, nodata, scale/offset and band names, and adds
    // the overviews before the full-resolution data, as the layout wants.
    GDALDriver* cog = GetGDALDriverManager()->GetDriverByName("COG");
    if (!cog) {
      failed = true;
    } else {
      finished = tempSibling(impl_->path);
      const char* opts[] = {"COMPRESS=DEFLATE",   "PREDICTOR=YES",    "BLOCKSIZE=256",
                            "RESAMPLING=AVERAGE", "BIGTIFF=IF_SAFER", nullptr};
      GDALDataset* out = cog->CreateCopy(finished.c_str(), impl_->ds, FALSE,
                                         const_cast<char**>(opts), nullptr, nullptr);
      if (out) GDALClose(out);
      failed = !out || errors.hasFailure();
    }
  }
  GDALClose(impl_->ds);  // void in GDAL 3.6: write errors surface through the scope
  failed = failed || errors.hasFailure();
  impl_->ds = nullptr;
  impl_->closed = true;
  if (finished != impl_->tmpPath) VSIUnlink(impl_->tmpPath.c_str());
  if (failed) {
    std::string cause = gdalCause(errors, impl_->cog ? "the COG copy failed" : "flush failed");
    VSIUnlink(finished.c_str());
    throw IoError("io: cannot finish '" + impl_->tmpPath + "': " + cause +
                  ". Check free disk space.");
  }
  publishFile(finished, impl_->path, "io");
}

}  // namespace fieldseg
