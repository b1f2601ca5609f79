#include "predict_pass.hpp"

#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "fieldseg/error.hpp"
#include "fieldseg/normalisation.hpp"

namespace fieldseg {
namespace {

void normalise(Raster<float>& r, const std::vector<BandStats>& stats) {
  for (int b = 0; b < r.bands; ++b)
    normalisePlane(r.band(b), r.valid.empty() ? nullptr : r.valid.data(), r.plane(), stats[b].p2,
                   stats[b].p98);
}

// One network tile: a cell of the raster-wide tile grid (networkTileGrid), read with its halo,
// and the part of it that lies in the predicted area.
struct NetTile {
  PixelWindow input;  // raster pixels fed to the network: the cell grown by the halo
  PixelWindow out;    // raster pixels written: the cell clipped to the area
};

struct PredictBatch {
  std::vector<int> tiles;
  std::vector<std::vector<Raster<float>>> inputs;  // [tile][date]
  std::vector<bool> skip;                          // no valid pixel in any date
  long long nonFinite = 0;                         // core pixel-dates with a NaN/Inf band value
  std::vector<Raster<float>> cores;                // [tile] 3 bands, 0..254, 255 = nodata
};

// What every stage of the pipeline shares.
struct Pass {
  const std::vector<std::unique_ptr<RasterSource>>& dates;
  const std::vector<std::vector<BandStats>>& stats;
  Predictor& predictor;
  const std::vector<NetTile>& tiles;
};

// The cells of `g` that meet `area`, row-major.
std::vector<NetTile> tilesOver(const NetworkTileGrid& g, const PixelWindow& area, int rasterW,
                               int rasterH) {
  std::vector<NetTile> out;
  if (area.empty()) return out;
  const int gx0 = area.x / g.tileX, gx1 = (area.x + area.width - 1) / g.tileX;
  const int gy0 = area.y / g.tileY, gy1 = (area.y + area.height - 1) / g.tileY;
  for (int gy = gy0; gy <= gy1; ++gy)
    for (int gx = gx0; gx <= gx1; ++gx) {
      const PixelWindow cell{gx * g.tileX, gy * g.tileY, std::min(g.tileX, rasterW - gx * g.tileX),
                             std::min(g.tileY, rasterH - gy * g.tileY)};
      const PixelWindow outPart = cell.intersect(area);
      if (outPart.empty()) continue;
      // The input has the same size for every cell (cells at the raster edge read boundless), so
      // tiles batch together and a pixel's value never depends on where the area ends.
      out.push_back({PixelWindow{cell.x - g.haloPx, cell.y - g.haloPx, g.tileX + 2 * g.haloPx,
                                 g.tileY + 2 * g.haloPx},
                     outPart});
    }
  return out;
}

// Pixels of `w` (in r's pixels) that the reader masked because a band value is NaN or Inf.
long long countNonFinite(const Raster<float>& r, const PixelWindow& w) {
  if (r.nonFinite.empty()) return 0;
  long long n = 0;
  for (int rr = w.y; rr < w.y + w.height; ++rr)
    for (int cc = w.x; cc < w.x + w.width; ++cc)
      n += r.nonFinite[static_cast<size_t>(rr) * r.cols + cc];
  return n;
}

// Reads and normalises every date of the batch's tiles; a tile with no valid core pixel in any
// date is skipped.
void readBatch(const Pass& p, PredictBatch& b) {
  const int nDates = static_cast<int>(p.dates.size());
  b.inputs.resize(b.tiles.size());
  b.skip.assign(b.tiles.size(), true);
  for (size_t t = 0; t < b.tiles.size(); ++t) {
    const NetTile& tile = p.tiles[b.tiles[t]];
    // The written part in the input's pixels.
    const PixelWindow part{tile.out.x - tile.input.x, tile.out.y - tile.input.y, tile.out.width,
                           tile.out.height};
    for (int d = 0; d < nDates; ++d) {
      Raster<float> r = p.dates[d]->read(tile.input);
      b.nonFinite += countNonFinite(r, part);
      for (int rr = part.y; rr < part.y + part.height && b.skip[t]; ++rr)
        for (int cc = part.x; cc < part.x + part.width; ++cc)
          if (r.isValid(rr, cc)) {
            b.skip[t] = false;
            break;
          }
      normalise(r, p.stats[d]);
      b.inputs[t].push_back(std::move(r));
    }
  }
}

// Adds the network's output `out` for input `src` to the core sums `c`, counting at each pixel the
// dates valid there.
void accumulateDate(const NetTile& tile, const Raster<float>& out, const Raster<float>& src,
                    Raster<float>& c, std::vector<int>& cnt) {
  if (out.bands < 3 || out.rows != tile.input.height || out.cols != tile.input.width)
    throw DataError("tiles: the predictor returned a " + std::to_string(out.bands) + "x" +
                    std::to_string(out.rows) + "x" + std::to_string(out.cols) + " tile for a 3x" +
                    std::to_string(tile.input.height) + "x" + std::to_string(tile.input.width) +
                    " request. The model does not follow the Predictor contract.");
  if (cnt.empty()) cnt.assign(c.plane(), 0);
  const int dy = tile.out.y - tile.input.y, dx = tile.out.x - tile.input.x;
  for (int r = 0; r < c.rows; ++r)
    for (int col = 0; col < c.cols; ++col) {
      const int sr = r + dy, sc = col + dx;
      if (!src.isValid(sr, sc)) continue;
      ++cnt[static_cast<size_t>(r) * c.cols + col];
      for (int band = 0; band < 3; ++band) c.at(band, r, col) += out.at(band, sr, sc);
    }
}

// Runs the network on the batch and averages the dates valid at each pixel (temporal consensus)
// into cores of 0..kProbabilityLevels (kProbabilityNodata where no date is valid).
void predictBatch(const Pass& p, PredictBatch& b) {
  const int nDates = static_cast<int>(p.dates.size());
  std::vector<Raster<float>> in;
  std::vector<size_t> tileOf;
  for (size_t t = 0; t < b.tiles.size(); ++t) {
    if (b.skip[t]) continue;
    for (int d = 0; d < nDates; ++d) {
      in.push_back(std::move(b.inputs[t][d]));
      tileOf.push_back(t);
    }
  }
  std::vector<Raster<float>> out;
  if (!in.empty()) out = p.predictor.predict(in);
  if (out.size() != in.size())
    throw DataError("tiles: the predictor returned " + std::to_string(out.size()) +
                    " outputs for " + std::to_string(in.size()) +
                    " tiles. The model file is broken; re-export it.");
  b.cores.resize(b.tiles.size());
  for (size_t t = 0; t < b.tiles.size(); ++t) {
    const PixelWindow part = p.tiles[b.tiles[t]].out;
    b.cores[t] = Raster<float>(3, part.height, part.width, 0.0f);
  }
  std::vector<std::vector<int>> counts(b.tiles.size());
  for (size_t k = 0; k < out.size(); ++k)
    accumulateDate(p.tiles[b.tiles[tileOf[k]]], out[k], in[k], b.cores[tileOf[k]],
                   counts[tileOf[k]]);
  for (size_t t = 0; t < b.tiles.size(); ++t) {
    Raster<float>& c = b.cores[t];
    const auto& cnt = counts[t];
    for (int band = 0; band < 3; ++band) {
      float* v = c.band(band);
      for (size_t i = 0; i < c.plane(); ++i) {
        const int n = cnt.empty() ? 0 : cnt[i];
        v[i] = n ? std::round(std::clamp(v[i] / n, 0.0f, 1.0f) * float{kProbabilityLevels})
                 : float{kProbabilityNodata};
      }
    }
    for (size_t i = 0; i < c.plane(); ++i) c.valid[i] = !cnt.empty() && cnt[i] > 0;
    b.inputs[t].clear();
  }
}

}  // namespace

int balancedTileLength(int length, int tilePx) {
  if (length <= 0 || tilePx <= 0) return std::max(1, tilePx);
  const int n = (length + tilePx - 1) / tilePx;  // cells along this axis
  const int even = (length + n - 1) / n;         // the shortest equal cells that cover it
  return (even + 15) / 16 * 16;
}

NetworkTileGrid networkTileGrid(int rasterW, int rasterH, int tilePx, int haloPx) {
  // Square cells (test-time rotations need them): the longer of the two balanced lengths.
  const int t = std::max(balancedTileLength(rasterW, tilePx), balancedTileLength(rasterH, tilePx));
  return {t, t, haloPx};
}

MosaicStats predictMosaic(const std::vector<std::unique_ptr<RasterSource>>& dates,
                          const std::vector<std::vector<BandStats>>& stats, Predictor& predictor,
                          const PixelWindow& area, const DelineateOptions& o,
                          GeoTiffWriter& writer) {
  const GridSpec& raster = dates.front()->grid();
  const NetworkTileGrid grid = networkTileGrid(raster.width(), raster.height(), o.tilePx, o.haloPx);
  const std::vector<NetTile> tiles = tilesOver(grid, area, raster.width(), raster.height());
  const Pass pass{dates, stats, predictor, tiles};
  MosaicStats ms;
  ms.tiles = static_cast<long long>(tiles.size());
  ms.tileX = grid.tileX;
  ms.tileY = grid.tileY;
  size_t nextTile = 0;
  long long done = 0, pixelsDone = 0;
  const bool parallelPredict = predictor.maxConcurrency() > 1;
  const int threads = o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();
  using Batch = std::shared_ptr<PredictBatch>;

  auto source = [&](tbb::flow_control& fc) -> Batch {
    if (nextTile >= tiles.size()) {
      fc.stop();
      return nullptr;
    }
    auto b = std::make_shared<PredictBatch>();
    for (int i = 0; i < o.batch && nextTile < tiles.size(); ++i)
      b->tiles.push_back(static_cast<int>(nextTile++));
    return b;
  };
  auto read = [&](Batch b) {
    readBatch(pass, *b);
    return b;
  };
  auto predict = [&](Batch b) {
    predictBatch(pass, *b);
    return b;
  };
  auto write = [&](Batch b) {
    ms.nonFinitePixels += b->nonFinite;
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      const PixelWindow part = tiles[b->tiles[t]].out;
      writer.write(part.x - area.x, part.y - area.y, b->cores[t]);
      if (b->skip[t])
        ++ms.nodataTiles;
      else
        ms.networkPixels += tiles[b->tiles[t]].input.area() * static_cast<long long>(dates.size());
      ++done;
      pixelsDone += part.area();
    }
    if (o.progress) o.progress("predict", done, ms.tiles, pixelsDone);
  };
  tbb::parallel_pipeline(
      static_cast<size_t>(2 * threads + 1),
      tbb::make_filter<void, Batch>(tbb::filter_mode::serial_in_order, source) &
          tbb::make_filter<Batch, Batch>(tbb::filter_mode::parallel, read) &
          tbb::make_filter<Batch, Batch>(
              parallelPredict ? tbb::filter_mode::parallel : tbb::filter_mode::serial_out_of_order,
              predict) &
          tbb::make_filter<Batch, void>(tbb::filter_mode::serial_out_of_order, write));
  return ms;
}

}  // namespace fieldseg
