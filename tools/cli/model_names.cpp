#include "model_names.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "fieldseg/error.hpp"

namespace fieldseg::cli {
namespace {

namespace fs = std::filesystem;

bool isBareName(const std::string& s) {
  if (s.empty() || s.size() > 128 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

}  // namespace

std::vector<std::string> modelFolders() {
  std::vector<std::string> out;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    if (p.empty() || !fs::is_directory(p, ec)) return;
    const std::string s = fs::weakly_canonical(p, ec).string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  if (const char* env = std::getenv("FIELDSEG_MODELS")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) add(item);
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) add(exe.parent_path() / ".." / "share" / "fieldseg" / "models");
#ifdef FIELDSEG_MODELS_DIR
  add(FIELDSEG_MODELS_DIR);
#endif
  return out;
}

std::string resolveModel(const std::string& value, const std::string& flag) {
  std::error_code ec;
  if (value.empty() || fs::exists(value, ec)) return value;
  if (!isBareName(value)) return value;  // a path: the command's own check names it
  const auto folders = modelFolders();
  for (const auto& d : folders) {
    for (const std::string& f : {value + ".fsm", value}) {
      const fs::path p = fs::path(d) / f;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
  }
  std::string where;
  for (const auto& d : folders) where += (where.empty() ? "" : ", ") + d;
  throw UsageError(flag + " '" + value + "': no such file, and no shipped model of that name in " +
                   (where.empty() ? std::string("any model folder") : where) +
                   ". Run 'fieldseg models list' for the names, or give a path.");
}

std::vector<ModelEntry> shippedModels() {
  std::map<std::string, std::string> byName;
  for (const auto& d : modelFolders()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (!e.is_regular_file(ec) || e.path().extension() != ".fsm") continue;
      byName.emplace(e.path().stem().string(), e.path().string());  // first folder wins
    }
  }
  std::vector<ModelEntry> out;
  for (const auto& [n, p] : byName) out.push_back({n, p});
  return out;
}

}  // namespace fieldseg::cli
