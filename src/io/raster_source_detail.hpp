// Pure helpers behind the GDAL RasterSource (no GDAL types): band naming and selection rules, and
// the mapping of a window on a resampled grid to floating-point source windows. Internal to
// src/io; exposed in a header so unit tests can check the rules directly. Stateless, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "fieldseg/raster_source.hpp"

namespace fieldseg::io {

std::string lower(const std::string& s);

/// "red", "green", "blue", "nir" (or "alpha") when `text` names one of them (case-insensitive;
/// "near infrared" and similar count as nir), else "".
std::string canonicalBandName(const std::string& text);

struct BandNameInput {
  std::string description;  ///< as stored in the file
  std::string colorInterp;  ///< GDAL colour interpretation, lower case
  std::string fileStem;     ///< file name without extension, only for single-band files, else ""
};

/// Names of the stacked bands (see README.md, "Band names"): description, then colour
/// interpretation, then the file-name convention of single-band stacks (B01..B04 = PlanetScope
/// blue, green, red, nir; B02, B03, B04, B08 = Sentinel-2 blue, green, red, nir), then the
/// lower-case description or band code, else "band<N>".
std::vector<std::string> canonicalBandNames(const std::vector<BandNameInput>& bands);

struct BandMatchInput {
  BandInfo info;
  std::string fileStem;  ///< file name without extension for single-band files, else ""
};

/// 0-based indices of the wanted bands: names (matched case-insensitively against name,
/// description, colour interpretation, file stem, "band<N>") or 1-based indices. Throws UsageError
/// listing the available bands when one is unknown.
std::vector<int> matchBands(const std::vector<std::string>& wanted,
                            const std::vector<BandMatchInput>& bands, const std::string& path);

/// A span along one axis in source pixels (fractional).
struct SrcSpan {
  double off = 0;
  double size = 0;
};

/// A run of destination pixels [dst, dst+count) and the source span it covers.
struct AxisSpan {
  int dst = 0;
  int count = 0;
  SrcSpan src;
};

/// Maps destination pixels [start, start+count) of a grid whose pixels are `factor` source pixels
/// wide onto source spans clipped to [0, nativeSize). The last destination pixel of a grid whose
/// size was rounded up covers only part of a source extent: it gets its own span so every other
/// pixel keeps the exact scale (tiled reads then equal untiled reads).
std::vector<AxisSpan> spansFor(int start, int count, double factor, int nativeSize);

struct IntWindow {
  int off = 0;
  int size = 0;
};
/// The integer source window enclosing a fractional span, clipped to [0, nativeSize).
IntWindow integerSpan(const SrcSpan& s, int nativeSize);

}  // namespace fieldseg::io
