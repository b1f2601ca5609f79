// delineate(): the two streamed passes (see include/fieldseg/delineate.hpp and tiles/README.md):
// options, the run (input preparation in delineate_input.cpp, pass 1 in predict_pass.cpp, pass 2
// in fields_pass.cpp) and the attributes every output field gets.
#include "fieldseg/delineate.hpp"

#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "delineate_input.hpp"
#include "field_builder.hpp"
#include "fields_pass.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "instances.hpp"
#include "predict_pass.hpp"

namespace fieldseg {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Context the fields pass reads around each tile core: the instance rules' reach plus one pixel
// (so a core's labels never see the window edge), rounded up to a multiple of 8.
int fieldsHaloFor(const post::InstanceParams& params) {
  return (post::instanceMarginPx(params) + 1 + 7) / 8 * 8;
}

post::InstanceParams instanceParamsFor(const DelineateOptions& o) {
  post::InstanceParams p;
  p.extentQ = post::quantizeThreshold(o.thresholds.tExt);
  p.boundaryQ = std::max<std::uint8_t>(1, post::quantizeThreshold(o.thresholds.tBound));
  p.markerQ = o.thresholds.tDist > 0
                  ? std::max<std::uint8_t>(1, post::quantizeThreshold(o.thresholds.tDist))
                  : 0;
  p.markerHeightQ = std::max<std::uint8_t>(1, post::quantizeThreshold(o.thresholds.markerH));
  return p;
}

// The `source` attribute: short, so it does not dominate the file (the full list of inputs, with
// absolute paths and sizes, is in the run record): the first input's file name, and how many more
// inputs there were ("S2_2021_03.tif +5 more").
std::string shortSource(const DelineateInput& in) {
  std::vector<std::string> files;
  for (const auto& d : in.dates) files.insert(files.end(), d.begin(), d.end());
  if (files.empty() && !in.probabilitiesIn.empty()) files.push_back(in.probabilitiesIn);
  if (files.empty()) return {};
  std::string s = std::filesystem::path(files.front()).filename().string();
  if (s.empty()) s = files.front();
  if (files.size() > 1) s += " +" + std::to_string(files.size() - 1) + " more";
  return s;
}

PixelWindow grow(const PixelWindow& w, int by) {
  return {w.x - by, w.y - by, w.width + 2 * by, w.height + 2 * by};
}

// Temp mosaic file removed on scope exit (also when an exception unwinds).
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }
};

std::string tempMosaicPath(const std::string& dir) {
  std::string base = dir;
  if (base.empty()) {
    std::error_code ec;
    base = std::filesystem::temp_directory_path(ec).string();
    if (ec) base = "/tmp";
  }
  return tempSibling(base + "/mosaic.tif");
}

// ---- the whole run ----------------------------------------------------------------------------

void checkOptions(const DelineateOptions& o) {
  auto bad = [](const std::string& what) { throw UsageError("delineate: " + what); };
  if (o.tilePx < 64)
    bad("tile_px " + std::to_string(o.tilePx) + " must be >= 64. Raise --tile-px.");
  if (o.haloPx < 0 || o.haloPx > o.tilePx)
    bad("halo_px " + std::to_string(o.haloPx) +
        " must be in [0, tile_px=" + std::to_string(o.tilePx) + "]. Fix --halo-px.");
  if (o.batch < 1) bad("batch " + std::to_string(o.batch) + " must be >= 1. Fix --batch.");
  if (o.threads < 0) bad("threads must be >= 0 (0 = all cores). Fix --threads.");
  checkThresholds(o.thresholds, "delineate");
  if (!(o.simplifyM >= 0)) bad("simplify_m must be >= 0. Fix --simplify-m.");
}

struct Run {
  FieldsResult fields;
  DelineateReport report;
  GridSpec mosaicGrid;
  PixelWindow mosaicOffset;  // x, y: global pixel of the mosaic's (0, 0)
};

