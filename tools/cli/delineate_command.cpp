// `fieldseg delineate IMAGE... (--model MODEL | --probabilities-in PROBS.tif)
//  --out FIELDS.(geojson|gpkg|fgb|geojsonl) [--probabilities PROBS.tif] [--aoi POLY] [--tile-px N]
//  [--halo-px N] [--batch N] [--threads N] [--precision P] [--gsd M] [--bands LIST] [--t-ext T]
//  [--t-bound T]
//  [--min-area-m2 A] [--simplify-m S] [--crs CRS] [--overwrite]`: field polygons from imagery
// (see include/fieldseg/delineate.hpp). Each IMAGE is one date (co-registered dates are averaged);
// a date made of single-band files is given as a comma-separated list.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "aoi.hpp"
#include "card_thresholds.hpp"
#include "command.hpp"
#include "config_file.hpp"
#include "delineate_args.hpp"
#include "fieldseg/checksum.hpp"
#include "fieldseg/datetime.hpp"
#include "fieldseg/delineate.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/field_writer.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/file_env.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "fieldseg/tta.hpp"
#include "fieldseg/version.hpp"
#include "grid_run.hpp"
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
using json = nlohmann::json;

// Every check that can refuse the call before any work: colliding paths, flag combinations,
// existing outputs, the output folder; removes the temp files of killed runs. Returns the folder
// the outputs go to.
fs::path checkBeforeWork(const DelineateArgs& a, bool gridMode) {
  {
    std::vector<NamedPath> inputs{{"--model", a.model},
                                  {"--probabilities-in", a.probabilitiesIn},
                                  {"--aoi", a.aoi},
                                  {"--config", a.config}};
    for (const auto& i : a.images) inputs.emplace_back("IMAGE", i);
    const std::string record = a.out.empty() ? "" : runRecordPath(a.out);
    refuseSamePaths(
        "delineate",
        {{"--out", a.out}, {"--out's run record", record}, {"--probabilities", a.probabilitiesOut}},
        inputs);
  }
  if (!a.probabilitiesIn.empty() && !a.probabilitiesOut.empty())
    throw UsageError(
        "delineate: --probabilities writes the network's probabilities, and with "
        "--probabilities-in no network runs. Drop --probabilities (the input already is them).");
  if (!a.probabilitiesIn.empty() && a.gsd != "auto")
    throw UsageError(
        "delineate: --gsd resamples the imagery the network reads, and with "
        "--probabilities-in no network runs. Drop --gsd (or resample the probabilities with "
        "gdalwarp first).");
  if (!a.probabilitiesIn.empty() && a.precision != "auto")
    throw UsageError(
        "delineate: --precision sets the network's arithmetic, and with "
        "--probabilities-in no network runs. Drop --precision.");
  if (!a.probabilitiesIn.empty() && a.tta > 1)
    throw UsageError(
        "delineate: --tta averages the network over flips, and with --probabilities-in no "
        "network runs. Drop --tta.");
  // Checks that need no I/O come first, so a bad call writes nothing.
  if (a.model.empty() && a.probabilitiesIn.empty())
    throw UsageError(
        "delineate: give --model (run the network) or --probabilities-in (cut given "
        "probabilities into fields; add --model to use that model card's thresholds).");
  if (a.images.empty() && a.probabilitiesIn.empty() && !gridMode)
    throw UsageError("delineate: no IMAGE given. Pass the image (one per date) before the flags.");
  if (!gridMode && !knownVectorExtension(a.out))
    throw UsageError("delineate: output '" + a.out +
                     "' has an unknown extension. Use .geojson, .gpkg, .fgb or .geojsonl.");
  if (!a.overwrite && fs::exists(a.out))
    throw UsageError("delineate: output '" + a.out +
                     "' exists. Pass --overwrite to replace it, or choose another --out.");
  if (!a.overwrite && !a.probabilitiesOut.empty() && fs::exists(a.probabilitiesOut))
    throw UsageError("delineate: probabilities output '" + a.probabilitiesOut +
                     "' exists. Pass --overwrite to replace it.");
  const fs::path outDir = fs::absolute(gridMode ? a.grid.outDir : a.out).parent_path();
  if (!fs::is_directory(outDir))
    throw IoError("delineate: output folder '" + outDir.string() +
                  "' does not exist. Create it first.");
  // Temp files of runs that were killed (kill -9, power loss) would otherwise stay for ever.
  for (const fs::path& d :
       {outDir,
        a.probabilitiesOut.empty() ? outDir : fs::absolute(a.probabilitiesOut).parent_path()})
    if (const int n = removeStaleTemps(d.string()); n > 0)
      logLine("delineate: removed " + std::to_string(n) + " temp file(s) left by killed runs in '" +
              d.string() + "'");
  for (const auto& img : a.images)
    for (const auto& f : splitList(img))
      if (f.rfind("/vsi", 0) != 0 && !fs::exists(f))
        throw IoError("delineate: cannot open image '" + f + "': no such file. Check the path.");
  return outDir;
}

