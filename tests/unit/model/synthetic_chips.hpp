// Synthetic chips + manifest in the contracts.md format, for the model tests: a grid of rectangular
// "fields" brighter than the background (and strong in nir), separated by dark lanes; labels extent
// / boundary / distance / mask, with the mask covering only part of each chip (partial labels).
#pragma once

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "fieldseg/raster_source.hpp"

namespace fieldseg::test {

inline GridSpec chipGrid(int size, double gsd) {
  return GridSpec(size, size, {500000.0, gsd, 0.0, 4000000.0, 0.0, -gsd}, Crs::fromEpsg(32633));
}

/// Writes `count` chips of size x size into dir/img, dir/lbl and dir/manifest.jsonl. Chip i comes
/// from source image "scene<i % scenes>.tif". Returns the manifest path.
inline std::string writeSyntheticChips(const std::string& dir, int count, int size, int scenes,
                                       unsigned seed = 1,
                                       const std::vector<std::string>& bands = {"blue", "green",
                                                                                "red", "nir"}) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> noise(-0.03f, 0.03f);
  std::ofstream manifest(dir + "/manifest.jsonl");
  std::system(("mkdir -p '" + dir + "/img' '" + dir + "/lbl'").c_str());
  for (int i = 0; i < count; ++i) {
    const int cell = 14 + (i % 3) * 4;  // field size varies per chip
    const int offset = static_cast<int>(rng() % cell);
    Raster<float> img(4, size, size), lbl(4, size, size);
    img.grid = lbl.grid = chipGrid(size, 3.0);
    for (int r = 0; r < size; ++r)
      for (int c = 0; c < size; ++c) {
        int rr = (r + offset) % cell, cc = (c + offset) % cell;
        int edge = std::min({rr, cc, cell - 1 - rr, cell - 1 - cc});
        bool lane = edge < 1;
        bool inside = edge >= 2;
        float base = lane ? 40.f : 120.f + 20.f * ((r + offset) / cell % 2);
        img.at(0, r, c) = base * 0.8f + 100 * noise(rng);
        img.at(1, r, c) = base + 100 * noise(rng);
        img.at(2, r, c) = base * 0.9f + 100 * noise(rng);
        img.at(3, r, c) = (lane ? 30.f : 200.f) + 100 * noise(rng);
        lbl.at(0, r, c) = inside ? 1.f : 0.f;
        lbl.at(1, r, c) = (!inside) ? 1.f : 0.f;
        lbl.at(2, r, c) = inside ? std::min(1.f, edge / (cell / 2.f)) : 0.f;
        lbl.at(3, r, c) = c < size * 3 / 4 ? 1.f : 0.f;  // partial labels
      }
    const std::string name = "chip" + std::to_string(i) + ".tif";
    {
      GeoTiffWriter w(dir + "/img/" + name, img.grid, 4, GeoTiffWriter::Type::Float32, bands);
      w.write(0, 0, img);
      w.close();
      GeoTiffWriter l(dir + "/lbl/" + name, lbl.grid, 4, GeoTiffWriter::Type::Float32,
                      {"extent", "boundary", "distance", "mask"});
      l.write(0, 0, lbl);
      l.close();
    }
    nlohmann::json stats = nlohmann::json::array();
    for (int b = 0; b < 4; ++b)
      stats.push_back(
          {{"p2", 30.0}, {"p98", b == 3 ? 205.0 : 150.0}, {"mean", 100.0}, {"std", 40.0}});
    nlohmann::json j = {{"image", "img/" + name},
                        {"labels", "lbl/" + name},
                        {"source_image", "scene" + std::to_string(i % scenes) + ".tif"},
                        {"source_fields", "fields.geojson"},
                        {"scale", 1},
                        {"gsd_m", 3.0},
                        {"window", {0, 0, size, size}},
                        {"crs", "EPSG:32633"},
                        {"bands", bands},
                        {"band_stats", stats},
                        {"labelled_fraction", 0.75},
                        {"fields", 9}};
    manifest << j.dump() << "\n";
  }
  return dir + "/manifest.jsonl";
}

/// A small, fast training config over `manifest` (tiny network, 32 px crops).
inline std::string tinyConfig(const std::string& manifest, const std::vector<std::string>& bands,
                              int epochs, const std::string& extra = "") {
  nlohmann::json j = {{"name", "tiny"},
                      {"network", {{"width", 4}, {"depth", 2}, {"input_bands", bands}}},
                      {"train_manifests", {manifest}},
                      {"val_split", {{"holdout_match", {"scene0.tif"}}}},
                      {"seed", 7},
                      {"epochs", epochs},
                      {"steps_per_epoch", 3},
                      {"batch_size", 2},
                      {"crop_px", 32},
                      {"optimizer", {{"learning_rate", 0.01}, {"schedule", "cosine"}}},
                      {"augment", {{"gsd_rescale_max", 1.5}, {"gsd_rescale_prob", 0.5}}}};
  if (!extra.empty()) j.merge_patch(nlohmann::json::parse(extra));
  return j.dump(2);
}

}  // namespace fieldseg::test
