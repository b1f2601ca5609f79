// The GDAL implementation of RasterSource (internal to src/io): one file or a stack of files on one
// grid, boundless windowed reads with a validity mask, optional resampling on read, and one dataset
// handle per concurrent reader (a small pool) so parallel reads never share a GDALDataset. Reads
// are thread-safe; construction is not. Implemented in raster_source.cpp (opening, band
// selection, native reads), raster_source_resample.cpp (reads on a resampled grid) and
// gdal_dataset.cpp (opening one dataset and its georeferencing).
#pragma once

#include <gdal_priv.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fieldseg/raster_source.hpp"
#include "raster_source_detail.hpp"
#include "stac_item.hpp"

namespace fieldseg::io {

// One band of the stacked source: where it lives and how to turn its values into floats.
struct StackBand {
  int file = 0;  // index into the list of files
  int band = 0;  // 1-based band number inside that file
  BandInfo info;
  double scale = 1.0;
  double offset = 0.0;
  int maskFlags = GMF_ALL_VALID;
  bool isAlpha = false;
  std::string stem;  // file name without extension when the file has one band, else ""
};

// One open handle per file; a reader leases a whole set from the pool for the duration of a read.
struct Handles {
  std::vector<GDALDataset*> ds;
  Handles() = default;
  Handles(const Handles&) = delete;
  Handles& operator=(const Handles&) = delete;
  ~Handles() {
    for (GDALDataset* d : ds) GDALClose(d);
  }
};

inline bool isVsiPath(const std::string& p) { return p.rfind("/vsi", 0) == 0; }

/// Opens a raster read-only; throws IoError naming the path and GDAL's cause (DataError when it is
/// a vector dataset).
GDALDataset* openDataset(const std::string& path);
/// File name without folder and extension.
std::string fileStem(const std::string& path);
std::string colorInterpName(GDALColorInterp ci);
/// The geotransform; throws IoError for a truncated file, DataError without georeferencing.
std::array<double, 6> geoTransformOf(GDALDataset* ds, const std::string& path);
Crs crsOf(GDALDataset* ds);
/// The acquisition time in the metadata (ISO 8601), or "".
std::string datetimeOf(GDALDataset* ds);

class GdalRasterSource : public RasterSource {
 public:
  /// `stac`: the item the paths come from (band names, datetime, hrefs for messages), or null.
  GdalRasterSource(const std::vector<std::string>& paths, const OpenOptions& options,
                   const io::StacImage* stac = nullptr);

  const GridSpec& grid() const override { return grid_; }
  const std::vector<BandInfo>& bands() const override { return selectedInfo_; }
  Raster<float> read(const PixelWindow& window) const override;
  Raster<float> readDecimated(int maxSidePx) const override;
  std::string datetime() const override { return datetime_; }
  bool readBytes(const PixelWindow& window, std::vector<std::vector<std::uint8_t>>& bands,
                 std::vector<std::uint8_t>& valid) const override;

 private:
  // Returns a handle set to the pool when it goes out of scope.
  class Lease {
   public:
    Lease(const GdalRasterSource& src, std::unique_ptr<Handles> h) : src_(src), h_(std::move(h)) {}
    ~Lease() {
      std::lock_guard<std::mutex> lock(src_.poolMutex_);
      src_.pool_.push_back(std::move(h_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Handles& operator*() const { return *h_; }

   private:
    const GdalRasterSource& src_;
    std::unique_ptr<Handles> h_;
  };

  std::unique_ptr<Handles> openAll() const;
  std::unique_ptr<Lease> acquire() const;
  void readResampled(Handles& h, Raster<float>& out, const PixelWindow& w,
                     const PixelWindow& in) const;
  void readBlock(Handles& h, Raster<float>& out, int dx, int dy, int nx, int ny,
                 const io::SrcSpan& sx, const io::SrcSpan& sy, GDALRIOResampleAlg alg) const;
  void selectBands(const std::vector<std::string>& wanted);

  std::vector<std::string> paths_;
  GridSpec nativeGrid_;
  GridSpec grid_;
  double factor_ = 1.0;  // target pixel size / native pixel size
  int readThreads_ = 1;  // OpenOptions::readThreads
  std::vector<StackBand> stack_;
  std::vector<int> selected_;  // indices into stack_
  std::vector<BandInfo> selectedInfo_;
  std::string datetime_;
  mutable std::mutex poolMutex_;
  mutable std::vector<std::unique_ptr<Handles>> pool_;
};

}  // namespace fieldseg::io
