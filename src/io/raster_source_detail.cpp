#include "raster_source_detail.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "fieldseg/error.hpp"

namespace fieldseg::io {

std::string lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return {};
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

// "B01", "b8", "B8A": a band code as used in file names of single-band products.
bool isBandCode(const std::string& s) {
  if (s.size() < 2 || (s[0] != 'B' && s[0] != 'b')) return false;
  size_t i = 1;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 1) return false;
  return i == s.size() || (i + 1 == s.size() && std::isalpha(static_cast<unsigned char>(s[i])));
}

}  // namespace

std::string canonicalBandName(const std::string& text) {
  std::string t = lower(trim(text));
  for (char& c : t) {
    if (c == '-' || c == '_') c = ' ';
  }
  if (t == "red" || t == "green" || t == "blue" || t == "nir" || t == "alpha") return t;
  if (t == "near infrared" || t == "nearinfrared" || t == "infrared" || t == "near ir" ||
      t == "nir08") {
    return "nir";
  }
  return {};
}

std::vector<std::string> canonicalBandNames(const std::vector<BandNameInput>& bands) {
  std::vector<std::string> names(bands.size());
  for (size_t i = 0; i < bands.size(); ++i) {
    names[i] = canonicalBandName(bands[i].description);
    const std::string& ci = bands[i].colorInterp;
    if (names[i].empty() && (ci == "red" || ci == "green" || ci == "blue" || ci == "alpha")) {
      names[i] = ci;
    }
  }
  // File-name convention of single-band stacks: only when every band comes from its own file
  // named by a band code, and the set is unambiguous (PlanetScope needs B01, Sentinel-2 needs B08).
  std::set<std::string> stems;
  bool allCodes = !bands.empty();
  for (const auto& b : bands) {
    std::string s = lower(b.fileStem);
    if (!isBandCode(s)) allCodes = false;
    stems.insert(s);
  }
  if (allCodes && stems.size() == bands.size()) {
    const std::set<std::string> planet{"b01", "b02", "b03", "b04"};
    const std::set<std::string> s2{"b02", "b03", "b04", "b08"};
    bool isPlanet = stems.count("b01") &&
                    std::includes(planet.begin(), planet.end(), stems.begin(), stems.end());
    bool isS2 =
        stems.count("b08") && std::includes(s2.begin(), s2.end(), stems.begin(), stems.end());
    for (size_t i = 0; i < bands.size(); ++i) {
      if (!names[i].empty()) continue;
      std::string s = lower(bands[i].fileStem);
      if (isPlanet) {
        names[i] = s == "b01" ? "blue" : s == "b02" ? "green" : s == "b03" ? "red" : "nir";
      } else if (isS2) {
        names[i] = s == "b02" ? "blue" : s == "b03" ? "green" : s == "b04" ? "red" : "nir";
      }
    }
  }
  for (size_t i = 0; i < bands.size(); ++i) {
    if (!names[i].empty()) continue;
    std::string d = lower(trim(bands[i].description));
    if (!d.empty()) {
      names[i] = d;
    } else if (isBandCode(bands[i].fileStem)) {
      names[i] = lower(bands[i].fileStem);
    } else {
      names[i] = "band" + std::to_string(i + 1);
    }
  }
  return names;
}

std::vector<int> matchBands(const std::vector<std::string>& wanted,
                            const std::vector<BandMatchInput>& bands, const std::string& path) {
  auto available = [&] {
    std::string list;
    for (const auto& b : bands) {
      if (!list.empty()) list += ", ";
      list += std::to_string(b.info.index) + ":" + b.info.name;
      std::string d = b.info.description;
      if (!d.empty() && lower(d) != b.info.name) list += " ('" + d + "')";
    }
    return list;
  };
  std::vector<int> out;
  for (const auto& w : wanted) {
    std::string t = lower(trim(w));
    if (t.empty()) {
      throw UsageError("io: empty band name in the band list for '" + path +
                       "'. Available bands: " + available() + ".");
    }
    if (t.find_first_not_of("0123456789") == std::string::npos) {
      long idx = t.size() > 9 ? -1 : std::stol(t);
      if (idx < 1 || idx > static_cast<long>(bands.size())) {
        throw UsageError("io: band index " + t + " is out of range for '" + path + "' (1.." +
                         std::to_string(bands.size()) + "). Available bands: " + available() + ".");
      }
      out.push_back(static_cast<int>(idx - 1));
      continue;
    }
    int found = -1;
    for (size_t i = 0; i < bands.size() && found < 0; ++i) {
      const auto& b = bands[i];
      if (t == b.info.name || t == lower(trim(b.info.description)) || t == b.info.colorInterp ||
          (!b.fileStem.empty() && t == lower(b.fileStem)) ||
          t == "band" + std::to_string(b.info.index)) {
        found = static_cast<int>(i);
      }
    }
    if (found < 0) {
      throw UsageError("io: no band '" + trim(w) + "' in '" + path + "'. Available bands: " +
                       available() + ". Use one of these names or a 1-based index.");
    }
    out.push_back(found);
  }
  return out;
}

std::vector<AxisSpan> spansFor(int start, int count, double factor, int nativeSize) {
  std::vector<AxisSpan> out;
  if (count <= 0) return out;
  if (factor == 1.0) {
    out.push_back({start, count, {static_cast<double>(start), static_cast<double>(count)}});
    return out;
  }
  const int full = static_cast<int>(std::floor(nativeSize / factor + 1e-9));
  const int end = start + count;
  const int a = start, b = std::min(end, full);
  if (b > a) {
    double off = a * factor;
    double size = std::min(b * factor, static_cast<double>(nativeSize)) - off;
    out.push_back({a, b - a, {off, size}});
  }
  if (end > full && start <= full) {
    double off = full * factor;
    double size = nativeSize - off;
    if (size > 1e-9) out.push_back({full, 1, {off, size}});
  }
  return out;
}

IntWindow integerSpan(const SrcSpan& s, int nativeSize) {
  // Strict floor/ceil: GDAL wants the fractional window inside the integer one.
  int a = static_cast<int>(std::floor(s.off));
  int b = static_cast<int>(std::ceil(s.off + s.size));
  a = std::max(0, std::min(a, nativeSize - 1));
  b = std::max(a + 1, std::min(b, nativeSize));
  return {a, b - a};
}

}  // namespace fieldseg::io
