// `fieldseg calibrate (--model MODEL --image IMG... | --probabilities-in P...) --truth TRUTH...
//  [--partial] [--out MODEL2] [--t-ext LIST] [--t-bound LIST] [--min-area-m2 LIST] [--report J]`:
// grid search of the post-processing thresholds (t_ext, t_bound, min area) maximising the median
// field IoU over the validation images, from ONE probability pass per image (the network runs once;
// each grid cell only re-runs the watershed and polygonisation). Writes the chosen thresholds into
// a copy of the model's card (--out) and prints the whole grid.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "card_thresholds.hpp"
#include "command.hpp"
#include "config_file.hpp"
#include "fieldseg/delineate.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/eval.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "fieldseg/version.hpp"
#include "guards.hpp"
#include "log.hpp"
#include "model_names.hpp"
#include "run_record.hpp"
#ifdef FIELDSEG_WITH_MODEL
#include "fieldseg/model.hpp"
#endif

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CalibrateArgs {
  std::string config;  ///< --config FILE.json (config_file.hpp)
  std::string model, out, report, bands;
  std::vector<std::string> images, probabilitiesIn, truth;
  std::string tExt = "0.2,0.3,0.35,0.4,0.45,0.5,0.6";
  std::string tBound = "0.1,0.15,0.2,0.25,0.3,0.4,0.5";
  std::string minArea = "0,50,100,200,400";
  std::string tDist = "0";
  std::string markerH = "0.1";
  bool partial = false, overwrite = false, json = false;
  int threads = 0, tilePx = 512;
  std::string gsd = "auto";  ///< auto (into the model's GSD range), native, or metres
  double maxMpx = 1000;
  nlohmann::json
      flags;  ///< every flag as resolved (resolvedFlags): the report's and the card's record
};

std::vector<double> parseAxis(const std::string& text, const ThresholdSpec& spec) {
  const char* flag = spec.flag;
  std::vector<double> v;
  for (const auto& item : splitList(text)) {
    double x = 0;
    std::size_t used = 0;
    try {
      x = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || used == 0 || !inRange(spec, x)) {
      throw UsageError(std::string("calibrate: ") + flag + " '" + text +
                       "' is not a comma-separated list of numbers in " + rangeText(spec) +
                       ". Give e.g. " + flag + " 0.3,0.4,0.5.");
    }
    v.push_back(x);
  }
  if (v.empty()) {
    throw UsageError(std::string("calibrate: ") + flag + " is empty. Give at least one value.");
  }
  return v;
}

// The defaults must be in the grid so the chosen cell can never score below them.
void addValue(std::vector<double>& axis, double v) {
  for (double x : axis) {
    if (std::abs(x - v) < 1e-12) return;
  }
  axis.push_back(v);
  std::sort(axis.begin(), axis.end());
}