struct LoadedModel {
  ModelInfo info;
  std::unique_ptr<Predictor> predictor;
  std::unique_ptr<Predictor> tta;  // wraps `predictor` when --tta > 1
};

// --model: the card (name, version, GSD range, thresholds into `o`) and the network, wired into
// `in`; with --probabilities-in, the card only (its thresholds cut the given probabilities).
LoadedModel loadModelInto(const DelineateArgs& a, DelineateOptions& o, DelineateInput& in) {
  LoadedModel m;
  ModelInfo& model = m.info;
  std::unique_ptr<Predictor>& predictor = m.predictor;
  std::unique_ptr<Predictor>& ttaPredictor = m.tta;
  if (!a.model.empty()) {
#ifdef FIELDSEG_WITH_MODEL
    if (!fs::exists(a.model))
      throw IoError("delineate: cannot open model '" + a.model + "': no such file.");
    try {
      model.card = json::parse(readModelCard(a.model));
    } catch (const json::exception& e) {
      throw DataError("delineate: model card of '" + a.model + "' is not JSON: " + e.what());
    }
    model.name = cardString(model.card, "name", fs::path(a.model).stem().string(), a.model);
    model.version = cardString(model.card, "fieldseg_version", "", a.model);
    model.gsdRange = cardGsdRange(model.card, a.model);
    o.thresholds = cardThresholds(model.card, a.model, o.thresholds);
    if (!a.probabilitiesIn.empty()) {  // no network runs; the fields' "model" names the file
      logLine("delineate: cutting '" + a.probabilitiesIn + "' with the thresholds of " +
                  model.name + "'s card",
              true);
      return m;
    }
    ModelLoadOptions lo;
    lo.threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
    lo.precision = a.precision;
    model.precision = resolvePrecision(lo);
    if (model.precision == "bf16") model.cpuBf16 = cpuNativeBf16();
    predictor = loadModel(a.model, lo);
    in.predictor = predictor.get();
    if (a.tta > 1) {
      ttaPredictor = makeTtaPredictor(*predictor, a.tta);
      in.predictor = ttaPredictor.get();
    }
    in.modelName = model.version.empty() ? model.name : model.name + "@" + model.version;
#else
    (void)o;
    (void)in;
    (void)model;
    (void)predictor;
    (void)ttaPredictor;
    throw UsageError(
        "delineate: this fieldseg was built without LibTorch, so --model is not "
        "available. Rebuild with -DFIELDSEG_WITH_TORCH=ON or use --probabilities-in.");
#endif
  }
  return m;
}

// The dates to read (and o.bands / o.dateBands) from the IMAGEs and --bands.
DelineateInput inputsFrom(const DelineateArgs& a, DelineateOptions& o) {
  DelineateInput in;
  for (const auto& img : a.images)
    for (auto& date : imageDateFiles(img)) in.dates.push_back(std::move(date));
  in.probabilitiesIn = a.probabilitiesIn;
  if (a.bands.size() > 1) {
    // Per-date bands: one image read once per selection (a two-date 8-band file), or pairwise.
    if (in.dates.size() == 1) in.dates.assign(a.bands.size(), in.dates.front());
    if (in.dates.size() != a.bands.size())
      throw UsageError("delineate: " + std::to_string(a.bands.size()) + " --bands for " +
                       std::to_string(a.images.size()) +
                       " images. Give one --bands for all dates, one per IMAGE, or several for one "
                       "IMAGE that holds several dates.");
    for (const auto& b : a.bands) o.dateBands.push_back(splitList(b));
  }
  if (a.bands.size() == 1) o.bands = splitList(a.bands.front());
  return in;
}

// The output file's options: fiboa string ids and version, --overwrite, --crs.
VectorWriteOptions writeOptionsFrom(const DelineateArgs& a) {
  VectorWriteOptions wo;
  wo.overwrite = a.overwrite;
  wo.stringIds = true;  // fiboa: "id" is a string (tiles/delineate.cpp makes it stable)
  wo.collectionMetadata = {{"fiboa_version", kFiboaVersion}};
  if (!a.crs.empty()) {
    try {
      wo.crs = Crs::fromUserInput(a.crs);
    } catch (const DataError& e) {
      throw UsageError(std::string("delineate: --crs: ") + e.what());
    }
  }
  return wo;
}

