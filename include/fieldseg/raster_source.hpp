// The satellite tile reader: RasterSource and how to open one.
//
// A RasterSource is a georeferenced stack of bands that can be read window by window. Reads are
// boundless: pixels outside the raster come back as 0 with valid = 0. Nodata values, mask bands and
// alpha bands all become the validity mask; scale/offset are applied; any data type becomes
// float32.
//
// Thread safety: read() and stats are safe to call concurrently from many threads (the GDAL
// implementation keeps one dataset handle per thread).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fieldseg/geo.hpp"
#include "fieldseg/raster.hpp"

namespace fieldseg {

struct BandInfo {
  int index = 0;            ///< 1-based index in the opened source (after stacking)
  std::string name;         ///< canonical lower-case name: red, green, blue, nir, ... or "band<N>"
  std::string description;  ///< band description as stored in the file
  std::string colorInterp;  ///< GDAL colour interpretation name, lower case ("red", "alpha", ...)
  std::string dataType;     ///< stored type: "Byte", "UInt16", "Float32", ...
  std::optional<double> nodata;
  double scale = 1,
         offset = 0;  ///< GDAL scale/offset, applied by read(): value = raw * scale + offset
  std::string file;   ///< file it comes from
};

struct BandStats {
  double p2 = 0;
  double p98 = 0;
  double mean = 0;
  double std = 0;
  long long validCount = 0;  ///< valid pixels in the decimated sample
};

class RasterSource {
 public:
  virtual ~RasterSource() = default;
  virtual const GridSpec& grid() const = 0;
  /// The selected bands, in read order.
  virtual const std::vector<BandInfo>& bands() const = 0;
  /// Reads the selected bands over `window` (may extend outside the raster). Throws IoError.
  virtual Raster<float> read(const PixelWindow& window) const = 0;
  /// Reads the whole raster decimated so its longer side is at most `maxSidePx` (overviews when
  /// present); used for statistics and quicklooks.
  virtual Raster<float> readDecimated(int maxSidePx) const = 0;
  /// Acquisition date/time (ISO 8601) when the metadata knows it, else empty.
  virtual std::string datetime() const { return {}; }
  /// The stored 8-bit values of every selected band over `window` (bands[k], row-major, before
  /// scale/offset; 0 where invalid) and the pixels read() would call valid. False (nothing read)
  /// where that needs read(): a band that is not Byte, a mask or alpha band, resampling. For
  /// callers that want bytes: read() converts to float and back.
  virtual bool readBytes(const PixelWindow& window, std::vector<std::vector<std::uint8_t>>& bands,
                         std::vector<std::uint8_t>& valid) const {
    (void)window, (void)bands, (void)valid;
    return false;
  }
};

struct OpenOptions {
  /// Bands to select: names ("red,green,blue,nir", case-insensitive, matched against descriptions
  /// and colour interpretation) or 1-based indices ("3,2,1"). Empty = all non-alpha bands.
  std::vector<std::string> bands;
  /// Resample on read to this GSD in metres (average when coarser, bilinear when finer). 0 =
  /// native.
  double gsdM = 0;
  /// Threads readDecimated() may use: it reads its output in four row bands, each through its own
  /// GDAL handle, concurrently when this is > 1 (the values do not depend on it).
  int readThreads = 1;
};

/// Opens one raster (anything GDAL opens, including /vsicurl/, /vsis3/, /vsizip/ paths), or stacks
/// several single- or multi-band files on the same grid into one source, in the order given.
/// Throws IoError (cannot open), DataError (no georeferencing, grids differ), UsageError (unknown
/// band, listing the available ones).
std::unique_ptr<RasterSource> openRaster(const std::vector<std::string>& paths,
                                         const OpenOptions& options = {});

/// An in-memory source (tests, synthetic predictors). Takes ownership of the raster.
std::unique_ptr<RasterSource> memoryRaster(Raster<float> raster, std::vector<BandInfo> bands = {});

/// Per-band robust statistics over valid pixels only, from a decimated read (overviews when
/// present).
std::vector<BandStats> computeStats(const RasterSource& source, int maxSidePx = 1024);
/// True when some band has a valid pixel in the decimated read computeStats() uses (all nodata,
/// masked or NaN/Inf otherwise).
bool hasValidPixels(const RasterSource& source);

/// Streaming GeoTIFF writer (tiled, DEFLATE, optional BIGTIFF); windows may be written in any
/// order. Writes to `<path>.tmp` and renames on close(), so a crash never leaves a half-written
/// file.
class GeoTiffWriter {
 public:
  enum class Type { Byte, UInt16, Int32, Float32 };
  /// Small: DEFLATE (outputs users keep). Fast: ZSTD level 1, about the same size for
  /// probabilities but 3.5x faster to write and 1.5x to read (DEFLATE level 1 where GDAL has no
  /// ZSTD): scratch files read back once, such as delineate's temporary mosaic.
  enum class Compression { Small, Fast };
  GeoTiffWriter(const std::string& path, const GridSpec& grid, int bands, Type type,
                std::vector<std::string> bandNames, std::optional<double> nodata = std::nullopt,
                Compression compression = Compression::Small);
  ~GeoTiffWriter();  ///< abandons (deletes the temp file) if close() was not called
  GeoTiffWriter(const GeoTiffWriter&) = delete;
  GeoTiffWriter& operator=(const GeoTiffWriter&) = delete;
  /// Writes `r` (r.bands == bands) at pixel offset (x, y); values are rounded/clamped to the type.
  void write(int x, int y, const Raster<float>& r);
  void setMetadata(const std::string& key, const std::string& value);
  /// GDAL scale/offset of every band (readers show value * scale + offset).
  void setScaleOffset(double scale, double offset);
  /// close() rewrites the file as a Cloud Optimized GeoTIFF (GDAL's COG driver: 256 px tiles,
  /// DEFLATE, averaged overviews honouring nodata, IFDs first) instead; one more pass over the
  /// data.
  void writeCogOnClose();
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fieldseg
