// `fieldseg models list|show NAME [--json]`: the shipped models by name (model_names.hpp), with
// their bands, GSD range, thresholds, validation scores and licence, read from each model's card.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "fieldseg/error.hpp"
#include "model_names.hpp"
#ifdef FIELDSEG_WITH_MODEL
#include "fieldseg/model.hpp"
#endif

namespace fieldseg::cli {
namespace {

using nlohmann::json;

struct ModelsArgs {
  std::string action, name;
  bool json = false;
};

json cardOf(const std::string& path) {
#ifdef FIELDSEG_WITH_MODEL
  return json::parse(readModelCard(path));
#else
  (void)path;
  throw UsageError(
      "models: this fieldseg was built without LibTorch, so it cannot read model "
      "files. Rebuild with -DFIELDSEG_WITH_TORCH=ON.");
#endif
}

std::string joined(const json& arr) {
  std::string s;
  if (!arr.is_array()) return s;
  for (const auto& v : arr)
    s += (s.empty() ? "" : ",") + (v.is_string() ? v.get<std::string>() : v.dump());
  return s;
}

std::string num(const json& v, const char* fmt = "%.3g") {
  if (!v.is_number()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, fmt, v.get<double>());
  return b;
}

// The card's headline score: its first field-level evaluation, else the pixel-level one.
json headline(const json& card) {
  if (card.contains("field_evaluation") && card["field_evaluation"].is_array() &&
      !card["field_evaluation"].empty()) {
    const json& e = card["field_evaluation"][0];
    return {{"data", e.value("data", "")},
            {"fields", e.value("fields", json())},
            {"median_iou", e.value("median_iou", json())},
            {"object_f1", e.value("object_f1", json())},
            {"pq", e.value("pq", json())}};
  }
  if (card.contains("evaluation") && card["evaluation"].is_object()) {
    const json& e = card["evaluation"];
    json out = {{"data", e.value("data", e.value("manifest", ""))}};
    for (const char* k : {"median_iou", "field_median_iou", "f1", "mcc"})
      if (e.contains(k)) out[k] = e[k];
    return out;
  }
  return json::object();
}

std::string licenceOf(const json& card) {
  if (card.contains("licence") && card["licence"].is_string()) return card["licence"];
  return "see credits: " + card.value("credits", std::string("(none recorded)"));
}

json summary(const ModelEntry& m) {
  const json card = cardOf(m.path);
  return {{"name", m.name},
          {"path", m.path},
          {"input_bands", card.value("input_bands", json::array())},
          {"gsd_range_m", card.value("gsd_range_m", json())},
          {"thresholds", card.value("thresholds", json::object())},
          {"validation", headline(card)},
          {"licence", licenceOf(card)},
          {"non_commercial", licenceOf(card).find("NON-COMMERCIAL") != std::string::npos}};
}

void list(const ModelsArgs& a) {
  const auto models = shippedModels();
  json all = json::array();
  for (const auto& m : models) all.push_back(summary(m));
  if (a.json) {
    std::printf("%s\n", all.dump(2).c_str());
    return;
  }
  if (models.empty()) {
    std::string where;
    for (const auto& d : modelFolders()) where += " " + d;
    std::printf("no models found (searched:%s). Set FIELDSEG_MODELS to a folder of .fsm files.\n",
                where.empty() ? " nothing" : where.c_str());
    return;
  }
  std::printf("%-20s %-18s %-9s %-26s %-22s %s\n", "NAME", "BANDS", "GSD (m)",
              "THRESHOLDS ext/bnd/dist/h", "VALIDATION IoU/F1 (n)", "USE");
  for (const auto& s : all) {
    const json& t = s["thresholds"];
    const json& v = s["validation"];
    const json& g = s["gsd_range_m"];
    const std::string gsd =
        g.is_array() && g.size() == 2 ? num(g[0], "%.0f") + "-" + num(g[1], "%.0f") : "-";
    const std::string thr = num(t.value("t_ext", json())) + "/" + num(t.value("t_bound", json())) +
                            "/" + num(t.value("t_dist", json())) + "/" +
                            num(t.value("marker_h", json()));
    std::string val = "-";
    if (v.contains("median_iou"))
      val =
          num(v["median_iou"]) + "/" + num(v.value("object_f1", json())) +
          (v.contains("fields") && v["fields"].is_number() ? " (" + v["fields"].dump() + ")" : "");
    std::printf("%-20s %-18s %-9s %-26s %-22s %s\n", s["name"].get<std::string>().c_str(),
                joined(s["input_bands"]).c_str(), gsd.c_str(), thr.c_str(), val.c_str(),
                s["non_commercial"].get<bool>() ? "non-commercial only" : "see licence");
  }
  std::printf("\n'fieldseg models show NAME' for one model; '--model NAME' uses it.\n");
}

void show(const ModelsArgs& a) {
  if (a.name.empty())
    throw UsageError("models show: give a model NAME (see 'fieldseg models list').");
  const std::string path = resolveModel(a.name, "models show");
  ModelEntry m{a.name, path};
  const json card = cardOf(path);
  json s = summary(m);
  s["description"] = card.value("description", "");
  s["credits"] = card.value("credits", "");
  if (card.contains("architecture")) s["architecture"] = card["architecture"];
  if (card.contains("training") && card["training"].is_object())
    s["training_commands"] = card["training"].value("commands", json::array());
  if (card.contains("field_evaluation")) s["field_evaluation"] = card["field_evaluation"];
  if (a.json) {
    std::printf("%s\n", s.dump(2).c_str());
    return;
  }
  auto line = [](const char* k, const std::string& v) { std::printf("%-14s %s\n", k, v.c_str()); };
  line("name", m.name);
  line("file", path);
  line("description", s["description"].get<std::string>());
  line("bands", joined(s["input_bands"]));
  line("GSD range (m)", s["gsd_range_m"].dump());
  line("thresholds", s["thresholds"].dump());
  if (s.contains("architecture")) {
    const json& ar = s["architecture"];
    line("network", ar.value("type", std::string("?")) + ", width " +
                        ar.value("width", json()).dump() + ", depth " +
                        ar.value("depth", json()).dump() + ", " +
                        ar.value("parameters", json()).dump() + " parameters, " +
                        num(ar.value("gflops_per_256_tile", json())) + " GFLOP per 256 px tile");
  }
  if (s.contains("field_evaluation"))
    for (const auto& e : s["field_evaluation"])
      line("scores", e.value("data", std::string("")) + ": median field IoU " +
                         num(e.value("median_iou", json())) + ", object F1 " +
                         num(e.value("object_f1", json())) + ", PQ " + num(e.value("pq", json())) +
                         " (" + e.value("fields", json()).dump() + " fields)");
  else if (!s["validation"].empty())
    line("scores", s["validation"].dump());
  line("licence", s["licence"].get<std::string>());
  line("credits", s["credits"].get<std::string>());
  if (s.contains("training_commands"))
    for (const auto& c : s["training_commands"]) line("trained by", c.get<std::string>());
}

const Registrar registrar(
    "models", "List the shipped models (bands, GSD, thresholds, scores, licence) or show one", 95,
    [](CLI::App& sub) {
      auto a = std::make_shared<ModelsArgs>();
      sub.add_option("action", a->action, "list (default) or show")
          ->check(CLI::IsMember({"list", "show"}));
      sub.add_option("name", a->name, "The model to show (a shipped name or a path)");
      sub.add_flag("--json", a->json, "Print JSON on stdout");
      sub.footer(
          "Model folders, in order: $FIELDSEG_MODELS (colon-separated), "
          "<executable>/../share/fieldseg/models, the source tree's models/.");
      sub.callback([a] {
        if (a->action.empty() || a->action == "list") {
          if (!a->name.empty())
            throw UsageError("models list takes no NAME; use 'fieldseg models show " + a->name +
                             "'.");
          list(*a);
        } else {
          show(*a);
        }
      });
    });

}  // namespace
}  // namespace fieldseg::cli
