// `fieldseg synth --preset large-fields|smallholder --size W[xH] [--gsd M] [--bands LIST]
//  [--profile naip|planetscope|sentinel2] [--crs EPSG:...] --seed N --out scene.tif
//  --truth fields.geojson [--truth-raster inst.tif] [--haze F] [--threads N] [--overwrite]`:
// a synthetic scene with exactly known fields (see include/fieldseg/synth.hpp).
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/synth.hpp"
#include "guards.hpp"
#include "log.hpp"

namespace fieldseg::cli {
namespace {

struct SynthArgs {
  std::string preset;
  std::string size;
  double gsdM = 0;
  std::string bands = "red,green,blue,nir";
  std::string profile;
  std::string crs;
  unsigned long long seed = 1;
  std::string out, truth, truthRaster;
  double haze = 0;
  int threads = 0;
  bool overwrite = false;
};

std::pair<int, int> parseSize(const std::string& text) {
  const size_t x = text.find_first_of("xX");
  auto number = [&](const std::string& s) {
    size_t used = 0;
    int v = -1;
    try {
      v = std::stoi(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != s.size() || v <= 0)
      throw UsageError("synth: --size '" + text +
                       "' is not W or WxH in pixels. Give e.g. --size 2048 or --size 4096x2048.");
    return v;
  };
  if (x == std::string::npos) {
    const int w = number(text);
    return {w, w};
  }
  return {number(text.substr(0, x)), number(text.substr(x + 1))};
}

void run(const SynthArgs& a) {
  refuseSamePaths("synth",
                  {{"--out", a.out}, {"--truth", a.truth}, {"--truth-raster", a.truthRaster}}, {});
  SynthOptions o;
  o.preset = parseSynthPreset(a.preset);
  std::tie(o.width, o.height) = parseSize(a.size);
  o.gsdM = a.gsdM;
  o.bands = splitList(a.bands);
  if (!a.profile.empty()) o.profile = parseSensorProfile(a.profile);
  if (!a.crs.empty()) {
    try {
      o.crs = Crs::fromUserInput(a.crs);
    } catch (const DataError& e) {
      throw UsageError(std::string(e.what()));
    }
  }
  o.seed = a.seed;
  o.haze = a.haze;
  o.threads = cappedThreads(a.threads, "synth");
  o.overwrite = a.overwrite;
  SynthOutputs outputs{a.out, a.truth, a.truthRaster};
  // Each strip completes a row of 256 x 256 tiles, written once and in order: a large raster block
  // cache would only hold finished tiles in memory (one tile row of a 10,000 px wide, 4-band uint16
  // scene is 20 MB). Keep it small unless the user chose a size.
  setenv("GDAL_CACHEMAX", "64", 0);

  std::optional<Progress> bar;
  const SynthSummary s = synthesize(o, outputs, [&](int done, int total) {
    if (!bar) bar.emplace("synth", total, "strips");
    bar->update(done, static_cast<long long>(done) * o.width * o.height / total);
  });
  if (bar) bar->finish();
  char line[512];
  std::snprintf(line, sizeof line,
                "synth: %s %dx%d at %.2f m (%s, %s): %lld fields (%.1f%% of pixels, %.3f-%.3f ha, "
                "mean %.3f ha) in %.1f s",
                toString(o.preset).c_str(), o.width, o.height, s.grid.resX(),
                toString(s.profile).c_str(), s.grid.crs().label().c_str(), s.fields,
                100 * s.fieldPixelFraction, s.minAreaHa, s.maxAreaHa, s.meanAreaHa, s.seconds);
  logLine(line);
  logLine("synth: wrote " + a.out + " and " + a.truth +
          (a.truthRaster.empty() ? std::string() : " and " + a.truthRaster));
}

const Registrar registrar(
    "synth", "Generate a synthetic scene with exactly known fields (GeoTIFF + truth polygons)", 5,
    [](CLI::App& sub) {
      auto a = std::make_shared<SynthArgs>();
      sub.add_option("--preset", a->preset, "large-fields (2-50 ha) or smallholder (0.05-1 ha)")
          ->required();
      sub.add_option("--size", a->size, "Scene size in pixels: W or WxH")->required();
      sub.add_option("--gsd", a->gsdM,
                     "Pixel size in metres (default: profile's, NAIP 1, PlanetScope 3, "
                     "Sentinel-2 10)");
      sub.add_option("--bands", a->bands, "Bands to write, any of red,green,blue,nir")
          ->capture_default_str();
      sub.add_option("--profile", a->profile,
                     "Sensor: naip (uint8), planetscope or sentinel2 (uint16 reflectance x 10000); "
                     "default naip for large-fields, planetscope for smallholder");
      sub.add_option("--crs", a->crs,
                     "Projected CRS in metres (default EPSG:32615 for large-fields, EPSG:32636 for "
                     "smallholder)");
      sub.add_option("--seed", a->seed, "Random seed: same seed, same bytes")
          ->capture_default_str();
      sub.add_option("--out", a->out, "Output scene GeoTIFF")->required();
      sub.add_option("--truth", a->truth,
                     "Output truth polygons (.geojson RFC 7946, .geojsonl, .gpkg, .fgb) with id "
                     "and area (ha)")
          ->required();
      sub.add_option("--truth-raster", a->truthRaster,
                     "Also write the Int32 instance raster (0 = not a field, else field id)");
      sub.add_option("--haze", a->haze, "Haze from 0 (clear) to 1 (thick)")->capture_default_str();
      sub.add_option("--threads", a->threads,
                     "Render threads (0 = all cores); the output does not depend on it")
          ->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace existing outputs");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
