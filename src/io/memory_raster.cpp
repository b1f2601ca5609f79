// In-memory RasterSource: same read semantics as the GDAL one (boundless, invalid = 0) over an
// owned Raster<float>. Reads only copy out of an immutable buffer, so they are thread-safe.
#include <algorithm>
#include <cmath>

#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {
namespace {

class MemoryRasterSource : public RasterSource {
 public:
  MemoryRasterSource(Raster<float> r, std::vector<BandInfo> bands) : r_(std::move(r)) {
    if (r_.bands <= 0 || r_.rows <= 0 || r_.cols <= 0 ||
        r_.data.size() != static_cast<size_t>(r_.bands) * r_.plane()) {
      throw UsageError(
          "io: memory raster " + std::to_string(r_.bands) + "x" + std::to_string(r_.rows) + "x" +
          std::to_string(r_.cols) +
          " is empty or its data size does not match. Fill bands, rows, cols and data.");
    }
    if (r_.valid.size() != r_.plane()) r_.valid.assign(r_.plane(), 1);
    if (r_.grid.width() != r_.cols || r_.grid.height() != r_.rows) {
      // No usable grid: keep the geotransform if there is one, else pixel space.
      const bool hasGrid = r_.grid.width() > 0;
      r_.grid =
          GridSpec(r_.cols, r_.rows,
                   hasGrid ? r_.grid.geoTransform() : std::array<double, 6>{0, 1, 0, 0, 0, -1},
                   r_.grid.crs());
    }
    if (bands.empty()) {
      for (int b = 0; b < r_.bands; ++b) {
        BandInfo info;
        info.index = b + 1;
        info.name = b < static_cast<int>(r_.bandNames.size()) && !r_.bandNames[b].empty()
                        ? r_.bandNames[b]
                        : "band" + std::to_string(b + 1);
        info.description = info.name;
        info.dataType = "Float32";
        info.file = "<memory>";
        bands.push_back(info);
      }
    }
    if (static_cast<int>(bands.size()) != r_.bands) {
      throw UsageError("io: memory raster has " + std::to_string(r_.bands) + " bands but " +
                       std::to_string(bands.size()) + " band descriptions were given.");
    }
    bands_ = std::move(bands);
    r_.bandNames.clear();
    for (const auto& b : bands_) r_.bandNames.push_back(b.name);
  }

  const GridSpec& grid() const override { return r_.grid; }
  const std::vector<BandInfo>& bands() const override { return bands_; }

  Raster<float> read(const PixelWindow& w) const override {
    if (w.empty()) {
      throw UsageError("io: empty read window " + std::to_string(w.width) + "x" +
                       std::to_string(w.height) +
                       " of a memory raster. Give a window with positive width and height.");
    }
    Raster<float> out(r_.bands, w.height, w.width, 0.0f);
    std::fill(out.valid.begin(), out.valid.end(), 0);
    out.grid = r_.grid.subGrid(w);
    out.bandNames = r_.bandNames;
    PixelWindow in = w.intersect(r_.grid.fullWindow());
    if (in.empty()) return out;
    for (int r = in.y; r < in.y + in.height; ++r) {
      const size_t srcRow = static_cast<size_t>(r) * r_.cols;
      const size_t dstRow = static_cast<size_t>(r - w.y) * w.width + (in.x - w.x);
      for (int c = 0; c < in.width; ++c) {
        const bool ok = r_.valid[srcRow + in.x + c] != 0;
        out.valid[dstRow + c] = ok ? 1 : 0;
        for (int b = 0; b < r_.bands; ++b) {
          out.data[b * out.plane() + dstRow + c] =
              ok ? r_.data[b * r_.plane() + srcRow + in.x + c] : 0.0f;
        }
      }
    }
    return out;
  }

  Raster<float> readDecimated(int maxSidePx) const override {
    if (maxSidePx <= 0) {
      throw UsageError("io: decimated size " + std::to_string(maxSidePx) + " must be > 0.");
    }
    const double s = std::max(1.0, static_cast<double>(std::max(r_.cols, r_.rows)) / maxSidePx);
    if (s == 1.0) return read(r_.grid.fullWindow());
    const int ow = std::max(1, static_cast<int>(std::lround(r_.cols / s)));
    const int oh = std::max(1, static_cast<int>(std::lround(r_.rows / s)));
    const double fx = static_cast<double>(r_.cols) / ow, fy = static_cast<double>(r_.rows) / oh;
    const auto& g = r_.grid.geoTransform();
    Raster<float> out(r_.bands, oh, ow, 0.0f);
    out.grid =
        GridSpec(ow, oh, {g[0], g[1] * fx, g[2] * fy, g[3], g[4] * fx, g[5] * fy}, r_.grid.crs());
    out.bandNames = r_.bandNames;
    // Nearest neighbour at pixel centres, as GDAL's decimated read does.
    for (int r = 0; r < oh; ++r) {
      int sr = std::min(r_.rows - 1, static_cast<int>((r + 0.5) * fy));
      for (int c = 0; c < ow; ++c) {
        int sc = std::min(r_.cols - 1, static_cast<int>((c + 0.5) * fx));
        size_t si = static_cast<size_t>(sr) * r_.cols + sc;
        size_t di = static_cast<size_t>(r) * ow + c;
        const bool ok = r_.valid[si] != 0;
        out.valid[di] = ok ? 1 : 0;
        for (int b = 0; b < r_.bands; ++b) {
          out.data[b * out.plane() + di] = ok ? r_.data[b * r_.plane() + si] : 0.0f;
        }
      }
    }
    return out;
  }

 private:
  Raster<float> r_;
  std::vector<BandInfo> bands_;
};

}  // namespace

std::unique_ptr<RasterSource> memoryRaster(Raster<float> raster, std::vector<BandInfo> bands) {
  return std::make_unique<MemoryRasterSource>(std::move(raster), std::move(bands));
}

}  // namespace fieldseg