// A private temp folder for the probability mosaics, removed on exit.
struct ScratchDir {
  fs::path path;
  // Named like every fieldseg temp file, so the next run removes the folder of a killed one.
  ScratchDir() {
    const fs::path tmp = fs::temp_directory_path();
    if (const int n = removeStaleTemps(tmp.string()); n > 0)
      logLine("calibrate: removed " + std::to_string(n) + " scratch folder(s) of killed runs in '" +
              tmp.string() + "'");
    for (int i = 0; i < 100 && path.empty(); ++i) {
      fs::path p = tempSibling((tmp / "calibrate").string());
      std::error_code ec;
      if (fs::create_directory(p, ec)) path = p;
    }
    if (path.empty()) {
      throw IoError("calibrate: cannot create a temp folder in '" +
                    fs::temp_directory_path().string() + "'. Set TMPDIR to a writable folder.");
    }
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

struct Plan {
  bool withModel = false;   ///< --model given (its card is read, and written with --out)
  bool runNetwork = false;  ///< --model with --image: one network pass per image
  std::size_t n = 0;        ///< images (or probability files)
};

// Every check that can refuse the call before any work (flag combinations, colliding paths,
// output folders, existing outputs).
Plan checkBeforeWork(const CalibrateArgs& a) {
  {
    std::vector<NamedPath> inputs{{"--model", a.model}};
    for (const auto& i : a.images) inputs.emplace_back("--image", i);
    for (const auto& i : a.probabilitiesIn) inputs.emplace_back("--probabilities-in", i);
    for (const auto& i : a.truth) inputs.emplace_back("--truth", i);
    refuseSamePaths("calibrate", {{"--out", a.out}, {"--report", a.report}}, inputs);
  }
  const bool withModel = !a.model.empty();
  // --model with --probabilities-in: the probabilities are that model's (e.g. several dates
  // averaged by `fieldseg delineate --probabilities`); the model only supplies the card.
  const bool runNetwork = withModel && a.probabilitiesIn.empty();
  if (!withModel && a.probabilitiesIn.empty()) {
    throw UsageError(
        "calibrate: give --model with --image, or --probabilities-in (with --model to write the "
        "chosen thresholds into that model's card).");
  }
  const std::size_t n = runNetwork ? a.images.size() : a.probabilitiesIn.size();
  if (n == 0 || a.truth.size() != n) {
    throw UsageError("calibrate: " + std::to_string(n) + " image(s) but " +
                     std::to_string(a.truth.size()) +
                     " --truth file(s): give one truth file per image, in the same order.");
  }
  if (!runNetwork && !a.images.empty()) {
    throw UsageError("calibrate: --image goes with --model; --probabilities-in replaces both.");
  }
  if (!a.out.empty() && !withModel) {
    throw UsageError(
        "calibrate: --out writes a model with calibrated thresholds, so it needs "
        "--model. Use --report to save the grid.");
  }
  checkOutputFolder("calibrate", "--out", a.out);
  checkOutputFolder("calibrate", "--report", a.report);
  for (const auto& path : {a.out, a.report}) {
    if (!path.empty() && !a.overwrite && fs::exists(path)) {
      throw UsageError("calibrate: output '" + path + "' exists. Pass --overwrite.");
    }
  }
  return {withModel, runNetwork, n};
}

// With --model: the card (its thresholds become the defaults) and, with --image, the one network
// pass per image whose probability mosaic every grid cell re-uses (appended to `probs`).
json modelPass(const CalibrateArgs& a, const Plan& plan, const DelineateOptions& base,
               const ScratchDir& scratch, Thresholds& defaults, std::vector<std::string>& probs) {
  json card;
  if (!plan.withModel) return card;
#ifdef FIELDSEG_WITH_MODEL
  const bool runNetwork = plan.runNetwork;
  const std::size_t n = plan.n;
  {
    try {
      card = json::parse(readModelCard(a.model));
    } catch (const json::exception& e) {
      throw DataError("calibrate: model card of '" + a.model + "' is not JSON: " + e.what() +
                      ". Re-create the model with `fieldseg train`.");
    }
    defaults = cardThresholds(card, a.model, defaults);
    const auto gsdRange = cardGsdRange(card, a.model);
    ModelLoadOptions lo;
    lo.threads =
        base.threads > 0 ? base.threads : static_cast<int>(std::thread::hardware_concurrency());
    std::unique_ptr<Predictor> predictor = runNetwork ? loadModel(a.model, lo) : nullptr;
    // The one network pass per image: keep its probability mosaic for every grid cell.
    for (std::size_t i = 0; runNetwork && i < n; ++i) {
      DelineateInput in;
      in.dates = imageDateFiles(a.images[i]);
      in.predictor = predictor.get();
      DelineateOptions o = base;
      // --gsd auto: the same resampling delineate does, so the thresholds fit what it will see.
      if (a.gsd == "auto" && gsdRange) {
        const double native = openRaster(in.dates.front())->grid().gsdMeters();
        const std::string note = autoGsdNote(native, *gsdRange, o.gsdM);
        if (!note.empty()) logLine("calibrate: '" + a.images[i] + "': " + note);
      }
      o.probabilitiesOut = (scratch.path / ("prob_" + std::to_string(i) + ".tif")).string();
      DelineateResult res = delineate(in, o);
      if (res.report.allNodata)
        throw DataError("calibrate: every pixel of '" + a.images[i] +
                        "' is nodata (nodata value, mask, or NaN/Inf): nothing to calibrate "
                        "on. Drop it from --image or fix its nodata setting.");
      logLine("calibrate: probabilities of '" + a.images[i] + "' in " +
              std::to_string(res.report.predictSeconds) + " s");
      probs.push_back(o.probabilitiesOut);
    }
  }
#else
  (void)a;
  (void)base;
  (void)scratch;
  (void)defaults;
  (void)probs;
  throw UsageError(
      "calibrate: this fieldseg was built without LibTorch, so --model is not "
      "available. Rebuild with -DFIELDSEG_WITH_TORCH=ON or use --probabilities-in.");
#endif
  return card;
}

// The grid and the chosen cell: printed (table or --json), written to --report, and into the
// copied model's card with --out.
void reportResults(const CalibrateArgs& a, const Plan& plan, const CalibrationResult& res,
                   const Thresholds& defaults, json& card) {
  const bool runNetwork = plan.runNetwork;
  const CalibrationCell* def = nullptr;
  for (const auto& c : res.cells) {
    if (c.thresholds.tExt == defaults.tExt && c.thresholds.tBound == defaults.tBound &&
        c.thresholds.minAreaM2 == defaults.minAreaM2 && c.thresholds.tDist == defaults.tDist &&
        (defaults.tDist == 0 || c.thresholds.markerH == defaults.markerH)) {
      def = &c;
    }
  }
  const CalibrationCell& best = res.cells[res.best];

  json jgrid = json::array();
  for (const auto& c : res.cells) {
    json cell = thresholdsJson(c.thresholds);
    cell["median_iou"] = c.medianIou;
    cell["mean_iou"] = c.meanIou;
    cell["fields"] = c.fields;
    jgrid.push_back(cell);
  }
  json jbest = thresholdsJson(best.thresholds);
  jbest["median_iou"] = best.medianIou;
  jbest["mean_iou"] = best.meanIou;
  json jdefault = thresholdsJson(defaults);
  jdefault["median_iou"] = def ? def->medianIou : 0.0;
  jdefault["mean_iou"] = def ? def->meanIou : 0.0;
  json summary = {
      {"best", jbest},
      {"default", jdefault},
      {"fields", best.fields},
      {"images", runNetwork ? a.images : a.probabilitiesIn},
      {"truth", a.truth},
      {"partial", a.partial},
      {"fieldseg_version", kVersion},
  };

  if (a.json) {
    json all = summary;
    all["grid"] = jgrid;
    std::printf("%s\n", all.dump(2).c_str());
  } else {
    std::printf("%-7s %-8s %-12s %-7s %-9s %-11s %-9s\n", "t_ext", "t_bound", "min_area_m2",
                "t_dist", "marker_h", "median_iou", "mean_iou");
    for (std::size_t k = 0; k < res.cells.size(); ++k) {
      const auto& c = res.cells[k];
      std::printf("%-7.3g %-8.3g %-12.6g %-7.3g %-9.3g %-11.4f %-9.4f%s\n", c.thresholds.tExt,
                  c.thresholds.tBound, c.thresholds.minAreaM2, c.thresholds.tDist,
                  c.thresholds.markerH, c.medianIou, c.meanIou,
                  k == res.best ? "  <- best" : (&c == def ? "  (default)" : ""));
    }
    std::printf(
        "best: t_ext %.3g, t_bound %.3g, min_area_m2 %.6g, t_dist %.3g, marker_h %.3g: median "
        "field IoU %.4f (default %.4f) over %d fields\n",
        best.thresholds.tExt, best.thresholds.tBound, best.thresholds.minAreaM2,
        best.thresholds.tDist, best.thresholds.markerH, best.medianIou, def ? def->medianIou : 0.0,
        best.fields);
  }
  if (!a.report.empty()) {
    json all = summary;
    all["flags"] = a.flags;
    all["grid"] = jgrid;
    writeTextAtomically(a.report, all.dump(2), "calibrate");
  }
#ifdef FIELDSEG_WITH_MODEL
  if (!a.out.empty()) {
    card["thresholds"] = thresholdsJson(best.thresholds);
    json cal = summary;
    cal["grid_cells"] = res.cells.size();
    cal["flags"] = a.flags;
    card["calibration"] = cal;
    writeModelCard(a.model, a.out, card.dump(2));
    logLine("calibrate: wrote '" + a.out + "' with the chosen thresholds in its card");
  }
#endif
#ifndef FIELDSEG_WITH_MODEL
  (void)card;
#endif
}

void run(const CalibrateArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  const Plan plan = checkBeforeWork(a);
  const std::size_t n = plan.n;
  CalibrationGrid grid{
      parseAxis(a.tExt, thresholdSpec("t_ext")), parseAxis(a.tBound, thresholdSpec("t_bound")),
      parseAxis(a.minArea, thresholdSpec("min_area_m2")),
      parseAxis(a.tDist, thresholdSpec("t_dist")), parseAxis(a.markerH, thresholdSpec("marker_h"))};

  Thresholds defaults;  // DelineateOptions' defaults unless the card says otherwise
  json card;
  ScratchDir scratch;
  std::vector<std::string> probs = a.probabilitiesIn;
  DelineateOptions base;
  base.threads = cappedThreads(a.threads, "calibrate");
  base.tilePx = a.tilePx;
  base.gsdM = parseGsdFlag(a.gsd, "calibrate");
  base.maxMpx = a.maxMpx;
  base.bands = splitList(a.bands);
  base.tempDir = scratch.path.string();
  defaults = base.thresholds;

  card = modelPass(a, plan, base, scratch, defaults, probs);
  // Given probabilities with no valid pixel (all nodata or NaN) would calibrate on nothing.
  for (const auto& p : a.probabilitiesIn) {
    if (!hasValidPixels(*openRaster(splitList(p))))
      throw DataError("calibrate: every pixel of '" + p +
                      "' is nodata (nodata value, mask, or NaN/Inf): nothing to calibrate on. "
                      "Drop it from --probabilities-in.");
  }
  addValue(grid.tExt, defaults.tExt);
  addValue(grid.tBound, defaults.tBound);
  addValue(grid.minAreaM2, defaults.minAreaM2);
  addValue(grid.tDist, defaults.tDist);
  addValue(grid.markerH, defaults.markerH);

  std::vector<FieldSet> truth;
  for (const auto& t : a.truth) truth.push_back(readFields(t));

  EvalOptions eo;
  eo.partial = a.partial;
  eo.threads = base.threads;
  long long calls = 0;
  DelineateFn fn = [&](std::size_t i, const Thresholds& t) {
    DelineateInput in;
    in.probabilitiesIn = probs[i];
    DelineateOptions o = base;
    o.thresholds = t;
    ++calls;
    return delineate(in, o).fields;
  };
  std::size_t markerCells = 0;  // t_dist values in marker mode each try every marker height
  for (double td : grid.tDist) markerCells += td > 0 ? grid.markerH.size() : 1;
  const std::size_t cells =
      grid.tExt.size() * grid.tBound.size() * grid.minAreaM2.size() * markerCells;
  logLine("calibrate: " + std::to_string(cells) + " grid cells x " + std::to_string(n) +
          " image(s)");
  CalibrationResult res = calibrate(fn, truth, grid, eo);

  reportResults(a, plan, res, defaults, card);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  char buf[160];
  std::snprintf(buf, sizeof buf, "calibrate: %lld delineations in %.1f s", calls, s);
  logLine(buf);
}

const Registrar kRegistrar(
    "calibrate",
    "Grid-search t_ext / t_bound / min area maximising median field IoU; write them into the card",
    61, [](CLI::App& sub) {
      auto a = std::make_shared<CalibrateArgs>();
      addFlagConfigOption(sub, a->config);
      sub.add_option("--model", a->model, "Model to calibrate (a file or a shipped model name)");
      sub.add_option("--image", a->images,
                     "Validation image(s), one per --truth (a stack of single-band files is a "
                     "comma-separated list)");
      sub.add_option("--probabilities-in", a->probabilitiesIn,
                     "Instead of --image: probability rasters (bands extent, boundary, "
                     "distance), one per --truth; with --model, that model's (its card is "
                     "what --out rewrites)");
      sub.add_option("--truth", a->truth, "Reference fields for each image (any OGR source)")
          ->required();
      sub.add_flag("--partial", a->partial,
                   "Truth outlines only some fields (see `fieldseg evaluate --help`); field IoU "
                   "itself only ever scores the outlined fields");
      sub.add_option("--out", a->out, "Write a copy of --model with the chosen thresholds");
      sub.add_option("--report", a->report, "Write the grid and the choice as JSON");
      sub.add_option("--t-ext", a->tExt, "Extent thresholds to try")->capture_default_str();
      sub.add_option("--t-bound", a->tBound, "Boundary thresholds to try")->capture_default_str();
      sub.add_option("--t-dist", a->tDist,
                     "Marker thresholds on the distance head to try (0 = basin floors are markers)")
          ->capture_default_str();
      sub.add_option("--marker-h", a->markerH,
                     "Marker heights (dynamics) to try with every --t-dist > 0")
          ->capture_default_str();
      sub.add_option("--min-area-m2", a->minArea, "Minimum field areas to try (m2)")
          ->capture_default_str();
      sub.add_option("--threads", a->threads, "Worker threads (0 = all cores)");
      sub.add_option("--tile-px", a->tilePx, "Tile core size in pixels")
          ->check(CLI::Range(32, 8192))
          ->capture_default_str();
      addModelGsdAndBudgetOptions(sub, a->gsd, a->maxMpx, "an image");
      sub.add_option("--bands", a->bands, "Bands to feed the model; default: the model's");
      sub.add_flag("--json", a->json, "Print the grid as JSON instead of a table");
      sub.add_flag("--overwrite", a->overwrite, "Replace existing outputs");
      sub.footer(
          "The card's thresholds (or 0.4 / 0.2 / 100 without a model) are always added to the "
          "grid, so the choice never scores below them on this data. Ties: higher mean IoU, then "
          "the earlier cell. Every grid cell re-runs only the post-processing on the stored "
          "probabilities.");
      sub.callback([a, &sub] {
        a->flags = resolvedFlags(sub);
        a->model = resolveModel(a->model, "--model");
        run(*a);
      });
    });

}  // namespace
}  // namespace fieldseg::cli
