// synthesize(): options -> layout -> strips rendered by worker threads -> written in strip order
// (so the GeoTIFF bytes do not depend on the thread count) while a second thread streams the truth
// polygons to the vector file.
#include "fieldseg/synth.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "layout.hpp"
#include "render.hpp"

namespace fieldseg {

SynthPreset parseSynthPreset(const std::string& name) {
  if (name == "large-fields") return SynthPreset::LargeFields;
  if (name == "smallholder") return SynthPreset::Smallholder;
  throw UsageError("synth: unknown preset '" + name +
                   "'. Use --preset large-fields or --preset smallholder.");
}

SensorProfile parseSensorProfile(const std::string& name) {
  if (name == "naip") return SensorProfile::Naip;
  if (name == "planetscope") return SensorProfile::PlanetScope;
  if (name == "sentinel2") return SensorProfile::Sentinel2;
  throw UsageError("synth: unknown profile '" + name +
                   "'. Use --profile naip, planetscope or sentinel2.");
}

std::string toString(SynthPreset preset) {
  return preset == SynthPreset::LargeFields ? "large-fields" : "smallholder";
}

std::string toString(SensorProfile profile) {
  switch (profile) {
    case SensorProfile::Naip:
      return "naip";
    case SensorProfile::PlanetScope:
      return "planetscope";
    case SensorProfile::Sentinel2:
      return "sentinel2";
  }
  return "naip";
}

std::pair<double, double> presetAreaRangeHa(SynthPreset preset) {
  return preset == SynthPreset::LargeFields ? std::make_pair(2.0, 50.0) : std::make_pair(0.05, 1.0);
}

namespace {

int spectralIndex(const std::string& band) {
  if (band == "blue") return 0;
  if (band == "green") return 1;
  if (band == "red") return 2;
  if (band == "nir") return 3;
  throw UsageError("synth: unknown band '" + band + "'. Use any of red, green, blue, nir.");
}

void checkOutput(const std::string& path, bool overwrite, const std::string& flag) {
  std::error_code ec;
  if (!overwrite && std::filesystem::exists(path, ec))
    throw UsageError("synth: output '" + path + "' (" + flag +
                     ") already exists. Pass --overwrite or choose another path.");
}

GridSpec sceneGrid(const SynthOptions& o, double gsd) {
  const bool large = o.preset == SynthPreset::LargeFields;
  Crs crs = o.crs.empty() ? Crs::fromEpsg(large ? 32615 : 32636) : o.crs;
  if (crs.isGeographic())
    throw UsageError("synth: --crs '" + crs.label() +
                     "' is geographic. Give a projected CRS in metres, e.g. a UTM zone "
                     "(EPSG:326xx / 327xx).");
  // Centred on a plausible place: central Iowa (corn/soy sections) or eastern Uganda (Mbale).
  const Point lonLat = large ? Point{-93.62, 42.03} : Point{34.17, 1.07};
  const Point c = CoordTransform(Crs::wgs84(), crs).apply(lonLat);
  // --gsd is metres on the ground: where CRS units are not (Web Mercator), scale the pixel size.
  auto gridAt = [&](double res) {
    const double x0 = std::round((c.x - 0.5 * o.width * res) / res) * res;
    const double y0 = std::round((c.y + 0.5 * o.height * res) / res) * res;
    return GridSpec(o.width, o.height, {x0, res, 0, y0, 0, -res}, crs);
  };
  const double ground = gridAt(gsd).gsdMeters();
  return std::abs(ground - gsd) < 1e-9 * gsd ? gridAt(gsd) : gridAt(gsd * gsd / ground);
}

// The truth polygons: pixel-edge outlines of each field's pixels, with their areas (the
// summary's area figures; `fieldPixels` counts their pixels).
void writeTruth(const SynthOptions& o, const SynthOutputs& outputs, const GridSpec& grid,
                const synth::Layout& layout, double gsd, SynthSummary& summary,
                long long& fieldPixels) {
  VectorWriteOptions vo;
  vo.overwrite = o.overwrite;
  FieldWriter writer(outputs.truthPath, grid.crs(), {{"area", AttrType::Real}}, vo);
  const auto& gt = grid.geoTransform();
  double minHa = 1e300, maxHa = 0, sumHa = 0;
  for (int pi : layout.fieldParcel) {
    const synth::Parcel& p = layout.parcels[pi];
    Field f;
    f.id = p.id;
    for (const synth::V2& q : synth::parcelOutline(p, o.width))
      f.polygon.exterior.push_back({gt[0] + q.x * gt[1], gt[3] + q.y * gt[5]});
    // Pixels x ground pixel area: the planar area in UTM (whose scale error is < 0.1 %), and
    // the ground area in Web Mercator.
    const double areaHa = static_cast<double>(p.pixels) * gsd * gsd / 1e4;
    f.attrs["area"] = std::round(areaHa * 1e6) / 1e6;
    minHa = std::min(minHa, areaHa);
    maxHa = std::max(maxHa, areaHa);
    sumHa += areaHa;
    fieldPixels += p.pixels;
    writer.add(f);
  }
  writer.close();
  if (summary.fields > 0) {
    summary.minAreaHa = minHa;
    summary.maxAreaHa = maxHa;
    summary.meanAreaHa = sumHa / static_cast<double>(summary.fields);
  }
}

// Checks the options and returns the spectral index of each output band.
std::vector<int> checkedBands(const SynthOptions& o, const SynthOutputs& outputs, double gsd) {
  if (!(gsd >= 0.1 && gsd <= 30))
    throw UsageError("synth: --gsd " + std::to_string(o.gsdM) +
                     " is out of range. Use 0.1 to 30 metres.");
  if (!(o.haze >= 0 && o.haze <= 1))
    throw UsageError("synth: --haze " + std::to_string(o.haze) +
                     " is out of range. Use 0 (clear) to 1 (thick).");
  if (o.bands.empty()) throw UsageError("synth: --bands is empty. Use e.g. red,green,blue,nir.");
  std::vector<int> bandIdx;
  for (const std::string& b : o.bands) {
    const int k = spectralIndex(b);
    if (std::find(bandIdx.begin(), bandIdx.end(), k) != bandIdx.end())
      throw UsageError("synth: band '" + b + "' is listed twice in --bands. List each once.");
    bandIdx.push_back(k);
  }
  if (outputs.scenePath.empty() || outputs.truthPath.empty())
    throw UsageError("synth: both --out and --truth are required.");
  checkOutput(outputs.scenePath, o.overwrite, "--out");
  checkOutput(outputs.truthPath, o.overwrite, "--truth");
  if (!outputs.truthRasterPath.empty())
    checkOutput(outputs.truthRasterPath, o.overwrite, "--truth-raster");
  return bandIdx;
}

// Strips: workers render ahead (bounded), this thread writes them in order into `scene` (and
// `inst`). Returns once every worker has stopped; a failure stops the others and lands in
// renderError / writeError.
void renderStrips(const synth::StripRenderer& renderer, int threads, GeoTiffWriter& scene,
                  GeoTiffWriter* inst, const std::function<void(int, int)>& progress,
                  std::exception_ptr& renderError, std::exception_ptr& writeError) {
  const int total = renderer.strips();
  const int workers =
      std::max(1, threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency()));
  const int maxAhead = workers;  // strips rendered but not yet written: bounds memory
  std::mutex mu;
  std::condition_variable cv;
  std::map<int, std::pair<Raster<float>, Raster<float>>> ready;
  int nextClaim = 0, nextWrite = 0;
  bool failed = false;
  auto work = [&] {
    for (;;) {
      int s;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock,
                [&] { return failed || nextClaim >= total || nextClaim < nextWrite + maxAhead; });
        if (failed || nextClaim >= total) return;
        s = nextClaim++;
      }
      try {
        std::pair<Raster<float>, Raster<float>> out;
        renderer.render(s, out.first, inst ? &out.second : nullptr);
        std::lock_guard<std::mutex> lock(mu);
        ready.emplace(s, std::move(out));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        failed = true;
        if (!renderError) renderError = std::current_exception();
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(workers));
  try {
    for (int i = 0; i < workers; ++i) pool.emplace_back(work);
  } catch (const std::exception& e) {  // fewer renderers; none at all is an error
    if (pool.empty()) {
      renderError = std::make_exception_ptr(
          Error(std::string("synth: cannot start a rendering thread (") + e.what() +
                "). Free memory or processes, or lower --threads."));
      return;
    }
  }
  try {
    for (int s = 0; s < total; ++s) {
      std::pair<Raster<float>, Raster<float>> strip;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return failed || ready.count(s) > 0; });
        if (failed && ready.count(s) == 0) break;
        strip = std::move(ready[s]);
        ready.erase(s);
      }
      const int y = s * synth::StripRenderer::kStripRows;
      scene.write(0, y, strip.first);
      if (inst) inst->write(0, y, strip.second);
      {
        std::lock_guard<std::mutex> lock(mu);
        nextWrite = s + 1;
      }
      cv.notify_all();
      if (progress) progress(s + 1, total);
    }
  } catch (...) {
    writeError = std::current_exception();
    std::lock_guard<std::mutex> lock(mu);
    failed = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) t.join();
}

}  // namespace

