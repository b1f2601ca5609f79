// `fieldseg render --image IMG --fields FIELDS --out QUICKLOOK.png [--bands LIST] [--max-side N]
//  [--line-width N] [--overwrite]`: field outlines over an RGB 2-98 % stretch.
#include <sstream>
#include <string>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/quicklook.hpp"
#include "fieldseg/raster_source.hpp"
#include "guards.hpp"
#include "log.hpp"

namespace fieldseg::cli {
namespace {

struct RenderArgs {
  std::string image, fields, out, bands;
  int maxSide = 2048;
  int lineWidth = 1;
  bool overwrite = false;
};

void run(const RenderArgs& a) {
  refuseSamePaths("render", {{"--out", a.out}}, {{"--image", a.image}, {"--fields", a.fields}});
  if (a.maxSide < 16) throw UsageError("render: --max-side must be >= 16.");
  OpenOptions oo;
  if (!a.bands.empty()) {
    oo.bands = splitList(a.bands);
  } else {
    // Prefer named red/green/blue; fall back to the first three bands (or one grey band).
    try {
      oo.bands = {"red", "green", "blue"};
      (void)openRaster({a.image}, oo);
    } catch (const UsageError&) {
      oo.bands.clear();
    }
  }
  auto img = openRaster({a.image}, oo);
  FieldSet fields = readFields(a.fields);
  if (fields.crs.empty() && !fields.fields.empty())
    throw DataError("render: fields '" + a.fields +
                    "' have no CRS, so where they lie on the image is unknown. Give the file a "
                    "CRS (a .prj beside a shapefile, or ogr2ogr -a_srs EPSG:<code>).");
  QuicklookOptions qo;
  qo.maxSidePx = a.maxSide;
  qo.lineWidthPx = a.lineWidth;
  const RgbImage q = renderQuicklook(*img, fields, qo);
  writePng(q, a.out, a.overwrite);
  logLine("render: " + std::to_string(fields.fields.size()) + " fields over " + a.image + " -> " +
          a.out + " (" + std::to_string(q.cols) + "x" + std::to_string(q.rows) + ")");
}

const Registrar registrar(
    "render", "Quicklook PNG: field outlines over an RGB stretch", 35, [](CLI::App& sub) {
      auto a = std::make_shared<RenderArgs>();
      sub.add_option("--image", a->image, "Image (anything GDAL opens)")->required();
      sub.add_option("--fields", a->fields, "Field polygons (any OGR source)")->required();
      sub.add_option("--out", a->out, "Output PNG")->required();
      sub.add_option("--bands", a->bands,
                     "Bands as R,G,B (names or 1-based indices); default "
                     "red,green,blue when named, else the first three");
      sub.add_option("--max-side", a->maxSide, "Longer side of the quicklook in pixels")
          ->check(CLI::Range(16, 16384))
          ->capture_default_str();
      sub.add_option("--line-width", a->lineWidth, "Outline width in pixels")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing PNG");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
