#include "stac_item.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "fieldseg/error.hpp"

namespace fieldseg::io {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool hasRole(const json& asset, const char* role) {
  const auto it = asset.find("roles");
  if (it == asset.end() || !it->is_array()) return false;
  for (const auto& r : *it)
    if (r.is_string() && r.get<std::string>() == role) return true;
  return false;
}

std::string stringOr(const json& j, const char* key, const std::string& fallback = {}) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool isDataAsset(const json& asset) {
  if (!asset.is_object() || !asset.contains("href") || !asset["href"].is_string()) return false;
  if (hasRole(asset, "thumbnail") || hasRole(asset, "overview") || hasRole(asset, "metadata"))
    return false;
  const std::string type = lower(stringOr(asset, "type"));
  const std::string href = lower(asset["href"].get<std::string>());
  const bool raster = type.find("image/tiff") != std::string::npos ||
                      type.find("image/jp2") != std::string::npos || endsWith(href, ".tif") ||
                      endsWith(href, ".tiff") || endsWith(href, ".jp2");
  return hasRole(asset, "data") ? raster || type.empty() : raster;
}

// The local copy beside the item, else the href in a form GDAL opens.
std::string assetPath(const fs::path& dir, const std::string& key, const std::string& href) {
  const std::string file = href.substr(href.find_last_of('/') + 1);
  for (const std::string& name : {key + ".tif", key + ".tiff", file}) {
    std::error_code ec;
    if (!name.empty() && fs::is_regular_file(dir / name, ec)) return (dir / name).string();
  }
  if (href.rfind("http://", 0) == 0 || href.rfind("https://", 0) == 0) return "/vsicurl/" + href;
  if (href.rfind("s3://", 0) == 0) return "/vsis3/" + href.substr(5);
  if (href.rfind("/vsi", 0) == 0 || fs::path(href).is_absolute()) return href;
  return (dir / href).lexically_normal().string();
}

}  // namespace

std::optional<StacImage> readStacItem(const std::string& path) {
  if (!endsWith(lower(path), ".json")) return std::nullopt;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  json item;
  try {
    item = json::parse(text);
  } catch (const json::exception&) {
    return std::nullopt;  // not JSON: let GDAL say what it is
  }
  if (!item.is_object() || !item.contains("stac_version") || !item.contains("assets"))
    return std::nullopt;
  const std::string id = stringOr(item, "id", path);
  if (stringOr(item, "type") != "Feature" || !item["assets"].is_object()) {
    throw DataError("io: STAC '" + path +
                    "' is not an item (a Feature with assets); give one item " +
                    "per date (ItemCollections are not read yet).");
  }
  const json& assets = item["assets"];
  const json props = item.contains("properties") && item["properties"].is_object()
                         ? item["properties"]
                         : json::object();
  // Band order and names: properties' eo:bands (assets named by band), else each asset's own.
  std::vector<std::pair<std::string, std::string>> bands;  // asset key, band name
  if (props.contains("eo:bands") && props["eo:bands"].is_array()) {
    for (const auto& b : props["eo:bands"]) {
      if (!b.is_object()) continue;
      const std::string key = stringOr(b, "name");
      if (key.empty() || !assets.contains(key) || !isDataAsset(assets[key])) continue;
      bands.emplace_back(key, lower(stringOr(b, "common_name", key)));
    }
  }
  if (bands.empty()) {
    for (const auto& [key, asset] : assets.items()) {  // keys in sorted order
      if (!isDataAsset(asset)) continue;
      std::string name = key;
      if (asset.contains("eo:bands") && asset["eo:bands"].is_array() &&
          !asset["eo:bands"].empty() && asset["eo:bands"][0].is_object()) {
        const json& b = asset["eo:bands"][0];
        name = stringOr(b, "common_name", stringOr(b, "name", key));
      }
      bands.emplace_back(key, lower(name));
    }
  }
  if (bands.empty()) {
    throw DataError("io: STAC item '" + id + "' (" + path +
                    ") has no raster data asset (role \"data\" or a GeoTIFF/JPEG2000 type). Give "
                    "an item with image assets.");
  }
  StacImage out;
  const fs::path dir = fs::path(path).parent_path();
  for (const auto& [key, name] : bands) {
    const std::string href = assets[key]["href"].get<std::string>();
    out.paths.push_back(assetPath(dir, key, href));
    out.hrefs.push_back(href);
    out.bandNames.push_back(name);
  }
  out.datetime = stringOr(props, "datetime");
  if (out.datetime.empty()) out.datetime = stringOr(props, "start_datetime");
  return out;
}

}  // namespace fieldseg::io