void run(const DelineateArgs& a) {
  const bool gridMode = gridRunRequested(a.grid);
  const fs::path outDir = checkBeforeWork(a, gridMode);
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const std::string startedUtc = utcNow();
  // Keep GDAL's block cache small: the pipeline streams, so a big cache only inflates memory.
  ::setenv("GDAL_CACHEMAX", "64", 0);

  DelineateOptions o;
  DelineateInput in = inputsFrom(a, o);
  o.tilePx = a.tilePx;
  o.haloPx = a.haloPx;
  o.batch = a.batch;
  o.threads = cappedThreads(a.threads, "delineate");
  o.gsdM = parseGsdFlag(a.gsd, "delineate");
  o.maxMpx = a.maxMpx;
  // The probabilities go to a temp sibling and are renamed into place only once the fields are
  // written: a killed run never leaves a complete-looking probabilities file that blocks the rerun.
  const std::string probsTemp = a.probabilitiesOut.empty() ? "" : tempSibling(a.probabilitiesOut);
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() {
      std::error_code ec;
      if (!path.empty()) fs::remove(path, ec);
    }
  } probsGuard{probsTemp};
  o.probabilitiesOut = probsTemp;
  o.overwrite = a.overwrite;
  o.tempDir = outDir.string();
  if (!a.aoi.empty()) o.aoi = readAoi(a.aoi, "delineate");
  if (!a.datetime.empty()) o.datetime = *isoUtc(a.datetime);  // checked when parsed

  LoadedModel loaded = loadModelInto(a, o, in);
  ModelInfo& model = loaded.info;
  // The first input, opened once here: its native GSD (for --gsd auto) and the fields' CRS.
  std::unique_ptr<RasterSource> firstInput;
  if (!in.dates.empty() || !in.probabilitiesIn.empty())
    firstInput =
        openRaster(in.probabilitiesIn.empty() ? in.dates.front()
                                              : std::vector<std::string>{in.probabilitiesIn});
  if (a.gsd == "auto" && model.gsdRange && !in.dates.empty() && in.probabilitiesIn.empty()) {
    const double native = firstInput->grid().gsdMeters();
    model.gsdNote = autoGsdNote(native, *model.gsdRange, o.gsdM);
    if (!model.gsdNote.empty()) logLine("delineate: " + model.gsdNote);
  }
  for (std::size_t i = 0; i < thresholdSpecs().size(); ++i)
    if (a.thresholds[i]) o.thresholds.*thresholdSpecs()[i].member = *a.thresholds[i];
  if (a.simplifyM) o.simplifyM = *a.simplifyM;
  // Grid mode (src/batch): each cell of this shard goes to its own file in --out-dir.
  if (gridMode) return runGridShard(a.grid, in, o);

  // Fields stream into the writer (one transaction, temp file renamed on close), so memory does
  // not grow with the number of fields and a failure leaves nothing behind.
  std::unique_ptr<FieldWriter> writer;
  Crs fieldsCrs;
  double writeS = 0;
  o.sink = [&](Field&& f) {
    const auto tw = Clock::now();
    writer->add(std::move(f));
    writeS += std::chrono::duration<double>(Clock::now() - tw).count();
  };

  // One bar and one ETA over the whole job: the network's pass weighs most where it runs.
  std::optional<Progress> bar;
  const std::vector<Progress::Stage> stages =
      a.probabilitiesIn.empty() ? std::vector<Progress::Stage>{{"predict", 0.85}, {"fields", 0.15}}
                                : std::vector<Progress::Stage>{{"fields", 1.0}};
  o.progress = [&](const std::string& s, long long done, long long total, long long px) {
    if (!bar) bar.emplace("delineate", stages, "tiles");
    bar->update(s, done, total, px);
  };
  // The writer needs the fields' CRS: the first input's (delineate opens the sources again).
  fieldsCrs = firstInput->grid().crs();
  firstInput.reset();
  VectorWriteOptions wo = writeOptionsFrom(a);
  // GeoJSON is reprojected and formatted on the worker threads, in batches (same bytes).
  wo.threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  writer = std::make_unique<FieldWriter>(a.out, fieldsCrs, delineateFieldSchema(), wo);
  DelineateResult res = delineate(in, o);
  if (in.predictor) model.kernels = in.predictor->kernels();
  if (bar) bar->finish();
  const auto& rep = res.report;
  const auto tw = Clock::now();
  writer->close();
  if (!probsTemp.empty()) {
    probsGuard.path.clear();  // publishFile removes the temp file if it fails
    publishFile(probsTemp, a.probabilitiesOut, "delineate");
  }
  writeS += std::chrono::duration<double>(Clock::now() - tw).count();
  const double totalS = std::chrono::duration<double>(Clock::now() - t0).count();

  logSummary(a, o, model, rep, totalS, writeS);

  writeRunRecord(a, o, model, rep, {writeS, totalS}, startedUtc);
}

