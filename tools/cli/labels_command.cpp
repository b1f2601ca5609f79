// `fieldseg labels --image IMG --fields FIELDS [--noncrop POLYS] [--gsd M] [--border-m M]
//  [--boundary-px 2] [--bands LIST] [--layer NAME] [--split west|east] --out LABELS.tif
//  [--chips DIR --chip-px 256 --chip-stride 192 --min-labelled 0.05] [--scales 1,2,3]
//  [--overwrite]`
// Partial field polygons -> masked training targets (extent, boundary, distance, mask) on the image
// grid, and optionally training chips + manifest.jsonl. See weak_labels/README.md.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "config_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/weak_labels.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;

struct LabelsArgs {
  std::string config;  ///< --config FILE.json (config_file.hpp)
  std::string image;
  std::string fields;
  std::string noncrop;
  std::string layer;
  std::string split;
  double gsdM = 0, maxMpx = 250;
  // The label and chip defaults are the library's (LabelOptions, ChipOptions): declared once.
  double borderM = LabelOptions{}.borderM;
  int boundaryPx = LabelOptions{}.boundaryPx;
  std::string bands;
  std::string out;
  std::string chips;
  int chipPx = ChipOptions{}.chipPx;
  int chipStride = ChipOptions{}.stridePx;
  double minLabelled = ChipOptions{}.minLabelled;
  std::string scales = "1";
  bool overwrite = false;
  nlohmann::json flags;  ///< every flag as resolved (resolvedFlags), for the run record
};

