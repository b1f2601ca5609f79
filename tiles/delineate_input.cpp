#include "delineate_input.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"

namespace fieldseg {
namespace {

std::string joinNames(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

}  // namespace

bool sameGrid(const GridSpec& a, const GridSpec& b) {
  if (a.width() != b.width() || a.height() != b.height()) return false;
  const double tol = 1e-6 * std::max(std::abs(a.geoTransform()[1]), 1e-12);
  for (int i = 0; i < 6; ++i)
    if (std::abs(a.geoTransform()[i] - b.geoTransform()[i]) > std::max(tol, 1e-9)) return false;
  return true;
}

OpenedInput openInputs(const DelineateInput& in, const DelineateOptions& o) {
  OpenedInput out;
  auto& dates = out.dates;
  if (!o.dateBands.empty() && o.dateBands.size() != in.dates.size())
    throw UsageError("delineate: " + std::to_string(o.dateBands.size()) +
                     " per-date band selections for " + std::to_string(in.dates.size()) +
                     " dates. Give one --bands for every date, or one for all.");
  for (size_t d = 0; d < in.dates.size(); ++d) {
    const auto& files = in.dates[d];
    std::vector<std::string> bands = o.dateBands.empty() ? o.bands : o.dateBands[d];
    if (bands.empty() && in.predictor) bands = in.predictor->inputBands();
    OpenOptions oo;
    oo.bands = bands;
    oo.gsdM = o.gsdM;
    // The statistics' decimated read decodes the whole scene: on the worker threads too.
    oo.readThreads =
        o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
    dates.push_back(openRaster(files, oo));
    const auto& got = dates.back()->bands();
    if (in.predictor && got.size() != in.predictor->inputBands().size()) {
      std::vector<std::string> names;
      for (const auto& b : got) names.push_back(b.name);
      throw UsageError("delineate: image bands '" + joinNames(names) + "' of '" + joinNames(files) +
                       "' do not match the model's '" + joinNames(in.predictor->inputBands()) +
                       "'. Select matching bands with --bands (names or 1-based indices).");
    }
    if (dates.size() > 1 && !sameGrid(dates[0]->grid(), dates.back()->grid()))
      throw DataError("delineate: date '" + joinNames(files) +
                      "' is not on the grid of the first date. Co-register the dates first "
                      "(gdalwarp -tr/-te to one grid).");
  }
  if (!in.probabilitiesIn.empty()) {
    OpenOptions po;
    po.bands = {"1", "2", "3"};
    try {
      out.probs = openRaster({in.probabilitiesIn}, po);
    } catch (const UsageError& e) {
      throw DataError("delineate: probabilities '" + in.probabilitiesIn +
                      "' need 3 bands (extent, boundary, distance): " + e.what());
    }
    // Byte without a scale = 0..255; with GDAL's scale (fieldseg's own output) the reader applies
    // it.
    out.probsAreBytes = out.probs->bands()[0].dataType == "Byte" &&
                        out.probs->bands()[0].scale == 1 && out.probs->bands()[0].offset == 0;
    if (!dates.empty() && !sameGrid(dates[0]->grid(), out.probs->grid()))
      throw DataError("delineate: probabilities '" + in.probabilitiesIn +
                      "' are not on the image grid. Compute them on the image's grid.");
  } else if (!in.predictor) {
    throw UsageError(
        "delineate: no model and no probabilities given. Pass --model or "
        "--probabilities-in.");
  }
  if (dates.empty() && !out.probs)
    throw UsageError("delineate: no image given. Pass at least one IMAGE.");
  out.grid = out.probs ? out.probs->grid() : dates[0]->grid();
  return out;
}

PixelWindow processedWindow(const GridSpec& grid, const std::optional<PixelWindow>& forcedWindow,
                            const DelineateOptions& o) {
  PixelWindow area = grid.fullWindow();
  if (forcedWindow) area = forcedWindow->intersect(grid.fullWindow());
  if (o.aoi) {
    const FieldSet aoi = reproject(*o.aoi, grid.crs());
    WorldBox box{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                 -std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                 grid.crs()};
    for (const auto& f : aoi.fields) {
      const WorldBox b = boundsOf(f.polygon);
      box.minX = std::min(box.minX, b.minX);
      box.minY = std::min(box.minY, b.minY);
      box.maxX = std::max(box.maxX, b.maxX);
      box.maxY = std::max(box.maxY, b.maxY);
    }
    area = area.intersect(grid.windowOf(box));
  }
  if (!area.empty() && o.maxMpx > 0 && static_cast<double>(area.area()) > o.maxMpx * 1e6)
    throw UsageError("delineate: the processed window is " + std::to_string(area.width) + " x " +
                     std::to_string(area.height) + " px (" +
                     std::to_string(static_cast<long long>(area.area() / 1000000)) +
                     " Mpx), above the budget of " +
                     std::to_string(static_cast<long long>(o.maxMpx)) +
                     " Mpx. Check the input's size and --gsd, process a part (--aoi, fieldseg "
                     "grid), or raise --max-mpx.");
  return area;
}

}  // namespace fieldseg
