// Quicklooks: field outlines drawn over an RGB 2-98 % stretch of an image, written as PNG.
//
// renderQuicklook (src/post/render.cpp, OpenCV drawing) and writePng (src/io/png_writer.cpp,
// GDAL PNG driver). Owner: delineate helper. Reentrant; values only.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg {

/// Interleaved 8-bit RGB pixels, row-major.
struct RgbImage {
  int rows = 0;
  int cols = 0;
  std::vector<std::uint8_t> rgb;
};

struct QuicklookOptions {
  int maxSidePx = 2048;  ///< the image is read decimated so its longer side is at most this
  std::array<std::uint8_t, 3> color{255, 230, 0};
  int lineWidthPx = 1;
};

/// The first three bands of `image` (one band: grey) stretched per band between its 2nd and 98th
/// percentiles over valid pixels (invalid pixels black), with the outlines (exterior and holes) of
/// `fields` (any CRS; reprojected to the image's) drawn on top.
RgbImage renderQuicklook(const RasterSource& image, const FieldSet& fields,
                         const QuicklookOptions& options = {});

/// Writes a PNG atomically (temp file + rename). Throws UsageError when `path` exists and
/// !overwrite, IoError on failure.
void writePng(const RgbImage& image, const std::string& path, bool overwrite = false);

}  // namespace fieldseg
