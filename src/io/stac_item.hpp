// STAC items as imagery (src/io/raster_source.cpp): an item JSON names one date's bands as
// assets. The item is resolved to a stack of single-band files, named by their eo:bands common
// names, with the item's datetime.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fieldseg::io {

struct StacImage {
  std::vector<std::string> paths;      ///< one per data asset, in band order
  std::vector<std::string> bandNames;  ///< common name (else eo:bands name, else asset key)
  std::vector<std::string> hrefs;      ///< the assets' hrefs as the item gives them
  std::string datetime;                ///< properties.datetime, else start_datetime ("" if none)
};

/// When `path` is a STAC item (a JSON Feature with "stac_version" and "assets"; a local file or a
/// GDAL virtual path such as /vsicurl/https://...), or `COLLECTION.json#ITEM_ID` (one item of an
/// ItemCollection or STAC API search result), the image it describes; else nothing. Each data asset
/// (role "data", or a GeoTIFF/COG type, not a thumbnail or overview) is read from a local copy
/// beside the item when there is one (named by the asset key, e.g. B01.tif as download clients
/// leave them, or by the href's file name), else from its href (http(s) through /vsicurl/, s3://
/// through /vsis3/, relative to the item); an item of a collection looks in the folder named by its
/// id beside the collection first. Throws DataError for an item without usable data assets, a
/// collection given without an item id, or an unknown id.
std::optional<StacImage> readStacItem(const std::string& path);

/// `path` itself, or, when it is an ItemCollection / search result, `path#ID` for each of its
/// items in order (each one date).
std::vector<std::string> expandItemCollection(const std::string& path);

}  // namespace fieldseg::io