const Registrar registrar(
    "delineate", "Field polygons from imagery: tiled inference + watershed instances", 30,
    [](CLI::App& sub) {
      auto a = std::make_shared<DelineateArgs>();
      sub.add_option("images", a->images,
                     "Image(s): one per date (dates are averaged); a date of single-band files "
                     "is a comma-separated list");
      sub.add_option("--model", a->model,
                     "Model file, or a shipped model name (fieldseg models list); its card gives "
                     "bands and thresholds");
      sub.add_option("--probabilities-in", a->probabilitiesIn,
                     "Use these probabilities instead of running a model: bands 1-3 = extent, "
                     "boundary, distance on the image grid (e.g. `fieldseg labels` or "
                     "`delineate --probabilities` output); with --model, cut them with that "
                     "model card's thresholds (else the defaults)");
      sub.add_option("--out", a->out, "Output fields: .geojson (RFC 7946), .gpkg, .fgb, .geojsonl")
          ->required();
      sub.add_option("--probabilities", a->probabilitiesOut,
                     "Also write the probability mosaic (uint8 extent/boundary/distance GeoTIFF)");
      sub.add_option("--aoi", a->aoi,
                     "Only delineate inside these polygons (any vector file) or this lon/lat box "
                     "minlon,minlat,maxlon,maxlat");
      sub.add_option("--tile-px", a->tilePx, "Tile core size in pixels")
          ->check(CLI::Range(32, 8192))
          ->capture_default_str();
      sub.add_option("--halo-px", a->haloPx, "Network context around each tile, in pixels")
          ->check(CLI::Range(0, 1024))
          ->capture_default_str();
      sub.add_option("--batch", a->batch, "Tiles per network call")
          ->check(CLI::Range(1, 256))
          ->capture_default_str();
      sub.add_option("--threads", a->threads, "Worker threads (0 = all cores)")
          ->capture_default_str();
      addModelGsdAndBudgetOptions(sub, a->gsd, a->maxMpx, "a processed window");
      sub.add_option(
             "--bands", a->bands,
             "Bands to feed the model (names or 1-based indices); default: the model's. "
             "Repeat it to select bands per date: one IMAGE with --bands 1,2,3,4 --bands "
             "5,6,7,8 reads two dates from one 8-band file; N IMAGEs with N --bands pair up")
          ->allow_extra_args(false);
      sub.add_option("--tta", a->tta,
                     "Test-time augmentation: average the network over 1, 2, 4 or 8 flips / "
                     "rotations of every tile (8 = all, 8x the network time)")
          ->capture_default_str()
          ->check(CLI::IsMember({1, 2, 4, 8}));
      sub.add_option("--precision", a->precision,
                     "Network arithmetic: auto (bf16 where the CPU has AMX-BF16 or AVX512-BF16, "
                     "else fp32), "
                     "fp32 or bf16 (CPU only)")
          ->capture_default_str()
          ->check(CLI::IsMember({"auto", "fp32", "bf16"}));
      for (std::size_t i = 0; i < thresholdSpecs().size(); ++i) {
        const ThresholdSpec& t = thresholdSpecs()[i];
        char fallback[32];
        std::snprintf(fallback, sizeof fallback, "%g", Thresholds{}.*t.member);
        sub.add_option(t.flag, a->thresholds[i],
                       std::string(t.help) + " (default: model card, else " + fallback + ")");
      }
      sub.add_option("--simplify-m", a->simplifyM,
                     "Topology-preserving simplification tolerance in metres (default 0: exact "
                     "pixel edges)");
      sub.add_option("--crs", a->crs, "Output CRS for .gpkg/.fgb (GeoJSON is always lon/lat)");
      sub.add_option("--datetime", a->datetime,
                     "Every field's determination_datetime, ISO 8601 (2021-08-01 or "
                     "2021-08-01T10:30:00+02:00; stored in UTC); default: the first date's "
                     "acquisition time from STAC or TIFF metadata")
          ->check(CLI::Validator(
              [](std::string& v) -> std::string {
                return isoUtc(v) ? std::string()
                                 : "'" + v + "' is not an ISO 8601 date (YYYY-MM-DD[THH:MM:SS][Z])";
              },
              "ISO8601"));
      sub.add_flag("--overwrite", a->overwrite, "Replace existing outputs");
      addFlagConfigOption(sub, a->config);
      addGridRunOptions(sub, a->grid);
      sub.callback([a, &sub] {
        a->flags = resolvedFlags(sub);
        a->model = resolveModel(a->model, "--model");
        run(*a);
      });
    });

}  // namespace
}  // namespace fieldseg::cli
