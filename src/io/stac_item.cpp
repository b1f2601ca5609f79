#include "stac_item.hpp"

#include <cpl_vsi.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

#include "fieldseg/datetime.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/stac.hpp"
#include "gdal_error.hpp"

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

// The local copy in one of `localDirs` (beside the item; for an item of a collection, the folder
// named by its id first), else the href in a form GDAL opens.
std::string assetPath(const std::vector<fs::path>& localDirs, const fs::path& dir,
                      const std::string& key, const std::string& href) {
  const std::string file = href.substr(href.find_last_of('/') + 1);
  for (const fs::path& local : localDirs)
    for (const std::string& name : {key + ".tif", key + ".tiff", file}) {
      std::error_code ec;
      if (!name.empty() && fs::is_regular_file(local / name, ec)) return (local / name).string();
    }
  if (href.rfind("http://", 0) == 0 || href.rfind("https://", 0) == 0) return "/vsicurl/" + href;
  if (href.rfind("s3://", 0) == 0) return "/vsis3/" + href.substr(5);
  if (href.rfind("/vsi", 0) == 0 || fs::path(href).is_absolute()) return href;
  // Relative to a remote item: join as text (normalising would fold the URL's "//").
  if (dir.string().rfind("/vsi", 0) == 0) return dir.string() + "/" + href;
  return (dir / href).lexically_normal().string();
}

// The text of a local file or of a GDAL virtual path (/vsicurl/, /vsis3/, ...); nothing when it
// cannot be read.
std::optional<std::string> readText(const std::string& path) {
  if (path.rfind("/vsi", 0) == 0) {
    initGdal();
    GByte* data = nullptr;
    vsi_l_offset size = 0;
    if (!VSIIngestFile(nullptr, path.c_str(), &data, &size, 64 << 20)) return std::nullopt;
    std::string text(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
    VSIFree(data);
    return text;
  }
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  return std::string{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// `path` split at a "#item-id" fragment: a collection's file and one item of it.
std::pair<std::string, std::string> splitFragment(const std::string& path) {
  const auto hash = path.rfind('#');
  if (hash == std::string::npos || !endsWith(lower(path.substr(0, hash)), ".json"))
    return {path, ""};
  return {path.substr(0, hash), path.substr(hash + 1)};
}

bool isItem(const json& j) {
  return j.is_object() && j.contains("stac_version") && j.contains("assets") &&
         stringOr(j, "type") == "Feature" && j["assets"].is_object();
}

// A STAC ItemCollection or API search result: a FeatureCollection whose features are items.
bool isItemCollection(const json& j) {
  if (!j.is_object() || stringOr(j, "type") != "FeatureCollection" || !j.contains("features") ||
      !j["features"].is_array() || j["features"].empty())
    return false;
  return std::all_of(j["features"].begin(), j["features"].end(), isItem);
}

std::optional<json> parseJsonFile(const std::string& file) {
  if (!endsWith(lower(file), ".json")) return std::nullopt;
  const auto text = readText(file);
  if (!text) return std::nullopt;
  try {
    return json::parse(*text);
  } catch (const json::exception&) {
    return std::nullopt;  // not JSON: let GDAL say what it is
  }
}

std::optional<StacImage> imageOfItem(const json& item, const std::string& path,
                                     const std::vector<fs::path>& localDirs, const fs::path& dir);

}  // namespace

std::vector<std::string> expandItemCollection(const std::string& path) {
  const auto j = parseJsonFile(path);
  if (!j || !isItemCollection(*j)) return {path};
  std::vector<std::string> out;
  for (const auto& f : (*j)["features"]) {
    const std::string id = stringOr(f, "id");
    if (id.empty())
      throw DataError("io: STAC ItemCollection '" + path +
                      "' has an item without an id; every item needs one to be read as a date.");
    out.push_back(path + "#" + id);
  }
  return out;
}

std::optional<StacImage> readStacItem(const std::string& path) {
  const auto [file, itemId] = splitFragment(path);
  const auto parsed = parseJsonFile(file);
  if (!parsed) return std::nullopt;
  const json& j = *parsed;
  const fs::path dir = fs::path(file).parent_path();
  if (isItemCollection(j)) {
    if (itemId.empty())
      throw DataError("io: STAC ItemCollection '" + file + "' holds " +
                      std::to_string(j["features"].size()) +
                      " items; this input reads one date. Give one item as '" + file +
                      "#ITEM_ID' (delineate and info read every item of a collection).");
    for (const auto& f : j["features"])
      if (stringOr(f, "id") == itemId) return imageOfItem(f, path, {dir / itemId, dir}, dir);
    throw DataError("io: STAC ItemCollection '" + file + "' has no item '" + itemId +
                    "'. Check the id after '#'.");
  }
  if (!j.is_object() || !j.contains("stac_version") || !j.contains("assets")) return std::nullopt;
  if (!isItem(j)) {
    throw DataError("io: STAC '" + file +
                    "' is neither an item (a Feature with assets) nor an ItemCollection of "
                    "items. Give an item, or a FeatureCollection of items.");
  }
  return imageOfItem(j, path, {dir}, dir);
}

namespace {

std::optional<StacImage> imageOfItem(const json& item, const std::string& path,
                                     const std::vector<fs::path>& localDirs, const fs::path& dir) {
  const std::string id = stringOr(item, "id", path);
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
  for (const auto& [key, name] : bands) {
    const std::string href = assets[key]["href"].get<std::string>();
    out.paths.push_back(assetPath(localDirs, dir, key, href));
    out.hrefs.push_back(href);
    out.bandNames.push_back(name);
  }
  out.datetime = isoUtc(stringOr(props, "datetime")).value_or("");
  if (out.datetime.empty()) out.datetime = isoUtc(stringOr(props, "start_datetime")).value_or("");
  return out;
}

}  // namespace
}  // namespace fieldseg::io

namespace fieldseg {
std::vector<std::string> imageDates(const std::string& image) {
  return io::expandItemCollection(image);
}
}  // namespace fieldseg