std::vector<int> parseScales(const std::string& text) {
  std::vector<int> out;
  for (const std::string& s : splitList(text)) {
    int v = 0;
    try {
      size_t used = 0;
      v = std::stoi(s, &used);
      if (used != s.size()) v = 0;
    } catch (const std::exception&) {
      v = 0;
    }
    if (v < 1 || v > 16)
      throw UsageError("labels: --scales '" + text +
                       "' must be a list of integers in 1..16. Use e.g. --scales 1,2,3.");
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  if (out.empty()) throw UsageError("labels: --scales is empty. Use e.g. --scales 1,2,3.");
  std::sort(out.begin(), out.end());
  return out;
}

std::string stemOf(const std::string& path) {
  std::string s = fs::path(path).stem().string();
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return s.empty() ? "scene" : s;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

void validate(const LabelsArgs& a) {
  if (a.out.empty() && a.chips.empty())
    throw UsageError("labels: nothing to write. Give --out LABELS.tif and/or --chips DIR.");
  if (a.boundaryPx < 1)
    throw UsageError("labels: --boundary-px " + std::to_string(a.boundaryPx) +
                     " must be >= 1. Use 1 for a one-pixel outline.");
  if (a.gsdM < 0) throw UsageError("labels: --gsd must be > 0 metres (or omitted for native).");
  if (a.chipPx < 8 || a.chipStride < 1)
    throw UsageError("labels: --chip-px must be >= 8 and --chip-stride >= 1.");
  if (a.minLabelled < 0 || a.minLabelled > 1)
    throw UsageError("labels: --min-labelled " + fmt("%g", a.minLabelled) +
                     " must be in [0, 1]. Use e.g. 0.05.");
  if (!a.split.empty() && a.split != "west" && a.split != "east")
    throw UsageError("labels: --split '" + a.split + "' must be west or east.");
  if (!a.out.empty() && fs::exists(a.out) && !a.overwrite)
    throw UsageError("labels: output '" + a.out + "' exists. Pass --overwrite to replace it.");
  if (!a.chips.empty() && !a.overwrite && manifestEntriesFor(a.chips, a.image) > 0)
    throw UsageError("labels: chips of '" + a.image + "' are already in '" + a.chips +
                     "/manifest.jsonl'. Pass --overwrite to replace them.");
}

// What the polygons became on the image (the first scale): refused when none covers a pixel.
void reportPolygons(const LabelsArgs& a, const GridSpec& grid, const std::vector<Polygon>& polys,
                    const LabelStats& st, const VectorReadReport& rep,
                    const VectorReadReport& ncRep, const std::vector<std::string>& reprojectSkips) {
  if (st.fieldsUsed == 0) {
    const WorldBox b = grid.boxOf(grid.fullWindow());
    throw DataError("labels: none of the " + std::to_string(polys.size()) + " polygons of '" +
                    a.fields + "' covers a pixel of '" + a.image + "' (" +
                    std::to_string(st.fieldsOutside) + " outside its bounds " +
                    fmt("%.1f", b.minX) + "," + fmt("%.1f", b.minY) + "," + fmt("%.1f", b.maxX) +
                    "," + fmt("%.1f", b.maxY) + " " + grid.crs().label() + ", " +
                    std::to_string(st.fieldsNoPixel) +
                    " smaller than a pixel). Check that the polygons belong to this image.");
  }
  std::string line =
      "labels: polygons: " + std::to_string(rep.featuresRead) + " features read, " +
      std::to_string(rep.polygonsOut) + " polygons, " + std::to_string(st.fieldsUsed) + " used, " +
      std::to_string(rep.repaired) + " repaired (MakeValid), " +
      std::to_string(rep.skipped + static_cast<int>(reprojectSkips.size())) + " skipped, " +
      std::to_string(st.fieldsOutside) + " outside the image, " + std::to_string(st.fieldsNoPixel) +
      " without a pixel centre, " + std::to_string(st.fieldsWithoutExtent) +
      " with no extent left after the border strip";
  logLine(line);
  for (const std::string& r : rep.skipReasons) logLine("labels:   skipped " + r);
  for (const std::string& r : reprojectSkips) logLine("labels:   skipped " + r);
  if (!a.noncrop.empty())
    logLine("labels: noncrop: " + std::to_string(ncRep.polygonsOut) + " polygons, " +
            std::to_string(st.noncropUsed) + " on the image");
}

// --out: the label stack of the native scale as a 4-band Float32 GeoTIFF with its provenance.
void writeLabelsTif(const LabelsArgs& a, const GridSpec& grid, const LabelStack& labels,
                    const LabelStats& st) {
  std::error_code ec;
  if (fs::path(a.out).has_parent_path()) fs::create_directories(fs::path(a.out).parent_path(), ec);
  GeoTiffWriter w(a.out, grid, 4, GeoTiffWriter::Type::Float32, labels.raster.bandNames);
  w.write(0, 0, labels.raster);
  w.setMetadata("source_image", a.image);
  w.setMetadata("source_fields", a.fields);
  w.setMetadata("border_px", fmt("%g", st.borderPx));
  w.setMetadata("boundary_px", std::to_string(a.boundaryPx));
  w.setMetadata("labelled_fraction", fmt("%.6f", st.labelledFraction));
  w.close();
  nlohmann::json j = runRecordHead("labels");
  j["flags"] = a.flags;
  j["inputs"] = {{"image", fileEntry(a.image)},
                 {"fields", fileEntry(a.fields)},
                 {"noncrop", a.noncrop.empty() ? nlohmann::json() : fileEntry(a.noncrop)}};
  j["outputs"] = {{"labels", fileEntry(a.out)}};
  j["result"] = {{"width", grid.width()},     {"height", grid.height()},
                 {"gsd_m", grid.gsdMeters()}, {"fields_used", st.fieldsUsed},
                 {"border_px", st.borderPx},  {"labelled_fraction", st.labelledFraction}};
  writeTextAtomically(runRecordPath(a.out), j.dump(2), "labels");
  logLine("labels: wrote " + a.out + " (and its run record " + runRecordPath(a.out) + ")");
}

void run(const LabelsArgs& a) {
  validate(a);
  refuseSamePaths("labels", {{"--out", a.out}},
                  {{"--image", a.image}, {"--fields", a.fields}, {"--noncrop", a.noncrop}});
  const std::vector<int> scales = parseScales(a.scales);

  // 1. Polygons (every failure here happens before any file is written).
  VectorReadReport rep;
  FieldSet fields = readFields(a.fields, &rep, a.layer);
  if (!a.split.empty()) {
    const size_t before = fields.fields.size();
    fields = splitFields(fields, a.split);
    logLine("labels: --split " + a.split + " keeps " + std::to_string(fields.fields.size()) +
            " of " + std::to_string(before) + " polygons");
  }
  FieldSet noncrop;
  VectorReadReport ncRep;
  if (!a.noncrop.empty()) noncrop = readFields(a.noncrop, &ncRep);

  OpenOptions base;
  base.bands = splitList(a.bands);
  base.gsdM = a.gsdM;
  std::unique_ptr<RasterSource> img1 = openRaster(splitList(a.image), base);
  const double baseGsd = img1->grid().gsdMeters();

  std::vector<std::string> reprojectSkips;
  const std::vector<Polygon> polys = polygonsInCrs(fields, img1->grid().crs(), &reprojectSkips);
  std::vector<Polygon> bgPolys;
  if (!a.noncrop.empty()) bgPolys = polygonsInCrs(noncrop, img1->grid().crs(), &reprojectSkips);

  LabelOptions lo;
  lo.borderM = a.borderM;
  lo.boundaryPx = a.boundaryPx;

  std::vector<std::string> manifest;
  int chipsWritten = 0, chipsSkipped = 0;
  for (int scale : scales) {
    std::unique_ptr<RasterSource> owned;
    const RasterSource* src = img1.get();
    if (scale != 1) {
      OpenOptions o = base;
      o.gsdM = baseGsd * scale;
      owned = openRaster(splitList(a.image), o);
      src = owned.get();
    }
    const GridSpec& grid = src->grid();
    // The image and its labels are held whole (about 32 bytes a pixel with four bands).
    checkPixelBudget("labels", "the image at " + fmt("%.3g", grid.gsdMeters()) + " m",
                     static_cast<double>(grid.width()) * static_cast<double>(grid.height()),
                     a.maxMpx, "--max-mpx");
    const Raster<float> whole = src->read(grid.fullWindow());
    LabelStats st;
    const LabelStack labels = buildLabelStack(polys, bgPolys, grid, lo, &whole.valid, &st);

    if (scale == scales.front()) reportPolygons(a, grid, polys, st, rep, ncRep, reprojectSkips);
    logLine("labels: scale " + std::to_string(scale) + ": grid " + std::to_string(grid.width()) +
            "x" + std::to_string(grid.height()) + " at " + fmt("%.3g", grid.gsdMeters()) +
            " m, border " + fmt("%.2f", st.borderPx) + " px, boundary " +
            std::to_string(a.boundaryPx) + " px, labelled fraction " +
            fmt("%.4f", st.labelledFraction));

    if (scale == 1 && !a.out.empty()) writeLabelsTif(a, grid, labels, st);
    if (!a.chips.empty()) {
      ChipSource cs;
      cs.image = src;
      cs.labels = &labels;
      cs.sourceImage = a.image;
      cs.sourceFields = a.fields;
      cs.stem = stemOf(a.image);
      cs.scale = scale;
      cs.bandStats = computeStats(*src);
      ChipOptions co;
      co.chipPx = a.chipPx;
      co.stridePx = a.chipStride;
      co.minLabelled = a.minLabelled;
      ChipReport cr = writeChips(cs, a.chips, co);
      chipsWritten += cr.written;
      chipsSkipped += cr.skippedLowLabel;
      manifest.insert(manifest.end(), cr.manifestLines.begin(), cr.manifestLines.end());
    }
  }
  if (!a.chips.empty()) {
    const int replaced = updateManifest(a.chips, a.image, manifest);
    logLine("labels: chips: " + std::to_string(chipsWritten) + " written, " +
            std::to_string(chipsSkipped) + " skipped (labelled fraction < " +
            fmt("%g", a.minLabelled) + ")" +
            (replaced ? ", replaced " + std::to_string(replaced) + " old manifest lines" : "") +
            " -> " + a.chips + "/manifest.jsonl");
  }
}

const Registrar kRegistrar(
    "labels", "Weak labels: partial field polygons -> masked training targets and chips", 30,
    [](CLI::App& sub) {
      auto a = std::make_shared<LabelsArgs>();
      addFlagConfigOption(sub, a->config);
      sub.add_option("--image", a->image, "Image (anything GDAL opens)")->required();
      sub.add_option("--fields", a->fields, "Field polygons (any OGR source, any CRS)")->required();
      sub.add_option("--noncrop", a->noncrop, "Polygons of labelled non-crop background");
      sub.add_option("--layer", a->layer,
                     "Layer of --fields to read (default: all polygon layers)");
      sub.add_option("--split", a->split,
                     "Keep the west or east half of the fields (centroid longitude, median)");
      addGsdAndBudgetOptions(sub, a->gsdM, a->maxMpx, "Target GSD in metres (default: native)",
                             "an image at the target GSD");
      sub.add_option("--border-m", a->borderM,
                     "Border strip removed from each field's extent, metres (default: 1 pixel)")
          ->check(CLI::Range(0.0, 1000.0));
      sub.add_option("--boundary-px", a->boundaryPx, "Boundary half-width in pixels")
          ->check(CLI::Range(0, 64))
          ->capture_default_str();
      sub.add_option("--bands", a->bands, "Bands to use, names or 1-based indices (default: all)");
      sub.add_option("--out", a->out, "Output label GeoTIFF (extent, boundary, distance, mask)");
      sub.add_option("--chips", a->chips, "Write training chips and manifest.jsonl into DIR");
      sub.add_option("--chip-px", a->chipPx, "Chip size in pixels")
          ->check(CLI::Range(16, 4096))
          ->capture_default_str();
      sub.add_option("--chip-stride", a->chipStride, "Chip stride in pixels")
          ->check(CLI::Range(1, 4096))
          ->capture_default_str();
      sub.add_option("--min-labelled", a->minLabelled,
                     "Skip chips with a smaller labelled fraction")
          ->capture_default_str();
      sub.add_option("--scales", a->scales,
                     "Also label/chip at these multiples of the GSD, e.g. 1,2,3")
          ->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace existing outputs");
      sub.callback([a, &sub] {
        a->flags = resolvedFlags(sub);
        run(*a);
      });
    });

}  // namespace
}  // namespace fieldseg::cli