// Pass 1: band statistics, then the network over `area` grown by the fields halo into a
// probability mosaic (o.probabilitiesOut, or a temp file `temp` owns), which `mosaic` then reads;
// false when no date has a valid pixel.
template <class InArena>
bool predictPass(const DelineateInput& in, const DelineateOptions& o, const OpenedInput& input,
                 const PixelWindow& area, Run& run, FieldsContext& ctx, TempFile& temp,
                 std::unique_ptr<RasterSource>& mosaic, InArena&& inArena) {
  DelineateReport& rep = run.report;
  const GridSpec& grid = input.grid;
  const auto& dates = input.dates;
  auto t0 = Clock::now();
  std::vector<std::vector<BandStats>> stats;
  bool anyValid = false;
  for (auto& d : dates) {
    stats.push_back(computeStats(*d));
    std::vector<double> pp;
    for (const auto& s : stats.back()) {
      pp.push_back(s.p2);
      pp.push_back(s.p98);
      if (s.validCount > 0) anyValid = true;
    }
    rep.bandP2P98.push_back(pp);
  }
  rep.statsSeconds = since(t0);
  if (!anyValid) {
    rep.allNodata = true;
    return false;
  }
  const PixelWindow predArea = grow(area, ctx.haloPx).intersect(grid.fullWindow());
  const GridSpec mosaicGrid = grid.subGrid(predArea);
  std::string path = o.probabilitiesOut;
  if (path.empty()) {
    path = tempMosaicPath(o.tempDir);
    temp.path = path;
  } else if (!o.overwrite && std::filesystem::exists(path)) {
    throw UsageError("delineate: probabilities output '" + path +
                     "' exists. Pass --overwrite to replace it.");
  }
  auto t1 = Clock::now();
  {
    // Stored as round(p * 254), so GDAL's scale shows p in [0, 1]; 255 is the nodata value of
    // pixels no date covers (GDAL, QGIS and openRaster honour it; overviews average around it).
    // Fast compression: the file is read back once (a --probabilities output is rewritten as a
    // DEFLATE COG on close).
    GeoTiffWriter writer(path, mosaicGrid, 3, GeoTiffWriter::Type::Byte,
                         {"extent", "boundary", "distance"}, double{kProbabilityNodata},
                         GeoTiffWriter::Compression::Fast);
    writer.setScaleOffset(1.0 / kProbabilityLevels, 0.0);
    if (!o.probabilitiesOut.empty()) writer.writeCogOnClose();
    MosaicStats ms;
    inArena([&] {
      ms = predictMosaic(dates, stats, *in.predictor,
                         PixelWindow{predArea.x, predArea.y, predArea.width, predArea.height}, o,
                         writer);
    });
    in.predictor->releaseWorkspace();  // the fields pass needs none of the network's memory
    writer.close();
    rep.predictTiles = ms.tiles;
    rep.networkTileX = ms.tileX;
    rep.networkTileY = ms.tileY;
    rep.networkPixels = ms.networkPixels;
    rep.nodataTiles = ms.nodataTiles;
    rep.nonFinitePixels = ms.nonFinitePixels;
  }
  rep.predictSeconds = since(t1);
  mosaic = openRaster({path}, OpenOptions{});
  run.mosaicOffset = PixelWindow{predArea.x, predArea.y, 0, 0};
  ctx.reader.src = mosaic.get();
  ctx.grid = mosaicGrid;
  ctx.area = PixelWindow{area.x - predArea.x, area.y - predArea.y, area.width, area.height};
  return true;
}

Run runPasses(const DelineateInput& in, const DelineateOptions& o,
              const std::optional<PixelWindow>& forcedWindow) {
  checkOptions(o);
  Run run;
  DelineateReport& rep = run.report;
  OpenedInput input = openInputs(in, o);
  const GridSpec& grid = input.grid;
  rep.grid = grid;
  if (!input.dates.empty()) {
    for (const auto& b : input.dates[0]->bands()) rep.bands.push_back(b.name);
    rep.datetime = input.dates[0]->datetime();
  }
  if (!o.datetime.empty()) rep.datetime = o.datetime;
  const PixelWindow area = processedWindow(grid, forcedWindow, o);
  rep.window = area;
  if (area.empty()) return run;
  const auto& dates = input.dates;
  const auto& probs = input.probs;
  bool probsAreBytes = input.probsAreBytes;

  FieldsContext ctx;
  ctx.params = instanceParamsFor(o);
  ctx.haloPx = fieldsHaloFor(ctx.params);
  ctx.build.minAreaM2 = o.thresholds.minAreaM2;
  ctx.build.simplifyM = o.simplifyM;

  std::optional<tbb::task_arena> arena;
  if (o.threads > 0) arena.emplace(o.threads);
  auto inArena = [&](auto&& fn) {
    if (arena)
      arena->execute(fn);
    else
      fn();
  };

  TempFile temp;
  std::unique_ptr<RasterSource> mosaic;
  if (!probs) {
    if (!predictPass(in, o, input, area, run, ctx, temp, mosaic, inArena)) return run;
    probsAreBytes = false;  // read through the scale: p in [0, 1]
  } else {
    // An image given beside the probabilities still says where there is data at all.
    if ((!dates.empty() && !hasValidPixels(*dates[0])) || !hasValidPixels(*probs)) {
      rep.allNodata = true;
      return run;
    }
    ctx.reader.src = probs.get();
    ctx.grid = grid;
    ctx.area = area;
    run.mosaicOffset = PixelWindow{0, 0, 0, 0};
  }
  ctx.reader.bytes = probsAreBytes;
  run.mosaicGrid = ctx.grid;
  // Pass 2.
  auto t2 = Clock::now();
  const std::string spill = o.sink ? tempMosaicPath(o.tempDir) + ".fields" : std::string();
  inArena([&] { run.fields = buildFields(ctx, o, spill); });
  rep.fieldsSeconds = since(t2);
  rep.tiles = run.fields.tiles;
  rep.piecesMerged = run.fields.merged;
  rep.droppedSmall = run.fields.droppedSmall;
  rep.nonFinitePixels += run.fields.nonFinitePixels;  // NaN/Inf in --probabilities-in
  return run;
}

