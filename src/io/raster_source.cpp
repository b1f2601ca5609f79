// The GDAL implementation of RasterSource (gdal_raster_source.hpp): opening a file or a stack,
// band selection, native windowed reads, decimated reads, and openRaster().
#include "fieldseg/raster_source.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "gdal_raster_source.hpp"
#include "ogr_srs.hpp"
#include "run_threads.hpp"

namespace fieldseg {
namespace io {

GdalRasterSource::GdalRasterSource(const std::vector<std::string>& paths,
                                   const OpenOptions& options, const io::StacImage* stac)
    : paths_(paths), readThreads_(std::max(1, options.readThreads)) {
  if (paths.empty()) throw UsageError("io: no raster given. Pass at least one image path.");
  auto first = std::make_unique<Handles>();
  for (size_t f = 0; f < paths.size(); ++f) {
    try {
      first->ds.push_back(openDataset(paths[f]));
    } catch (const Error& e) {
      if (!stac) throw;
      throw IoError("io: cannot read asset '" + stac->hrefs[f] +
                    "' of the STAC item: no local copy " +
                    "beside the item and the href does not open (" + e.what() +
                    "). Download the asset next to the item (named by its asset key) or check "
                    "the network.");
    }
  }

  std::array<double, 6> gt0{};
  for (size_t f = 0; f < paths.size(); ++f) {
    GDALDataset* ds = first->ds[f];
    if (ds->GetRasterCount() == 0) {
      throw DataError("io: '" + paths[f] +
                      "' has no raster bands (a vector or container file?). Give a raster image.");
    }
    std::array<double, 6> gt = geoTransformOf(ds, paths[f]);
    if (f == 0) {
      gt0 = gt;
      nativeGrid_ = GridSpec(ds->GetRasterXSize(), ds->GetRasterYSize(), gt, crsOf(ds));
    } else {
      double tol = 1e-6 * std::max(std::abs(gt0[1]), std::abs(gt0[5]));
      bool same = ds->GetRasterXSize() == nativeGrid_.width() &&
                  ds->GetRasterYSize() == nativeGrid_.height();
      for (int i = 0; i < 6 && same; ++i) {
        double t = (i == 0 || i == 3) ? tol * 1e3 : tol;
        same = std::abs(gt[i] - gt0[i]) <= t;
      }
      if (!same || !crsOf(ds).sameAs(nativeGrid_.crs())) {
        throw DataError("io: cannot stack '" + paths[f] + "' on '" + paths[0] +
                        "': the grids differ (size, geotransform or CRS). Warp them to one grid "
                        "first (gdalwarp -tap -tr ...) or build a VRT with gdalbuildvrt.");
      }
    }
    if (datetime_.empty()) datetime_ = datetimeOf(ds);
    for (int b = 1; b <= ds->GetRasterCount(); ++b) {
      GDALRasterBand* band = ds->GetRasterBand(b);
      StackBand sb;
      sb.file = static_cast<int>(f);
      sb.band = b;
      sb.info.index = static_cast<int>(stack_.size()) + 1;
      sb.info.description = band->GetDescription();
      sb.info.colorInterp = colorInterpName(band->GetColorInterpretation());
      sb.info.dataType = GDALGetDataTypeName(band->GetRasterDataType());
      int has = 0;
      double nd = band->GetNoDataValue(&has);
      if (has) sb.info.nodata = nd;
      sb.info.file = paths[f];
      sb.scale = band->GetScale();
      sb.offset = band->GetOffset();
      sb.info.scale = sb.scale;
      sb.info.offset = sb.offset;
      sb.maskFlags = band->GetMaskFlags();
      sb.isAlpha = band->GetColorInterpretation() == GCI_AlphaBand;
      sb.stem = ds->GetRasterCount() == 1 ? fileStem(paths[f]) : std::string();
      stack_.push_back(sb);
    }
  }

  std::vector<io::BandNameInput> nameInputs;
  for (size_t i = 0; i < stack_.size(); ++i) {
    nameInputs.push_back({stack_[i].info.description, stack_[i].info.colorInterp, stack_[i].stem});
  }
  std::vector<std::string> names = io::canonicalBandNames(nameInputs);
  // A STAC item names its single-band assets (eo:bands common names).
  for (size_t i = 0; stac && i < stack_.size(); ++i)
    if (first->ds[stack_[i].file]->GetRasterCount() == 1)
      names[i] = stac->bandNames[stack_[i].file];
  for (size_t i = 0; i < stack_.size(); ++i) stack_[i].info.name = names[i];
  if (stac && !stac->datetime.empty()) datetime_ = stac->datetime;

  selectBands(options.bands);

  if (options.gsdM < 0 || !std::isfinite(options.gsdM)) {
    throw UsageError("io: target GSD " + std::to_string(options.gsdM) +
                     " m is invalid. Give a positive number of metres, or 0 for native.");
  }
  grid_ = nativeGrid_;
  if (options.gsdM > 0) {
    double native = nativeGrid_.gsdMeters();
    double f = options.gsdM / native;
    if (std::abs(f - 1.0) > 1e-6) {
      factor_ = f;
      grid_ = nativeGrid_.rescaled(f);
    }
  }

  std::lock_guard<std::mutex> lock(poolMutex_);
  pool_.push_back(std::move(first));
}

void GdalRasterSource::selectBands(const std::vector<std::string>& wanted) {
  std::vector<io::BandMatchInput> candidates;
  for (const auto& sb : stack_) candidates.push_back({sb.info, sb.stem});
  if (wanted.empty()) {
    for (size_t i = 0; i < stack_.size(); ++i) {
      if (!stack_[i].isAlpha) selected_.push_back(static_cast<int>(i));
    }
    if (selected_.empty()) selected_.push_back(0);
  } else {
    selected_ = io::matchBands(wanted, candidates, paths_.front());
  }
  for (int i : selected_) selectedInfo_.push_back(stack_[i].info);
}

std::unique_ptr<Handles> GdalRasterSource::openAll() const {
  auto h = std::make_unique<Handles>();
  for (const auto& p : paths_) h->ds.push_back(openDataset(p));
  return h;
}

std::unique_ptr<GdalRasterSource::Lease> GdalRasterSource::acquire() const {
  std::unique_ptr<Handles> h;
  {
    std::lock_guard<std::mutex> lock(poolMutex_);
    if (!pool_.empty()) {
      h = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!h) h = openAll();
  return std::make_unique<Lease>(*this, std::move(h));
}

// Reads source span (sx, sy) of every selected band into out at (dx, dy), nx x ny pixels, and
// ANDs each band's validity into out.valid for that block.
void GdalRasterSource::readBlock(Handles& h, Raster<float>& out, int dx, int dy, int nx, int ny,
                                 const io::SrcSpan& sx, const io::SrcSpan& sy,
                                 GDALRIOResampleAlg alg) const {
  const int cols = out.cols;
  for (int r = 0; r < ny; ++r) {
    std::fill_n(out.valid.begin() + static_cast<size_t>(dy + r) * cols + dx, nx, 1);
  }
  // Nearest-neighbour reads keep raw values, so the nodata comparison alone is exact.
  const bool resampled = alg != GRIORA_NearestNeighbour;
  io::IntWindow ix = io::integerSpan(sx, nativeGrid_.width());
  io::IntWindow iy = io::integerSpan(sy, nativeGrid_.height());
  std::vector<std::uint8_t> mask;
  for (size_t k = 0; k < selected_.size(); ++k) {
    const StackBand& sb = stack_[selected_[k]];
    GDALRasterBand* band = h.ds[sb.file]->GetRasterBand(sb.band);
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = alg;
    extra.bFloatingPointWindowValidity = TRUE;
    extra.dfXOff = sx.off;
    extra.dfYOff = sy.off;
    extra.dfXSize = sx.size;
    extra.dfYSize = sy.size;
    float* dst = out.band(static_cast<int>(k)) + static_cast<size_t>(dy) * cols + dx;
    GdalErrorScope errors;
    CPLErr err = band->RasterIO(GF_Read, ix.off, iy.off, ix.size, iy.size, dst, nx, ny, GDT_Float32,
                                sizeof(float), static_cast<GSpacing>(sizeof(float)) * cols, &extra);
    if (err != CE_None) {
      throw IoError("io: cannot read band " + std::to_string(sb.band) + " of '" + paths_[sb.file] +
                    "' (window " + std::to_string(ix.off) + "," + std::to_string(iy.off) + " " +
                    std::to_string(ix.size) + "x" + std::to_string(iy.size) +
                    "): " + gdalCause(errors, "read failed") +
                    ". Check that the file is complete and readable.");
    }
    // Nodata compares raw values (before scale/offset), as GDAL defines it.
    if (sb.info.nodata) {
      const float nd = static_cast<float>(*sb.info.nodata);
      const bool ndNan = std::isnan(nd);
      for (int r = 0; r < ny; ++r) {
        const float* row = dst + static_cast<size_t>(r) * cols;
        std::uint8_t* v = out.valid.data() + static_cast<size_t>(dy + r) * cols + dx;
        for (int c = 0; c < nx; ++c) {
          if (ndNan ? std::isnan(row[c]) : row[c] == nd) v[c] = 0;
        }
      }
    }
    // NaN / Inf are never data (a float raster without a nodata value, a corrupt block): they are
    // invalid pixels like nodata, so they cannot poison statistics, the network or calibration.
    for (int r = 0; r < ny; ++r) {
      const float* row = dst + static_cast<size_t>(r) * cols;
      std::uint8_t* v = out.valid.data() + static_cast<size_t>(dy + r) * cols + dx;
      for (int c = 0; c < nx; ++c) {
        if (!std::isfinite(row[c])) {
          v[c] = 0;
          if (out.nonFinite.empty()) out.nonFinite.assign(out.plane(), 0);
          out.nonFinite[static_cast<size_t>(dy + r) * cols + dx + c] = 1;
        }
      }
    }
    // Mask bands and alpha (and nodata when resampling, where values are blended) come from
    // GDAL's mask band read over the same span with the same resampling.
    const bool needMask =
        sb.maskFlags != GMF_ALL_VALID && !(sb.maskFlags == GMF_NODATA && !resampled);
    if (needMask) {
      mask.assign(static_cast<size_t>(nx) * ny, 0);
      GDALRasterBand* mb = band->GetMaskBand();
      err = mb->RasterIO(GF_Read, ix.off, iy.off, ix.size, iy.size, mask.data(), nx, ny, GDT_Byte,
                         1, nx, &extra);
      if (err != CE_None) {
        throw IoError("io: cannot read the mask of band " + std::to_string(sb.band) + " of '" +
                      paths_[sb.file] + "': " + gdalCause(errors, "read failed") +
                      ". Check that the file is complete and readable.");
      }
      for (int r = 0; r < ny; ++r) {
        std::uint8_t* v = out.valid.data() + static_cast<size_t>(dy + r) * cols + dx;
        const std::uint8_t* m = mask.data() + static_cast<size_t>(r) * nx;
        for (int c = 0; c < nx; ++c) {
          if (m[c] == 0) v[c] = 0;
        }
      }
    }
  }
  // Invalid pixels are 0 in every band; valid ones get scale/offset.
  for (size_t k = 0; k < selected_.size(); ++k) {
    const StackBand& sb = stack_[selected_[k]];
    for (int r = 0; r < ny; ++r) {
      float* row = out.band(static_cast<int>(k)) + static_cast<size_t>(dy + r) * cols + dx;
      const std::uint8_t* v = out.valid.data() + static_cast<size_t>(dy + r) * cols + dx;
      for (int c = 0; c < nx; ++c) {
        row[c] = v[c] ? static_cast<float>(row[c] * sb.scale + sb.offset) : 0.0f;
      }
    }
  }
}

Raster<float> GdalRasterSource::read(const PixelWindow& w) const {
  if (w.empty()) {
    throw UsageError("io: empty read window " + std::to_string(w.width) + "x" +
                     std::to_string(w.height) + " at (" + std::to_string(w.x) + "," +
                     std::to_string(w.y) + ") of '" + paths_.front() +
                     "'. Give a window with positive width and height.");
  }
  Raster<float> out(static_cast<int>(selected_.size()), w.height, w.width, 0.0f);
  std::fill(out.valid.begin(), out.valid.end(), 0);
  out.grid = grid_.subGrid(w);
  for (const auto& b : selectedInfo_) out.bandNames.push_back(b.name);
  PixelWindow in = w.intersect(grid_.fullWindow());
  if (in.empty()) return out;

  auto lease = acquire();
  if (factor_ == 1.0) {
    readBlock(**lease, out, in.x - w.x, in.y - w.y, in.width, in.height,
              {static_cast<double>(in.x), static_cast<double>(in.width)},
              {static_cast<double>(in.y), static_cast<double>(in.height)}, GRIORA_NearestNeighbour);
  } else {
    readResampled(**lease, out, w, in);
  }
  return out;
}

bool GdalRasterSource::readBytes(const PixelWindow& w,
                                 std::vector<std::vector<std::uint8_t>>& bands,
                                 std::vector<std::uint8_t>& valid) const {
  if (w.empty() || factor_ != 1.0) return false;
  for (int k : selected_) {
    const StackBand& sb = stack_[k];
    // read() consults GDAL's mask band unless the band has no mask or only its nodata value.
    if (sb.info.dataType != "Byte" || (sb.maskFlags != GMF_ALL_VALID && sb.maskFlags != GMF_NODATA))
      return false;
  }
  const size_t n = static_cast<size_t>(w.width) * w.height;
  bands.resize(selected_.size());
  for (auto& b : bands) b.assign(n, 0);
  valid.assign(n, 0);
  const PixelWindow in = w.intersect(grid_.fullWindow());
  if (in.empty()) return true;
  const size_t at = static_cast<size_t>(in.y - w.y) * w.width + (in.x - w.x);
  for (int r = 0; r < in.height; ++r)
    std::fill_n(valid.begin() + at + static_cast<size_t>(r) * w.width, in.width, 1);
  auto lease = acquire();
  for (size_t k = 0; k < selected_.size(); ++k) {
    const StackBand& sb = stack_[selected_[k]];
    GDALRasterBand* band = (**lease).ds[sb.file]->GetRasterBand(sb.band);
    std::uint8_t* dst = bands[k].data() + at;
    GdalErrorScope errors;
    if (band->RasterIO(GF_Read, in.x, in.y, in.width, in.height, dst, in.width, in.height, GDT_Byte,
                       1, w.width, nullptr) != CE_None) {
      throw IoError("io: cannot read band " + std::to_string(sb.band) + " of '" + paths_[sb.file] +
                    "': " + gdalCause(errors, "read failed") +
                    ". Check that the file is complete and readable.");
    }
    // Nodata compares raw values as read() does: as floats (a nodata of 254.9999999999 is 255.0f
    // there, NaN matches nothing).
    // At most one byte value equals it, so the test is one comparison a pixel.
    const float nd = sb.info.nodata ? static_cast<float>(*sb.info.nodata) : 0.0f;
    int nodataByte = -1;
    for (int v = 0; v < 256 && sb.info.nodata; ++v)
      if (static_cast<float>(v) == nd) nodataByte = v;
    if (nodataByte >= 0) {
      const auto ndb = static_cast<std::uint8_t>(nodataByte);
      for (int r = 0; r < in.height; ++r) {
        const size_t o = at + static_cast<size_t>(r) * w.width;
        const std::uint8_t* row = dst + static_cast<size_t>(r) * w.width;
        std::uint8_t* v = valid.data() + o;
        for (int c = 0; c < in.width; ++c) v[c] &= static_cast<std::uint8_t>(row[c] != ndb);
      }
    }
  }
  // Invalid pixels are 0 in every band, as read() leaves them (valid is 0 or 1: a mask of 0x00
  // or 0xff, without branches).
  for (auto& b : bands)
    for (size_t i = 0; i < n; ++i) b[i] &= static_cast<std::uint8_t>(-valid[i]);
  return true;
}

Raster<float> GdalRasterSource::readDecimated(int maxSidePx) const {
  if (maxSidePx <= 0) {
    throw UsageError("io: decimated size " + std::to_string(maxSidePx) + " must be > 0.");
  }
  const int W = nativeGrid_.width(), H = nativeGrid_.height();
  const double s = std::max(1.0, static_cast<double>(std::max(W, H)) / maxSidePx);
  if (s == 1.0 && factor_ == 1.0) return read(grid_.fullWindow());
  const int ow = std::max(1, static_cast<int>(std::lround(W / s)));
  const int oh = std::max(1, static_cast<int>(std::lround(H / s)));
  const auto& g = nativeGrid_.geoTransform();
  const double fx = static_cast<double>(W) / ow, fy = static_cast<double>(H) / oh;
  Raster<float> out(static_cast<int>(selected_.size()), oh, ow, 0.0f);
  out.grid =
      GridSpec(ow, oh, {g[0], g[1] * fx, g[2] * fy, g[3], g[4] * fx, g[5] * fy}, nativeGrid_.crs());
  for (const auto& b : selectedInfo_) out.bandNames.push_back(b.name);
  // Nearest neighbour keeps real pixel values (averaging would shrink the percentile spread) and
  // lets GDAL pick an overview when the file has one. Four row bands, always the same ones (each
  // output row samples source row (r + 0.5) fy either way), read by up to readThreads_ threads,
  // each with its own handle: decoding a compressed scene is most of the time.
  constexpr int kParts = 4;
  const int parts = std::min(kParts, oh);
  auto readPart = [&](int k) {
    const int r0 = oh * k / parts, r1 = oh * (k + 1) / parts;
    auto lease = acquire();
    readBlock(**lease, out, 0, r0, ow, r1 - r0, {0.0, static_cast<double>(W)},
              {r0 * fy, (r1 - r0) * fy}, GRIORA_NearestNeighbour);
  };
  const int threads = std::min(readThreads_, parts);
  io::runOnThreads(threads, [&](int t) {
    for (int k = t; k < parts; k += threads) readPart(k);
  });
  return out;
}

}  // namespace io

std::unique_ptr<RasterSource> openRaster(const std::vector<std::string>& paths,
                                         const OpenOptions& options) {
  io::initGdal();
  if (paths.size() == 1) {
    if (const auto stac = io::readStacItem(paths[0]))
      return std::make_unique<io::GdalRasterSource>(stac->paths, options, &*stac);
  }
  return std::make_unique<io::GdalRasterSource>(paths, options);
}

}  // namespace fieldseg
