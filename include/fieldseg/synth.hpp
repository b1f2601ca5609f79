// Synthetic scenes with exactly known fields (`fieldseg synth`).
//
// synthesize() lays out a cadastre on the pixel grid (blocks bounded by roads and tracks,
// subdivided into parcels; forest, water, villages and scrub that are not fields), paints it like a
// sensor (crop spectra, texture, row stripes, boundary strips, blur, noise, optional haze) strip by
// strip with bounded memory, and writes:
//   - the scene: tiled DEFLATE GeoTIFF, UTM by default, bands described red/green/blue/nir;
//   - the truth: one polygon per field, exactly the union of that field's pixels (pixel-edge
//     outlines), with attributes `id` and `area` (ha), as any format writeFields() takes (GeoJSON
//     is RFC 7946);
//   - optionally the instance raster: Int32, 0 = not a field, else the field id.
// Output is a pure function of the options (seed included): byte-identical whatever the thread
// count. synthesize() is safe to call from several threads on different outputs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fieldseg/geo.hpp"

namespace fieldseg {

enum class SynthPreset { LargeFields, Smallholder };
enum class SensorProfile { Naip, PlanetScope, Sentinel2 };

/// "large-fields" / "smallholder"; throws UsageError listing the valid names.
SynthPreset parseSynthPreset(const std::string& name);
/// "naip" / "planetscope" / "sentinel2"; throws UsageError listing the valid names.
SensorProfile parseSensorProfile(const std::string& name);
std::string toString(SynthPreset preset);
std::string toString(SensorProfile profile);

/// The area range (ha) every truth field of a preset falls in: large-fields [2, 50], smallholder
/// [0.05, 1].
std::pair<double, double> presetAreaRangeHa(SynthPreset preset);

struct SynthOptions {
  SynthPreset preset = SynthPreset::Smallholder;
  int width = 1024;
  int height = 1024;
  double gsdM = 0;  ///< 0 = the profile's default (NAIP 1, PlanetScope 3, Sentinel-2 10)
  std::optional<SensorProfile> profile;  ///< default: NAIP for large-fields, PlanetScope otherwise
  std::vector<std::string> bands{"red", "green", "blue", "nir"};  ///< any of these four, any order
  Crs crs;  ///< projected; empty = the preset's UTM zone (32615 / 32636). gsdM is ground metres
  std::uint64_t seed = 1;
  double haze = 0;  ///< 0 (clear) .. 1 (thick)
  int threads = 0;  ///< render threads; 0 = hardware concurrency. Does not change the output.
  bool overwrite = false;
};

struct SynthOutputs {
  std::string scenePath;        ///< .tif
  std::string truthPath;        ///< vector file (by extension, see writeFields)
  std::string truthRasterPath;  ///< optional Int32 instance raster; empty = none
};

struct SynthSummary {
  GridSpec grid;
  SensorProfile profile = SensorProfile::Naip;
  long long fields = 0;
  double fieldPixelFraction = 0;  ///< share of scene pixels inside truth fields
  double minAreaHa = 0, maxAreaHa = 0, meanAreaHa = 0;
  double seconds = 0;
};

/// Generates the scene and its truth. `progress(done, total)` is called after each strip (from the
/// calling thread). Throws UsageError (bad options, outputs exist without overwrite), DataError
/// (CRS not projected), IoError (write failures).
SynthSummary synthesize(const SynthOptions& options, const SynthOutputs& outputs,
                        const std::function<void(int, int)>& progress = {});

}  // namespace fieldseg