DelineateResult finish(const DelineateInput& in, const DelineateOptions& o, Run& run,
                       const std::function<bool(const post::BuiltField&)>& keep) {
  DelineateResult res;
  res.report = run.report;
  res.fields.crs = run.report.grid.crs();
  std::vector<Polygon> aoiPolys;
  if (o.aoi)
    for (auto& f : reproject(*o.aoi, res.fields.crs).fields) aoiPolys.push_back(f.polygon);
  const std::string source = shortSource(in);
  std::string model = in.modelName;
  if (model.empty() && !in.probabilitiesIn.empty())
    model = "probabilities:" + std::filesystem::path(in.probabilitiesIn).filename().string();
  std::int64_t id = 0;
  if (!run.fields.store) return res;  // nothing was processed (empty window, all nodata)
  run.fields.store->forEachSorted([&](post::BuiltField&& bf) {
    if (keep && !keep(bf)) return;
    if (!aoiPolys.empty()) {
      bool hit = false;
      for (const auto& a : aoiPolys)
        if (intersects(a, bf.field.polygon)) {
          hit = true;
          break;
        }
      if (!hit) return;
    }
    Field f = std::move(bf.field);
    f.id = ++id;
    // fiboa wants a string id; this one is stable across reruns, tile sizes, threads and AOI
    // windows: the image row and column of the field's first pixel (row-major).
    const std::int64_t W = run.mosaicGrid.width();
    f.attrs["id"] = "r" + std::to_string(bf.firstPixel / W + run.mosaicOffset.y) + "c" +
                    std::to_string(bf.firstPixel % W + run.mosaicOffset.x);
    f.attrs["determination_method"] = std::string("auto-imagery");  // delineateFieldSchema()
    if (!run.report.datetime.empty()) f.attrs["determination_datetime"] = run.report.datetime;
    f.attrs["model"] = model;
    f.attrs["source"] = source;
    if (o.sink)
      o.sink(std::move(f));
    else
      res.fields.fields.push_back(std::move(f));
  });
  res.report.fieldCount = id;
  return res;
}

}  // namespace

int fieldsHaloMarginPx(const DelineateOptions& options) {
  return fieldsHaloFor(instanceParamsFor(options));
}

DelineateResult delineate(const DelineateInput& input, const DelineateOptions& options) {
  Run run = runPasses(input, options, std::nullopt);
  return finish(input, options, run, {});
}

DelineateResult delineateOwned(const DelineateInput& input, const PixelWindow& core, int haloPx,
                               const DelineateOptions& options, long long* droppedIncomplete) {
  if (haloPx < 0) throw UsageError("delineate: halo_px must be >= 0 for a grid cell.");
  Run run = runPasses(input, options, grow(core, haloPx));
  const PixelWindow area = run.report.window;
  const GridSpec& full = run.report.grid;
  const std::int64_t W = run.mosaicGrid.width();
  const int ox = run.mosaicOffset.x, oy = run.mosaicOffset.y;
  long long dropped = 0;
  auto keep = [&](const post::BuiltField& f) {
    const std::int64_t gRow = f.firstPixel / W + oy, gCol = f.firstPixel % W + ox;
    if (!core.contains(static_cast<int>(gCol), static_cast<int>(gRow))) return false;
    // Complete: no pixel on a side of the read window that is not the raster edge.
    const std::int64_t minR = f.minRow + oy, maxR = f.maxRow + oy;
    const std::int64_t minC = f.minCol + ox, maxC = f.maxCol + ox;
    const bool cut = (area.y > 0 && minR <= area.y) || (area.x > 0 && minC <= area.x) ||
                     (area.y + area.height < full.height() && maxR >= area.y + area.height - 1) ||
                     (area.x + area.width < full.width() && maxC >= area.x + area.width - 1);
    if (cut) ++dropped;
    return !cut;
  };
  DelineateResult res = finish(input, options, run, keep);
  if (droppedIncomplete) *droppedIncomplete = dropped;
  return res;
}

std::vector<AttrDef> delineateFieldSchema() {
  return {{"area", AttrType::Real},
          {"boundary_strength", AttrType::Real},
          {"confidence", AttrType::Real},
          {"determination_datetime", AttrType::String},
          {"determination_method", AttrType::String},
          {"model", AttrType::String},
          {"perimeter", AttrType::Real},
          {"source", AttrType::String}};
}

}  // namespace fieldseg
