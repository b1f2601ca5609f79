// `fieldseg info IMAGE... [--json] [--bands LIST] [--stack] [--window X,Y,W,H]`: what a raster is
// (size, CRS, GSD in metres, lon/lat bounds, bands, robust per-band statistics), or the card of a
// fieldseg model file.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/geo.hpp"
#include "fieldseg/raster_source.hpp"
#include "guards.hpp"
#include "model_names.hpp"
#ifdef FIELDSEG_WITH_MODEL
#include "fieldseg/model.hpp"
#endif

namespace fieldseg::cli {
namespace {

using nlohmann::ordered_json;

struct InfoOptions {
  std::vector<std::string> images;
  bool json = false;
  bool stack = false;
  std::string bands;
  std::string window;
  int maxSidePx = 1024;
};

std::vector<std::string> splitKeepingEmpty(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

PixelWindow parseWindow(const std::string& text) {
  std::vector<std::string> parts = splitKeepingEmpty(text);
  std::vector<int> v;
  for (const auto& p : parts) {
    try {
      size_t used = 0;
      int n = std::stoi(p, &used);
      if (used != p.size()) throw std::invalid_argument(p);
      v.push_back(n);
    } catch (const std::exception&) {
      v.clear();
      break;
    }
  }
  if (v.size() != 4) {
    throw UsageError("info: --window '" + text +
                     "' is not X,Y,W,H in pixels. Give four integers, e.g. --window 0,0,256,256.");
  }
  PixelWindow w{v[0], v[1], v[2], v[3]};
  if (w.empty()) {
    throw UsageError("info: --window '" + text +
                     "' is empty. Give a window with positive width and height.");
  }
  return w;
}

ordered_json describe(const std::vector<std::string>& paths, const InfoOptions& o) {
  OpenOptions open;
  if (!o.bands.empty()) open.bands = splitKeepingEmpty(o.bands);
  auto src = openRaster(paths, open);
  const GridSpec& g = src->grid();

  std::vector<BandStats> stats;
  PixelWindow statsWindow = g.fullWindow();
  if (!o.window.empty()) {
    statsWindow = parseWindow(o.window);
    // The window is read whole: bounded so a typo cannot allocate gigabytes.
    checkPixelBudget("info", "--window " + o.window, static_cast<double>(statsWindow.area()), 100,
                     "");
    Raster<float> r = src->read(statsWindow);
    auto mem = memoryRaster(std::move(r), src->bands());
    stats = computeStats(*mem, std::max(statsWindow.width, statsWindow.height));
  } else {
    stats = computeStats(*src, o.maxSidePx);
  }

  ordered_json j;
  j["path"] = paths.size() == 1 ? ordered_json(paths[0]) : ordered_json(paths);
  j["width"] = g.width();
  j["height"] = g.height();
  j["crs"] = g.crs().label();
  j["epsg"] = g.crs().epsg() ? ordered_json(*g.crs().epsg()) : ordered_json(nullptr);
  j["geographic"] = g.crs().isGeographic();
  j["gsd_m"] = g.gsdMeters();
  j["pixel_size"] = {g.resX(), g.resY()};
  j["geotransform"] = g.geoTransform();
  WorldBox box = g.boxOf(g.fullWindow());
  j["bounds"] = {box.minX, box.minY, box.maxX, box.maxY};
  try {
    CoordTransform toLonLat(g.crs(), Crs::wgs84());
    WorldBox ll = toLonLat.applyBox(box);
    j["bounds_lonlat"] = {ll.minX, ll.minY, ll.maxX, ll.maxY};
  } catch (const DataError&) {
    j["bounds_lonlat"] = nullptr;  // CRS without a path to WGS84: report the rest
  }
  std::string dt = src->datetime();
  j["datetime"] = dt.empty() ? ordered_json(nullptr) : ordered_json(dt);
  j["stats_window"] = {statsWindow.x, statsWindow.y, statsWindow.width, statsWindow.height};
  ordered_json bands = ordered_json::array();
  for (size_t i = 0; i < src->bands().size(); ++i) {
    const BandInfo& b = src->bands()[i];
    ordered_json jb;
    jb["index"] = b.index;
    jb["name"] = b.name;
    jb["description"] = b.description;
    jb["color_interp"] = b.colorInterp;
    jb["type"] = b.dataType;
    jb["nodata"] = b.nodata ? ordered_json(*b.nodata) : ordered_json(nullptr);
    jb["file"] = b.file;
    const BandStats& s = stats[i];
    jb["stats"] = {{"p2", s.p2},
                   {"p98", s.p98},
                   {"mean", s.mean},
                   {"std", s.std},
                   {"valid_count", s.validCount}};
    bands.push_back(jb);
  }
  j["bands"] = bands;
  return j;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void printText(const ordered_json& j) {
  std::string path = j["path"].is_array() ? j["path"][0].get<std::string>() + " (+" +
                                                std::to_string(j["path"].size() - 1) + " stacked)"
                                          : j["path"].get<std::string>();
  std::printf("%s\n", path.c_str());
  std::printf("  size      %d x %d px, %zu band(s)\n", j["width"].get<int>(),
              j["height"].get<int>(), j["bands"].size());
  std::printf("  crs       %s%s\n", j["crs"].get<std::string>().c_str(),
              j["geographic"].get<bool>() ? " (geographic)" : "");
  std::printf("  gsd       %s m (pixel %s x %s CRS units)\n",
              fmt("%.3f", j["gsd_m"].get<double>()).c_str(),
              fmt("%.6g", j["pixel_size"][0].get<double>()).c_str(),
              fmt("%.6g", j["pixel_size"][1].get<double>()).c_str());
  if (!j["bounds_lonlat"].is_null()) {
    const auto& b = j["bounds_lonlat"];
    std::printf("  lon/lat   %.6f, %.6f .. %.6f, %.6f\n", b[0].get<double>(), b[1].get<double>(),
                b[2].get<double>(), b[3].get<double>());
  }
  if (!j["datetime"].is_null()) {
    std::printf("  datetime  %s\n", j["datetime"].get<std::string>().c_str());
  }
  std::printf("  %-3s %-10s %-8s %-8s %12s %12s %12s %12s %10s\n", "#", "name", "type", "nodata",
              "p2", "p98", "mean", "std", "valid");
  for (const auto& b : j["bands"]) {
    std::string nd = b["nodata"].is_null() ? "-" : fmt("%g", b["nodata"].get<double>());
    const auto& s = b["stats"];
    std::printf("  %-3d %-10s %-8s %-8s %12.4g %12.4g %12.4g %12.4g %10lld\n",
                b["index"].get<int>(), b["name"].get<std::string>().c_str(),
                b["type"].get<std::string>().c_str(), nd.c_str(), s["p2"].get<double>(),
                s["p98"].get<double>(), s["mean"].get<double>(), s["std"].get<double>(),
                s["valid_count"].get<long long>());
  }
}

void run(const InfoOptions& o) {
  std::vector<ordered_json> results;
  std::vector<std::vector<std::string>> groups;
  if (o.stack) {
    groups.push_back(o.images);
  } else {
    for (const auto& p : o.images)
      for (auto& date : imageDateFiles(p)) groups.push_back(std::move(date));
  }
  if (o.maxSidePx <= 0) {
    throw UsageError("info: --max-side " + std::to_string(o.maxSidePx) +
                     " must be > 0. Give the longer side of the statistics sample in pixels.");
  }
  for (auto paths : groups) {
#ifdef FIELDSEG_WITH_MODEL
    // A shipped model's bare name (`fieldseg info smallholder`), when no such file is here.
    if (paths.size() == 1 && !std::filesystem::exists(paths[0]) &&
        paths[0].find('/') == std::string::npos) {
      try {
        paths[0] = resolveModel(paths[0], "info");
      } catch (const UsageError&) {
        // not a model name either: opened as a raster below, which names the missing file
      }
    }
    if (paths.size() == 1 && isModelFile(paths[0])) {
      ordered_json card;
      try {
        card = ordered_json::parse(readModelCard(paths[0]));
      } catch (const nlohmann::json::exception& e) {
        throw DataError("info: the model card of '" + paths[0] + "' is not JSON (" + e.what() +
                        "). Rewrite the card or retrain.");
      }
      if (o.json) {
        results.push_back({{"path", paths[0]}, {"model_card", card}});
      } else {
        std::printf("%s: fieldseg model\n%s\n", paths[0].c_str(), card.dump(2).c_str());
      }
      continue;
    }
#endif
    ordered_json j = describe(paths, o);
    if (o.json) {
      results.push_back(j);
    } else {
      printText(j);
    }
  }
  if (o.json) {
    std::string out = results.size() == 1 ? results[0].dump(2) : ordered_json(results).dump(2);
    std::printf("%s\n", out.c_str());
  }
}

const Registrar registrar(
    "info", "Describe rasters (size, CRS, GSD, lon/lat bounds, bands, statistics) or a model file",
    10, [](CLI::App& sub) {
      auto o = std::make_shared<InfoOptions>();
      sub.add_option("images", o->images, "Raster(s) or a fieldseg model file")->required();
      sub.add_flag("--json", o->json,
                   "Print JSON on stdout (one object, or an array for several images)");
      sub.add_option("--bands", o->bands,
                     "Bands to report: names (red,green,blue,nir; matched against descriptions and "
                     "colour interpretation) or 1-based indices, comma-separated");
      sub.add_flag("--stack", o->stack,
                   "Stack all IMAGEs (single-band files on one grid) into one source");
      sub.add_option("--window", o->window,
                     "Statistics over this pixel window X,Y,W,H (may extend outside) instead of "
                     "the whole raster");
      sub.add_option("--max-side", o->maxSidePx,
                     "Longer side in pixels of the decimated read used for statistics")
          ->capture_default_str();
      sub.callback([o] { run(*o); });
    });

}  // namespace
}  // namespace fieldseg::cli
