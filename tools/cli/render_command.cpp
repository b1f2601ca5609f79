// `fieldseg render --image IMG --fields FIELDS --out QUICKLOOK.(png|jpg) [--bands LIST]
//  [--max-side N] [--min-side N] [--line-width N] [--title TEXT] [--plain] [--overwrite]`: field
// outlines over an RGB 2-98 % stretch, a header line (field count, date, model) and a scale bar.
#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <variant>

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
  std::string title;
  int maxSide = 2048;
  int minSide = 512;
  int lineWidth = 1;
  bool plain = false;
  bool overwrite = false;
};

std::string textAttr(const FieldSet& fields, const std::string& key) {
  for (const auto& f : fields.fields) {
    const auto it = f.attrs.find(key);
    if (it != f.attrs.end())
      if (const auto* s = std::get_if<std::string>(&it->second); s && !s->empty()) return *s;
  }
  return {};
}

// "N fields | DATE | MODEL": what the quicklook shows, from the fields' attributes (fieldseg's
// own outputs carry determination_datetime and model) or the image's date.
std::string defaultHeader(const FieldSet& fields, const RasterSource& img) {
  const size_t n = fields.fields.size();
  std::string h = std::to_string(n) + (n == 1 ? " field" : " fields");
  std::string date = textAttr(fields, "determination_datetime");
  if (date.empty()) date = img.datetime();
  if (!date.empty()) h += " | " + date;
  if (const std::string model = textAttr(fields, "model"); !model.empty()) h += " | " + model;
  return h;
}

void run(const RenderArgs& a) {
  refuseSamePaths("render", {{"--out", a.out}}, {{"--image", a.image}, {"--fields", a.fields}});
  if (a.maxSide < 16) throw UsageError("render: --max-side must be >= 16.");
  (void)quicklookFormat(a.out);  // an unknown extension is refused before any work
  if (!a.overwrite && std::filesystem::exists(a.out))
    throw UsageError("render: output '" + a.out + "' exists. Pass --overwrite to replace it.");
  OpenOptions oo;
  if (!a.bands.empty()) {
    oo.bands = splitList(a.bands);
  } else {
    // Prefer named red/green/blue; fall back to the first three bands (or one grey band).
    try {
      oo.bands = {"red", "green", "blue"};
      (void)openRaster(splitList(a.image), oo);
    } catch (const UsageError&) {
      oo.bands.clear();
    }
  }
  auto img = openRaster(splitList(a.image), oo);
  FieldSet fields = readFields(a.fields);
  if (fields.crs.empty() && !fields.fields.empty())
    throw DataError("render: fields '" + a.fields +
                    "' have no CRS, so where they lie on the image is unknown. Give the file a "
                    "CRS (a .prj beside a shapefile, or ogr2ogr -a_srs EPSG:<code>).");
  QuicklookOptions qo;
  qo.maxSidePx = a.maxSide;
  qo.minSidePx = std::min(a.minSide, a.maxSide);  // a smaller --max-side caps the enlargement too
  qo.lineWidthPx = a.lineWidth;
  qo.scaleBar = !a.plain;
  if (!a.plain) qo.header = a.title.empty() ? defaultHeader(fields, *img) : a.title;
  const RgbImage q = renderQuicklook(*img, fields, qo);
  writeQuicklook(q, a.out, a.overwrite);
  logLine("render: " + std::to_string(fields.fields.size()) + " fields over " + a.image + " -> " +
          a.out + " (" + std::to_string(q.cols) + "x" + std::to_string(q.rows) + ")");
}

const Registrar registrar(
    "render", "Quicklook PNG/JPEG: field outlines over an RGB stretch", 35, [](CLI::App& sub) {
      auto a = std::make_shared<RenderArgs>();
      sub.add_option("--image", a->image,
                     "Image: a raster, a STAC item, or single-band files as a comma-separated list")
          ->required();
      sub.add_option("--fields", a->fields, "Field polygons (any OGR source)")->required();
      sub.add_option("--out", a->out, "Output quicklook: .png or .jpg (the extension decides)")
          ->required();
      sub.add_option("--bands", a->bands,
                     "Bands as R,G,B (names or 1-based indices); default "
                     "red,green,blue when named, else the first three");
      sub.add_option("--max-side", a->maxSide, "Longer side of the quicklook in pixels")
          ->check(CLI::Range(16, 16384))
          ->capture_default_str();
      sub.add_option("--min-side", a->minSide,
                     "Enlarge smaller images (whole-pixel factor) until the longer side is at "
                     "least this; 0 = never")
          ->check(CLI::Range(0, 16384))
          ->capture_default_str();
      sub.add_option("--line-width", a->lineWidth, "Outline width in pixels")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      sub.add_option("--title", a->title,
                     "Header text (default: field count, date and model from the fields)");
      sub.add_flag("--plain", a->plain, "No header line and no scale bar");
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing quicklook");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
