// calibrate: grid search of post-processing thresholds maximising pooled median field IoU.
#include <numeric>

#include "fieldseg/error.hpp"
#include "fieldseg/eval.hpp"

namespace fieldseg {

CalibrationResult calibrate(const DelineateFn& delineate, const std::vector<FieldSet>& truth,
                            const CalibrationGrid& grid, const EvalOptions& options) {
  if (truth.empty()) {
    throw UsageError("eval: calibration needs validation data: no truth given. Pass --truth.");
  }
  if (grid.tExt.empty() || grid.tBound.empty() || grid.minAreaM2.empty()) {
    throw UsageError(
        "eval: calibration grid has an empty axis: nothing to search. Give at least "
        "one value for each of t_ext, t_bound and min area.");
  }
  EvalOptions opt = options;
  // Only field IoU drives the choice; skip the costly overlays.
  opt.areaMetrics = false;
  opt.boundaryMetrics = false;

  CalibrationResult out;
  for (double te : grid.tExt) {
    for (double tb : grid.tBound) {
      for (double ma : grid.minAreaM2) {
        for (double td : grid.tDist.empty() ? std::vector<double>{0} : grid.tDist) {
          // The marker height only matters in marker mode: one cell for t_dist 0.
          const std::vector<double> hs = td > 0 && !grid.markerH.empty()
                                             ? grid.markerH
                                             : std::vector<double>{Thresholds{}.markerH};
          for (double h : hs) {
            CalibrationCell cell;
            cell.thresholds = {te, tb, ma, td, h};
            std::vector<double> ious;
            for (std::size_t i = 0; i < truth.size(); ++i) {
              EvalResult r = evaluateFields(delineate(i, cell.thresholds), truth[i], opt);
              for (const auto& f : r.perField) {
                if (f.scored) ious.push_back(f.iou);
              }
            }
            cell.fields = static_cast<int>(ious.size());
            cell.medianIou = medianOf(ious);
            cell.meanIou =
                ious.empty() ? 0.0 : std::accumulate(ious.begin(), ious.end(), 0.0) / ious.size();
            out.cells.push_back(cell);
          }
        }
      }
    }
  }
  for (std::size_t k = 1; k < out.cells.size(); ++k) {
    const auto& c = out.cells[k];
    const auto& b = out.cells[out.best];
    if (c.medianIou > b.medianIou || (c.medianIou == b.medianIou && c.meanIou > b.meanIou)) {
      out.best = k;
    }
  }
  return out;
}

}  // namespace fieldseg
