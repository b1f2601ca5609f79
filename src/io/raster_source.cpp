// The GDAL implementation of RasterSource: one file or a stack of files on one grid, boundless
// windowed reads with a validity mask, optional resampling on read, and one dataset handle per
// concurrent reader (a small pool) so parallel reads never share a GDALDataset.
#include "fieldseg/raster_source.hpp"

#include <gdal_priv.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "ogr_srs.hpp"
#include "raster_source_detail.hpp"
#include "stac_item.hpp"

namespace fieldseg {
namespace {

using io::gdalCause;
using io::GdalErrorScope;

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

bool isVsiPath(const std::string& p) { return p.rfind("/vsi", 0) == 0; }

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

// TIFFTAG_DATETIME is "YYYY:MM:DD HH:MM:SS"; ISO 8601 wants dashes and a 'T'.
std::string isoDatetime(std::string v) {
  if (v.size() >= 19 && v[4] == ':' && v[7] == ':' && v[10] == ' ') {
    v[4] = '-';
    v[7] = '-';
    v[10] = 'T';
  }
  return v;
}

std::string datetimeOf(GDALDataset* ds) {
  for (const char* domain : {"", "IMAGERY"}) {
    for (const char* key : {"ACQUISITIONDATETIME", "TIFFTAG_DATETIME", "DATETIME"}) {
      const char* v = ds->GetMetadataItem(key, domain);
      if (v && *v) return isoDatetime(v);
    }
  }
  return {};
}

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
  std::vector<StackBand> stack_;
  std::vector<int> selected_;  // indices into stack_
  std::vector<BandInfo> selectedInfo_;
  std::string datetime_;
  mutable std::mutex poolMutex_;
  mutable std::vector<std::unique_ptr<Handles>> pool_;
};

GdalRasterSource::GdalRasterSource(const std::vector<std::string>& paths,
                                   const OpenOptions& options, const io::StacImage* stac)
    : paths_(paths) {
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

// Resampling works on native pixels read into memory (exact validity, scale/offset applied,
// invalid = NaN) and wrapped in a MEM dataset: GDAL's RasterIO then averages / interpolates over
// valid pixels only, and never substitutes an overview of the file (the NAIP PNGs' and the North
// Dakota COG's are nearest-neighbour overviews, which would not be an average). Target rows go in
// chunks so a large window at a coarse GSD never holds more than ~kMaxNativePx native pixels.
void GdalRasterSource::readResampled(Handles& h, Raster<float>& out, const PixelWindow& w,
                                     const PixelWindow& in) const {
  const int kMargin = 2;  // source context for the bilinear kernel
  const double kMaxNativePx = 16.0 * 1024 * 1024;
  const GDALRIOResampleAlg alg = factor_ > 1.0 ? GRIORA_Average : GRIORA_Bilinear;
  const int W = nativeGrid_.width(), H = nativeGrid_.height();
  const int nb = static_cast<int>(selected_.size());
  auto xs = io::spansFor(in.x, in.width, factor_, W);
  const int nx0 = std::max(0, static_cast<int>(std::floor(xs.front().src.off)) - kMargin);
  const int nx1 =
      std::min(W, static_cast<int>(std::ceil(xs.back().src.off + xs.back().src.size)) + kMargin);
  const int chunkRows = std::max(
      1,
      static_cast<int>(kMaxNativePx / (static_cast<double>(nx1 - nx0) * std::max(1.0, factor_))));
  GDALDriver* memDriver = GetGDALDriverManager()->GetDriverByName("MEM");
  std::vector<std::uint8_t> mask;
  for (int cy = in.y; cy < in.y + in.height; cy += chunkRows) {
    auto ys = io::spansFor(cy, std::min(chunkRows, in.y + in.height - cy), factor_, H);
    const int ny0 = std::max(0, static_cast<int>(std::floor(ys.front().src.off)) - kMargin);
    const int ny1 =
        std::min(H, static_cast<int>(std::ceil(ys.back().src.off + ys.back().src.size)) + kMargin);
    Raster<float> nat(nb, ny1 - ny0, nx1 - nx0, 0.0f);
    readBlock(h, nat, 0, 0, nat.cols, nat.rows,
              {static_cast<double>(nx0), static_cast<double>(nat.cols)},
              {static_cast<double>(ny0), static_cast<double>(nat.rows)}, GRIORA_NearestNeighbour);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // An all-valid block needs no nodata: GDAL then takes its faster unmasked path.
    const bool anyInvalid = std::find(nat.valid.begin(), nat.valid.end(), 0) != nat.valid.end();
    for (int b = 0; b < nb && anyInvalid; ++b) {
      float* p = nat.band(b);
      for (size_t i = 0; i < nat.plane(); ++i) {
        if (!nat.valid[i]) p[i] = nan;
      }
    }
    GdalErrorScope errors;
    std::unique_ptr<GDALDataset> mem(
        memDriver->Create("", nat.cols, nat.rows, 0, GDT_Float32, nullptr));
    for (int b = 0; b < nb && mem; ++b) {
      char ptr[64] = {};
      CPLPrintPointer(ptr, nat.band(b), sizeof(ptr) - 1);
      std::string opt = std::string("DATAPOINTER=") + ptr;
      char* opts[] = {const_cast<char*>(opt.c_str()), nullptr};
      if (mem->AddBand(GDT_Float32, opts) != CE_None) mem.reset();
      if (mem && anyInvalid) mem->GetRasterBand(b + 1)->SetNoDataValue(nan);
    }
    if (!mem) {
      throw IoError("io: cannot set up resampling of '" + paths_.front() +
                    "': " + gdalCause(errors, "MEM driver failed") + ". Check free memory.");
    }
    for (const auto& sy : ys) {
      for (const auto& sx : xs) {
        GDALRasterIOExtraArg extra;
        INIT_RASTERIO_EXTRA_ARG(extra);
        extra.eResampleAlg = alg;
        extra.bFloatingPointWindowValidity = TRUE;
        extra.dfXOff = sx.src.off - nx0;
        extra.dfYOff = sy.src.off - ny0;
        extra.dfXSize = sx.src.size;
        extra.dfYSize = sy.src.size;
        io::IntWindow ix = io::integerSpan({extra.dfXOff, extra.dfXSize}, nat.cols);
        io::IntWindow iy = io::integerSpan({extra.dfYOff, extra.dfYSize}, nat.rows);
        const int dx = sx.dst - w.x, dy = sy.dst - w.y;
        const GSpacing line = static_cast<GSpacing>(sizeof(float)) * out.cols;
        for (int b = 0; b < nb; ++b) {
          float* dst = out.band(b) + static_cast<size_t>(dy) * out.cols + dx;
          CPLErr err = mem->GetRasterBand(b + 1)->RasterIO(
              GF_Read, ix.off, iy.off, ix.size, iy.size, dst, sx.count, sy.count, GDT_Float32,
              sizeof(float), line, &extra);
          if (err != CE_None) {
            throw IoError("io: cannot resample '" + paths_.front() +
                          "': " + gdalCause(errors, "RasterIO failed") + ".");
          }
        }
        // Valid = some valid native pixel contributed (GDAL's resampled mask is > 0) and every
        // band got a number.
        mask.assign(static_cast<size_t>(sx.count) * sy.count, 255);
        CPLErr err = anyInvalid ? mem->GetRasterBand(1)->GetMaskBand()->RasterIO(
                                      GF_Read, ix.off, iy.off, ix.size, iy.size, mask.data(),
                                      sx.count, sy.count, GDT_Byte, 1, sx.count, &extra)
                                : CE_None;
        if (err != CE_None) {
          throw IoError("io: cannot resample the mask of '" + paths_.front() +
                        "': " + gdalCause(errors, "RasterIO failed") + ".");
        }
        for (int r = 0; r < sy.count; ++r) {
          const size_t row = static_cast<size_t>(dy + r) * out.cols + dx;
          for (int c = 0; c < sx.count; ++c) {
            bool ok = mask[static_cast<size_t>(r) * sx.count + c] != 0;
            for (int b = 0; b < nb && ok; ++b) ok = !std::isnan(out.band(b)[row + c]);
            out.valid[row + c] = ok ? 1 : 0;
            if (!ok) {
              for (int b = 0; b < nb; ++b) out.band(b)[row + c] = 0.0f;
              // Flagged NaN/Inf when the native pixel under its centre was one.
              if (!nat.nonFinite.empty()) {
                const int nxp = std::clamp(
                    static_cast<int>(extra.dfXOff + (c + 0.5) * extra.dfXSize / sx.count), 0,
                    nat.cols - 1);
                const int nyp = std::clamp(
                    static_cast<int>(extra.dfYOff + (r + 0.5) * extra.dfYSize / sy.count), 0,
                    nat.rows - 1);
                if (nat.nonFinite[static_cast<size_t>(nyp) * nat.cols + nxp]) {
                  if (out.nonFinite.empty()) out.nonFinite.assign(out.plane(), 0);
                  out.nonFinite[row + c] = 1;
                }
              }
            }
          }
        }
      }
    }
  }
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
  // lets GDAL pick an overview when the file has one.
  auto lease = acquire();
  readBlock(**lease, out, 0, 0, ow, oh, {0.0, static_cast<double>(W)},
            {0.0, static_cast<double>(H)}, GRIORA_NearestNeighbour);
  return out;
}

}  // namespace

std::unique_ptr<RasterSource> openRaster(const std::vector<std::string>& paths,
                                         const OpenOptions& options) {
  io::initGdal();
  if (paths.size() == 1) {
    if (const auto stac = io::readStacItem(paths[0]))
      return std::make_unique<GdalRasterSource>(stac->paths, options, &*stac);
  }
  return std::make_unique<GdalRasterSource>(paths, options);
}

}  // namespace fieldseg
