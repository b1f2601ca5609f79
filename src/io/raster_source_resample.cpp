// Reads of a GdalRasterSource on a resampled grid (--gsd): gdal_raster_source.hpp.
#include <algorithm>
#include <cmath>
#include <limits>

#include "fieldseg/error.hpp"
#include "gdal_error.hpp"
#include "gdal_raster_source.hpp"

namespace fieldseg::io {

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

}  // namespace fieldseg::io
