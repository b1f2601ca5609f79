// Training chips (image window + label window) and the manifest (../briefs contracts: chip
// manifest).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/temp_files.hpp"
#include "fieldseg/weak_labels.hpp"

namespace fieldseg {
namespace fs = std::filesystem;

std::vector<PixelWindow> chipWindows(int width, int height, int chipPx, int stridePx) {
  if (chipPx < 1 || stridePx < 1)
    throw UsageError("weak_labels: chip_px " + std::to_string(chipPx) + " and stride " +
                     std::to_string(stridePx) +
                     " must be >= 1. Use e.g. --chip-px 256 "
                     "--chip-stride 192.");
  auto starts = [&](int size) {
    std::vector<int> s;
    if (size <= chipPx) return std::vector<int>{0};
    for (int p = 0; p + chipPx < size; p += stridePx) s.push_back(p);
    if (s.back() + chipPx < size) s.push_back(size - chipPx);
    if (s.back() != size - chipPx) s.push_back(size - chipPx);
    return s;
  };
  std::vector<PixelWindow> out;
  for (int y : starts(height))
    for (int x : starts(width)) out.push_back({x, y, chipPx, chipPx});
  return out;
}

ChipReport writeChips(const ChipSource& src, const std::string& dir, const ChipOptions& options) {
  if (!src.image || !src.labels)
    throw UsageError("weak_labels: writeChips needs an image and a label stack.");
  const GridSpec& grid = src.labels->grid();
  const LabelStack& labels = *src.labels;
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "img", ec);
  fs::create_directories(fs::path(dir) / "lbl", ec);
  if (ec)
    throw IoError("weak_labels: cannot create chip folders in '" + dir + "': " + ec.message() +
                  ". Check the path and permissions.");

  std::vector<std::string> bandNames;
  for (const BandInfo& b : src.image->bands()) bandNames.push_back(b.name);
  nlohmann::json stats = nlohmann::json::array();
  for (const BandStats& s : src.bandStats)
    stats.push_back({{"p2", s.p2}, {"p98", s.p98}, {"mean", s.mean}, {"std", s.std}});

  ChipReport rep;
  for (const PixelWindow& w :
       chipWindows(grid.width(), grid.height(), options.chipPx, options.stridePx)) {
    Raster<float> lbl = labels.window(w);
    Raster<float> img = src.image->read(w);
    // Invalid image pixels: 0 in every image band and mask 0 (targets 0) in the label chip.
    long long labelled = 0;
    const size_t plane = lbl.plane();
    for (size_t i = 0; i < plane; ++i) {
      if (!img.valid[i]) {
        for (int b = 0; b < img.bands; ++b) img.data[b * plane + i] = 0.0f;
        for (int b = 0; b < 4; ++b) lbl.data[b * plane + i] = 0.0f;
      }
      labelled += lbl.data[LabelStack::kMask * plane + i] > 0.5f;
    }
    const double frac = static_cast<double>(labelled) / static_cast<double>(plane);
    if (frac < options.minLabelled || labelled == 0) {
      ++rep.skippedLowLabel;
      continue;
    }
    std::set<std::int32_t> ids;
    for (int r = 0; r < w.height; ++r)
      for (int c = 0; c < w.width; ++c) {
        const int gr = w.y + r, gc = w.x + c;
        if (gr < 0 || gc < 0 || gr >= grid.height() || gc >= grid.width()) continue;
        const std::int32_t v = labels.instance.data[static_cast<size_t>(gr) * grid.width() + gc];
        if (v > 0) ids.insert(v);
      }

    const std::string name = src.stem + "_s" + std::to_string(src.scale) + "_" +
                             std::to_string(w.x) + "_" + std::to_string(w.y) + ".tif";
    const GridSpec chipGrid = grid.subGrid(w);
    {
      GeoTiffWriter iw((fs::path(dir) / "img" / name).string(), chipGrid, img.bands,
                       GeoTiffWriter::Type::Float32, bandNames);
      iw.write(0, 0, img);
      iw.close();
    }
    {
      GeoTiffWriter lw((fs::path(dir) / "lbl" / name).string(), chipGrid, 4,
                       GeoTiffWriter::Type::Float32, lbl.bandNames);
      lw.write(0, 0, lbl);
      lw.close();
    }
    nlohmann::json j;
    j["image"] = "img/" + name;
    j["labels"] = "lbl/" + name;
    j["source_image"] = src.sourceImage;
    j["source_fields"] = src.sourceFields;
    j["scale"] = src.scale;
    j["gsd_m"] = grid.gsdMeters();
    j["window"] = {w.x, w.y, w.width, w.height};
    j["crs"] = grid.crs().label();
    j["bands"] = bandNames;
    j["band_stats"] = stats;
    j["labelled_fraction"] = frac;
    j["fields"] = ids.size();
    rep.manifestLines.push_back(j.dump());
    ++rep.written;
  }
  return rep;
}

namespace {

std::vector<std::string> readManifest(const fs::path& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(line);
  return lines;
}

bool fromSource(const std::string& line, const std::string& sourceImage) {
  try {
    const auto j = nlohmann::json::parse(line);
    return j.value("source_image", std::string()) == sourceImage;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

}  // namespace

int manifestEntriesFor(const std::string& dir, const std::string& sourceImage) {
  int n = 0;
  for (const std::string& l : readManifest(fs::path(dir) / "manifest.jsonl"))
    n += fromSource(l, sourceImage);
  return n;
}

int updateManifest(const std::string& dir, const std::string& sourceImage,
                   const std::vector<std::string>& lines) {
  const fs::path path = fs::path(dir) / "manifest.jsonl";
  int replaced = 0;
  std::string text;
  for (const std::string& l : readManifest(path)) {
    if (fromSource(l, sourceImage)) {
      ++replaced;
      continue;
    }
    text += l + '\n';
  }
  for (const std::string& l : lines) text += l + '\n';
  writeFileAtomically(path.string(), text);
  return replaced;
}

}  // namespace fieldseg
