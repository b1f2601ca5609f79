// `fieldseg suggest --probabilities-in PROBS.tif... [--labels EXISTING] --out SUGGEST.gpkg
//  [--count N] [--window-px N] [--max-labelled-fraction F] [--overwrite]`: the windows where the
// model is least sure (include/fieldseg/suggest.hpp), ranked across every given probability file,
// as polygons an annotator opens in QGIS and draws fields in. The probabilities come from
// `fieldseg delineate IMAGE --model M --probabilities PROBS.tif`.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/suggest.hpp"
#include "fieldseg/weak_labels.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct SuggestArgs {
  std::vector<std::string> probabilities;
  std::string labels, out;
  SuggestOptions o;
  bool overwrite = false;
};

struct Ranked {
  Suggestion s;
  size_t file = 0;
  GridSpec grid;
};

Polygon windowPolygon(const GridSpec& g, const PixelWindow& w) {
  Polygon p;
  for (auto [c, r] : {std::pair<int, int>{w.x, w.y},
                      {w.x + w.width, w.y},
                      {w.x + w.width, w.y + w.height},
                      {w.x, w.y + w.height}})
    p.exterior.push_back(g.pixelToWorld(c, r));
  return p;
}

void run(const SuggestArgs& a) {
  std::vector<NamedPath> inputs{{"--labels", a.labels}};
  for (const auto& p : a.probabilities) inputs.emplace_back("--probabilities-in", p);
  refuseSamePaths("suggest", {{"--out", a.out}, {"--out's run record", runRecordPath(a.out)}},
                  inputs);
  if (!a.overwrite && fs::exists(a.out))
    throw UsageError("suggest: output '" + a.out + "' exists. Pass --overwrite to replace it.");
  checkVectorOutput("suggest", "--out", a.out);
  checkOutputFolder("suggest", "--out", a.out);
  FieldSet labels;
  if (!a.labels.empty()) labels = readFields(a.labels);
  std::vector<Ranked> all;
  SuggestReport total;
  Crs outCrs;
  for (size_t i = 0; i < a.probabilities.size(); ++i) {
    const std::string& path = a.probabilities[i];
    OpenOptions po;
    po.bands = {"1", "2"};
    std::unique_ptr<RasterSource> src;
    try {
      src = openRaster({path}, po);
    } catch (const UsageError& e) {
      throw DataError("suggest: probabilities '" + path +
                      "' need bands 1-2 (extent, boundary): " + e.what());
    }
    const auto& b = src->bands()[0];
    const bool bytes = b.dataType == "Byte" && b.scale == 1 && b.offset == 0;
    if (i == 0) outCrs = src->grid().crs();
    const std::vector<Polygon> lab =
        labels.fields.empty() ? std::vector<Polygon>{} : polygonsInCrs(labels, src->grid().crs());
    SuggestReport rep;
    for (auto& s : suggestWindows(*src, bytes, lab, a.o, &rep)) all.push_back({s, i, src->grid()});
    total.windows += rep.windows;
    total.skippedLabelled += rep.skippedLabelled;
    total.skippedNodata += rep.skippedNodata;
    total.skippedNoCrop += rep.skippedNoCrop;
  }
  // Every window of every file competes; only the best `count` overall are kept.
  std::stable_sort(all.begin(), all.end(),
                   [](const Ranked& x, const Ranked& y) { return x.s.score > y.s.score; });
  if (all.size() > static_cast<size_t>(a.o.count)) all.resize(a.o.count);

  FieldSet out;
  out.crs = outCrs;
  for (size_t k = 0; k < all.size(); ++k) {
    const Ranked& r = all[k];
    FieldSet one;
    one.crs = r.grid.crs();
    Field f;
    f.id = static_cast<std::int64_t>(k) + 1;
    f.polygon = windowPolygon(r.grid, r.s.window);
    f.attrs["rank"] = static_cast<std::int64_t>(k) + 1;
    f.attrs["score"] = r.s.score;
    f.attrs["extent_entropy"] = r.s.extentEntropy;
    f.attrs["boundary_entropy"] = r.s.boundaryEntropy;
    f.attrs["mean_extent"] = r.s.meanExtent;
    f.attrs["labelled_fraction"] = r.s.labelledFraction;
    f.attrs["probabilities"] = fs::path(a.probabilities[r.file]).filename().string();
    f.attrs["col"] = static_cast<std::int64_t>(r.s.window.x);
    f.attrs["row"] = static_cast<std::int64_t>(r.s.window.y);
    one.fields.push_back(std::move(f));
    if (!one.crs.sameAs(outCrs)) one = reproject(one, outCrs);
    out.fields.push_back(std::move(one.fields.front()));
  }
  VectorWriteOptions wo;
  wo.overwrite = a.overwrite;
  wo.layerName = "suggestions";
  writeFields(out, a.out, wo);

  json j = runRecordHead("suggest");
  j["config"] = {{"window_px", a.o.windowPx},
                 {"count", a.o.count},
                 {"max_labelled_fraction", a.o.maxLabelledFraction},
                 {"min_valid_fraction", a.o.minValidFraction},
                 {"min_mean_extent", a.o.minMeanExtent},
                 {"score", "mean of the extent and boundary binary entropies (bits)"}};
  json ins = json::array();
  for (const auto& p : a.probabilities) ins.push_back(fileEntry(p));
  j["inputs"] = {{"probabilities", ins},
                 {"labels", a.labels.empty() ? json() : fileEntry(a.labels)}};
  j["result"] = {{"suggestions", out.fields.size()},
                 {"windows", total.windows},
                 {"skipped_labelled", total.skippedLabelled},
                 {"skipped_nodata", total.skippedNodata},
                 {"skipped_no_crop", total.skippedNoCrop}};
  writeTextAtomically(runRecordPath(a.out), j.dump(2), "suggest");
  char line[512];
  std::snprintf(line, sizeof line,
                "suggest: %zu of %lld windows of %d px (%lld already labelled, %lld nodata, %lld "
                "without crop skipped), top score %.3f -> %s",
                out.fields.size(), total.windows, a.o.windowPx, total.skippedLabelled,
                total.skippedNodata, total.skippedNoCrop, all.empty() ? 0.0 : all.front().s.score,
                a.out.c_str());
  logLine(line);
}

