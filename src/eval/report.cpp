// Text forms of an EvalResult: JSON for machines, a table for people, a per-field layer for GIS.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "fieldseg/eval.hpp"

namespace fieldseg {

std::string evalResultJson(const EvalResult& r, bool withPerField) {
  nlohmann::json j;
  j["metric_crs"] = r.metricCrs;
  j["truth_fields"] = r.truthFields;
  j["pred_fields"] = r.predFields;
  j["scored_fields"] = r.scoredFields;
  j["repaired_polygons"] = r.repairedPolygons;
  j["dropped_polygons"] = r.droppedPolygons;
  j["field_iou"] = {{"median", r.medianIou},
                    {"mean", r.meanIou},
                    {"frac_above_0_5", r.fracIouAbove05},
                    {"frac_above_0_8", r.fracIouAbove08}};
  j["objects"] = {{"tp", r.tp},
                  {"fp", r.fp},
                  {"fn", r.fn},
                  {"pred_ignored", r.predIgnored},
                  {"precision", r.precision},
                  {"recall", r.recall},
                  {"f1", r.f1},
                  {"panoptic_quality", r.panopticQuality},
                  {"f1_mean_iou_50_95", r.f1MeanIou50To95},
                  {"f1_at_iou_50_95", r.f1AtIou},
                  {"boundary_error_mean_m", r.boundaryErrorMeanM},
                  {"boundary_error_median_m", r.boundaryErrorMedianM}};
  if (r.areaComputed) {
    nlohmann::json a = {{"method", "exact polygon areas"},
                        {"tp_m2", r.areaTpM2},
                        {"fp_m2", r.areaFpM2},
                        {"fn_m2", r.areaFnM2},
                        {"iou", r.pixelIou},
                        {"f1", r.pixelF1},
                        {"precision", r.pixelPrecision},
                        {"recall", r.pixelRecall}};
    a["region_m2"] = r.regionAreaM2 ? nlohmann::json(*r.regionAreaM2) : nlohmann::json(nullptr);
    a["mcc"] = r.pixelMcc ? nlohmann::json(*r.pixelMcc) : nlohmann::json(nullptr);
    j["pixel"] = a;
  }
  if (r.boundaryComputed) {
    j["boundary"] = {{"tolerance_m", r.boundaryToleranceM},
                     {"pred_length_m", r.predBoundaryM},
                     {"truth_length_m", r.truthBoundaryM},
                     {"pred_near_truth_m", r.predBoundaryNearM},
                     {"truth_near_pred_m", r.truthBoundaryNearM},
                     {"precision", r.boundaryPrecision},
                     {"recall", r.boundaryRecall},
                     {"f1", r.boundaryF1}};
  }
  if (withPerField) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& f : r.perField) {
      arr.push_back({{"truth_index", f.truthIndex},
                     {"truth_id", f.truthId},
                     {"area_m2", f.areaM2},
                     {"scored", f.scored},
                     {"iou", f.iou},
                     {"best_pred_id", f.bestPredId},
                     {"matched", f.matched},
                     {"matched_pred_id", f.matchedPredId}});
    }
    j["per_field"] = arr;
  }
  return j.dump(2);
}

std::string evalResultTable(const EvalResult& r) {
  std::ostringstream o;
  char buf[256];
  auto line = [&](const char* name, const std::string& value) {
    std::snprintf(buf, sizeof buf, "  %-28s %s\n", name, value.c_str());
    o << buf;
  };
  auto num = [&](double v, const char* fmt = "%.4f") {
    std::snprintf(buf, sizeof buf, fmt, v);
    return std::string(buf);
  };
  o << "fields (compared in " << r.metricCrs << ")\n";
  line("truth / predicted", std::to_string(r.truthFields) + " / " + std::to_string(r.predFields));
  line("scored truth fields", std::to_string(r.scoredFields));
  if (r.repairedPolygons || r.droppedPolygons) {
    line("repaired / dropped polygons",
         std::to_string(r.repairedPolygons) + " / " + std::to_string(r.droppedPolygons));
  }
  o << "field IoU (max over intersecting predictions)\n";
  line("median", num(r.medianIou));
  line("mean", num(r.meanIou));
  line("fraction > 0.5", num(r.fracIouAbove05));
  line("fraction > 0.8", num(r.fracIouAbove08));
  o << "objects (one-to-one, IoU > match threshold)\n";
  line("TP / FP / FN",
       std::to_string(r.tp) + " / " + std::to_string(r.fp) + " / " + std::to_string(r.fn));
  if (r.predIgnored) line("predictions not counted", std::to_string(r.predIgnored));
  line("precision", num(r.precision));
  line("recall", num(r.recall));
  line("F1", num(r.f1));
  line("panoptic quality", num(r.panopticQuality));
  line("F1, IoU 0.50-0.95 mean", num(r.f1MeanIou50To95));
  line("boundary error, matched (m)", "mean " + num(r.boundaryErrorMeanM, "%.2f") + ", median " +
                                          num(r.boundaryErrorMedianM, "%.2f"));
  if (r.areaComputed) {
    o << "extent (exact polygon areas)\n";
    line("IoU", num(r.pixelIou));
    line("F1", num(r.pixelF1));
    line("precision / recall", num(r.pixelPrecision) + " / " + num(r.pixelRecall));
    if (r.pixelMcc) line("MCC", num(*r.pixelMcc));
    line("TP / FP / FN (ha)", num(r.areaTpM2 / 1e4, "%.3f") + " / " +
                                  num(r.areaFpM2 / 1e4, "%.3f") + " / " +
                                  num(r.areaFnM2 / 1e4, "%.3f"));
  }
  if (r.boundaryComputed) {
    o << "boundary (within " << num(r.boundaryToleranceM, "%.2f") << " m)\n";
    line("precision", num(r.boundaryPrecision));
    line("recall", num(r.boundaryRecall));
    line("F1", num(r.boundaryF1));
    line("length pred / truth (m)",
         num(r.predBoundaryM, "%.1f") + " / " + num(r.truthBoundaryM, "%.1f"));
  }
  return o.str();
}

FieldSet perFieldLayer(const FieldSet& truth, const EvalResult& r) {
  FieldSet out;
  out.crs = truth.crs;
  out.fields.reserve(truth.fields.size());
  for (const auto& s : r.perField) {
    Field f = truth.fields.at(s.truthIndex);
    f.attrs.clear();
    f.attrs["truth_id"] = static_cast<std::int64_t>(s.truthId);
    f.attrs["iou"] = s.iou;
    f.attrs["best_pred_id"] = static_cast<std::int64_t>(s.bestPredId);
    f.attrs["matched"] = static_cast<std::int64_t>(s.matched ? 1 : 0);
    f.attrs["matched_pred_id"] = static_cast<std::int64_t>(s.matchedPredId);
    f.attrs["area_m2"] = s.areaM2;
    f.attrs["scored"] = static_cast<std::int64_t>(s.scored ? 1 : 0);
    out.fields.push_back(std::move(f));
  }
  return out;
}

}  // namespace fieldseg