SynthSummary synthesize(const SynthOptions& o, const SynthOutputs& outputs,
                        const std::function<void(int, int)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  if (o.width < 16 || o.height < 16 || o.width > 200000 || o.height > 200000)
    throw UsageError("synth: --size " + std::to_string(o.width) + "x" + std::to_string(o.height) +
                     " is out of range. Use 16 to 200000 pixels per side.");
  const SensorProfile profile =
      o.profile ? *o.profile
                : (o.preset == SynthPreset::LargeFields ? SensorProfile::Naip
                                                        : SensorProfile::PlanetScope);
  const synth::SensorSpec sensor = synth::sensorSpec(profile);
  const double gsd = o.gsdM > 0 ? o.gsdM : sensor.defaultGsdM;
  const std::vector<int> bandIdx = checkedBands(o, outputs, gsd);

  const GridSpec grid = sceneGrid(o, gsd);
  synth::LayoutParams lp;
  lp.preset = o.preset;
  lp.width = o.width;
  lp.height = o.height;
  lp.gsdM = gsd;
  lp.seed = o.seed;
  const synth::Layout layout = synth::buildLayout(lp);
  const synth::StripRenderer renderer(layout, profile, bandIdx, o.haze, o.seed);

  nlohmann::json meta = {{"preset", toString(o.preset)},
                         {"profile", toString(profile)},
                         {"gsd_m", gsd},
                         {"seed", o.seed},
                         {"haze", o.haze},
                         {"bands", o.bands},
                         {"fields", layout.fieldParcel.size()}};
  GeoTiffWriter scene(outputs.scenePath, grid, static_cast<int>(bandIdx.size()),
                      sensor.byteOutput ? GeoTiffWriter::Type::Byte : GeoTiffWriter::Type::UInt16,
                      o.bands);
  scene.setMetadata("FIELDSEG_SYNTH", meta.dump());
  std::unique_ptr<GeoTiffWriter> inst;
  if (!outputs.truthRasterPath.empty()) {
    inst = std::make_unique<GeoTiffWriter>(outputs.truthRasterPath, grid, 1,
                                           GeoTiffWriter::Type::Int32,
                                           std::vector<std::string>{"field_id"});
    inst->setMetadata("FIELDSEG_SYNTH", meta.dump());
  }

  // Truth polygons: pixel-edge outlines of each field's pixels, streamed on their own thread.
  SynthSummary summary;
  summary.grid = grid;
  summary.profile = profile;
  summary.fields = static_cast<long long>(layout.fieldParcel.size());
  std::exception_ptr truthError;
  long long fieldPixels = 0;
  std::thread truthThread([&] {
    try {
      writeTruth(o, outputs, grid, layout, gsd, summary, fieldPixels);
    } catch (...) {
      truthError = std::current_exception();
    }
  });

  std::exception_ptr renderError, writeError;
  renderStrips(renderer, o.threads, scene, inst.get(), progress, renderError, writeError);
  truthThread.join();
  if (renderError) std::rethrow_exception(renderError);
  if (writeError) std::rethrow_exception(writeError);
  if (truthError) std::rethrow_exception(truthError);
  scene.close();
  if (inst) inst->close();

  summary.fieldPixelFraction =
      static_cast<double>(fieldPixels) / (static_cast<double>(o.width) * o.height);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace fieldseg
