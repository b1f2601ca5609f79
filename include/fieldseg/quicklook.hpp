// Quicklooks: field outlines drawn over an RGB 2-98 % stretch of an image, with a header line and
// a scale bar, written as PNG or JPEG.
//
// renderQuicklook (src/post/render.cpp, OpenCV drawing) and writeQuicklook
// (src/io/quicklook_writer.cpp, GDAL PNG / JPEG drivers). Owner: delineate helper. Reentrant;
// values only.
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
  /// Smaller images are enlarged (nearest neighbour, an integer factor) until their longer side
  /// is at least this, so a 256 px chip is readable; 0 = never enlarge.
  int minSidePx = 0;
  /// Magenta by default: it stands out on green, yellow and brown crops alike. Each outline is
  /// drawn over a darker line one pixel wider on each side, so it also shows on pale ground.
  std::array<std::uint8_t, 3> color{255, 0, 255};
  int lineWidthPx = 1;
  /// A line of text in a dark strip above the image (field count, date, model); empty = none.
  std::string header;
  bool scaleBar = true;  ///< a metric scale bar in the lower left corner
};

/// The first three bands of `image` (one band: grey) stretched per band between its 2nd and 98th
/// percentiles over valid pixels (invalid pixels black), with the outlines (exterior and holes) of
/// `fields` (any CRS; reprojected to the image's) drawn on top, then the scale bar and header.
RgbImage renderQuicklook(const RasterSource& image, const FieldSet& fields,
                         const QuicklookOptions& options = {});

/// The format a quicklook path asks for: "PNG" (.png) or "JPEG" (.jpg, .jpeg), any case. Throws
/// UsageError for any other extension.
std::string quicklookFormat(const std::string& path);

/// Writes the quicklook atomically (temp file + rename) in the format its extension names
/// (quicklookFormat). Throws UsageError when `path` exists and !overwrite or the extension is
/// unknown, IoError on failure.
void writeQuicklook(const RgbImage& image, const std::string& path, bool overwrite = false);

}  // namespace fieldseg