const Registrar registrar(
    "suggest", "Where to label next: the windows the model is least sure of", 55,
    [](CLI::App& sub) {
      auto a = std::make_shared<SuggestArgs>();
      sub.add_option("--probabilities-in", a->probabilities,
                     "Probabilities (bands 1-2 = extent, boundary), e.g. from `fieldseg delineate "
                     "IMAGE --model M --probabilities P.tif`; repeat for several images: windows "
                     "are ranked across all of them")
          ->required();
      sub.add_option("--labels", a->labels,
                     "Fields already labelled (any vector file): windows holding them are skipped");
      sub.add_option("--out", a->out,
                     "Output windows: .gpkg (open and edit in QGIS), .geojson, .fgb, .geojsonl; "
                     "attributes rank, score, extent_entropy, boundary_entropy, ...")
          ->required();
      sub.add_option("--count", a->o.count, "Windows to suggest")
          ->check(CLI::Range(1, 1000000))
          ->capture_default_str();
      sub.add_option("--window-px", a->o.windowPx, "Window side in pixels (windows do not overlap)")
          ->check(CLI::Range(8, 4096))
          ->capture_default_str();
      sub.add_option("--max-labelled-fraction", a->o.maxLabelledFraction,
                     "Skip windows with more of their pixels labelled than this")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      sub.add_option("--min-mean-extent", a->o.minMeanExtent,
                     "Skip windows whose mean extent probability is lower (no crop to draw)")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing output");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
