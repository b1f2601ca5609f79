// `fieldseg merge`: all cell outputs of a grid run -> one layer (GPKG / FlatGeobuf / GeoJSON).
#include <memory>
#include <string>

#include "command.hpp"
#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/version.hpp"
#include "guards.hpp"
#include "log.hpp"

namespace fieldseg::cli {
namespace {

struct MergeArgs {
  std::string grid;
  std::string inDir;
  std::string out;
  std::string layer = "fields";
  bool overwrite = false;
};

void run(const MergeArgs& a) {
  refuseSamePaths("merge", {{"--out", a.out}}, {{"--grid", a.grid}});
  batch::GridManifest g = batch::readGrid(a.grid);
  batch::MergeReport rep;
  FieldSet merged = batch::mergeCells(g, a.inDir, &rep);
  VectorWriteOptions wo;
  wo.overwrite = a.overwrite;
  wo.layerName = a.layer;
  wo.collectionMetadata = {{"fiboa_version", kFiboaVersion}};
  writeFields(merged, a.out, wo);
  logLine("merge: " + std::to_string(rep.fields) + " fields from " + std::to_string(rep.cells) +
          " cells -> " + a.out);
  if (rep.duplicatesDropped > 0) {
    logLine("merge: WARNING " + std::to_string(rep.duplicatesDropped) +
            " identical fields arrived from two cells and were kept once: the cells were not run "
            "with the same grid and options.");
  }
}

const Registrar registrar(
    "merge", "Merge the cell outputs of a grid run into one layer with unique ids", 72,
    [](CLI::App& sub) {
      auto a = std::make_shared<MergeArgs>();
      sub.add_option("--grid", a->grid, "Grid manifest (from fieldseg grid)")->required();
      sub.add_option("--in-dir", a->inDir, "The --out-dir of the delineate shards")->required();
      sub.add_option("--out", a->out, "Output: .gpkg, .fgb, .geojson (RFC 7946) or .geojsonl")
          ->required();
      sub.add_option("--layer", a->layer, "Layer name (GPKG)")->capture_default_str();
      sub.add_flag("--overwrite", a->overwrite, "Replace an existing --out");
      sub.callback([a] { run(*a); });
    });

}  // namespace
}  // namespace fieldseg::cli
