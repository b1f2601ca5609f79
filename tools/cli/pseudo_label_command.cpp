// `fieldseg pseudo-label --fields PREDICTED --out KEPT [--labels HUMAN] [--image IMG]
//  [--min-confidence C] [--min-boundary-strength B] [--min-area-ha A] [--max-area-ha A]
//  [--overwrite]`: self-training's first step. Keeps the fields a model delineated on unlabelled
// imagery that it is sure of (include/fieldseg/pseudo_labels.hpp); `fieldseg labels` then turns
// them into masked training chips and `fieldseg train` learns from human + pseudo manifests.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/pseudo_labels.hpp"
#include "fieldseg/raster_source.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "run_record.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

struct PseudoArgs {
  std::string fields, out, labels, image;
  PseudoLabelOptions o;
  bool overwrite = false;
};

FieldSet readMaybeEmpty(const std::string& path) {
  VectorReadReport rep;
  try {
    return readFields(path, &rep);
  } catch (const DataError& e) {
    // A model that found no field writes an empty layer: nothing to keep, not an error. A file
    // whose features are not polygons (the wrong file) stays an error.
    const std::string m = e.what();
    if (m.rfind("io: no polygons in", 0) != 0 || rep.featuresRead > 0 ||
        m.find("is not polygonal") != std::string::npos)
      throw;
    return {};
  }
}

void run(const PseudoArgs& a) {
  refuseSamePaths("pseudo-label", {{"--out", a.out}, {"--out's run record", runRecordPath(a.out)}},
                  {{"--fields", a.fields}, {"--labels", a.labels}, {"--image", a.image}});
  if (!a.overwrite && fs::exists(a.out))
    throw UsageError("pseudo-label: output '" + a.out +
                     "' exists. Pass --overwrite to replace it.");
  checkVectorOutput("pseudo-label", "--out", a.out);
  checkOutputFolder("pseudo-label", "--out", a.out);
  FieldSet predicted = readMaybeEmpty(a.fields);
  FieldSet labels;
  if (!a.labels.empty()) labels = readFields(a.labels);
  PseudoLabelOptions o = a.o;
  if (!a.image.empty()) {
    // Fields cut by the image edge have one edge that is not a field edge: drop them.
    const GridSpec g = openRaster(splitList(a.image))->grid();
    if (!predicted.fields.empty() && !predicted.crs.sameAs(g.crs()))
      predicted = reproject(predicted, g.crs());
    else if (predicted.fields.empty())
      predicted.crs = g.crs();
    o.frame = g.boxOf(g.fullWindow());
    o.frameMarginM = 0.5 * std::max(g.resX(), g.resY());  // half a pixel, in CRS units
  }
  // Nothing read and no image to take a CRS from: the empty output is written in lon/lat.
  if (predicted.fields.empty() && predicted.crs.empty()) predicted.crs = Crs::wgs84();
  PseudoLabelReport rep;
  const FieldSet kept = selectPseudoLabels(predicted, labels, o, &rep);
  VectorWriteOptions wo;
  wo.overwrite = a.overwrite;
  wo.layerName = "pseudo_labels";
  writeFields(kept, a.out, wo);

  json j = runRecordHead("pseudo-label");
  j["config"] = {{"min_confidence", o.minConfidence},
                 {"min_boundary_strength", o.minBoundaryStrength},
                 {"min_area_ha", o.minAreaHa},
                 {"max_area_ha", o.maxAreaHa},
                 {"drop_fields_touching_the_image_frame", o.frame.has_value()}};
  j["inputs"] = {{"fields", fileEntry(a.fields)},
                 {"labels", a.labels.empty() ? json() : fileEntry(a.labels)},
                 {"image", a.image.empty() ? json() : fileEntry(a.image)}};
  j["result"] = {{"predicted", rep.predicted},
                 {"kept", rep.kept},
                 {"low_confidence", rep.lowConfidence},
                 {"weak_boundary", rep.weakBoundary},
                 {"outside_area_range", rep.outsideAreaRange},
                 {"touch_image_frame", rep.touchFrame},
                 {"overlap_labels", rep.overlapLabels}};
  writeTextAtomically(runRecordPath(a.out), j.dump(2), "pseudo-label");
  char line[512];
  std::snprintf(line, sizeof line,
                "pseudo-label: kept %lld of %lld fields (dropped: %lld low confidence, %lld weak "
                "boundary, %lld area, %lld at the image edge, %lld under human labels) -> %s",
                rep.kept, rep.predicted, rep.lowConfidence, rep.weakBoundary, rep.outsideAreaRange,
                rep.touchFrame, rep.overlapLabels, a.out.c_str());
  logLine(line);
}

const Registrar registrar(
    "pseudo-label", "Self-training: keep the fields a model is sure of as weak labels", 45,
    [](CLI::App& sub) {
      auto a = std::make_shared<PseudoArgs>();
      sub.add_option("--fields", a->fields,
                     "Fields `fieldseg delineate` wrote on unlabelled imagery (they carry "
                     "confidence and boundary_strength)")
          ->required();
      sub.add_option("--out", a->out,
                     "Kept fields (.gpkg, .geojson, .fgb, .geojsonl), each with pseudo = 1; feed "
                     "them to `fieldseg labels`")
          ->required();
      sub.add_option("--labels", a->labels,
                     "Human labels (any vector file): predicted fields over them are dropped, so "
                     "the human labels win");
      sub.add_option("--image", a->image,
                     "The image the fields were delineated on: fields cut by its edge are dropped");
      sub.add_option("--min-confidence", a->o.minConfidence,
                     "Keep fields whose mean extent probability is at least this")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      sub.add_option("--min-boundary-strength", a->o.minBoundaryStrength,
                     "Keep fields whose mean boundary probability on the outline is at least this")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str();
      sub.add_option("--min-area-ha", a->o.minAreaHa, "Drop smaller fields (hectares)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub.add_option("--max-area-ha", a->o.maxAreaHa,
                     "Drop larger fields (hectares; 0 = no limit): a merge of several fields is "
                     "often the largest")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing output");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
