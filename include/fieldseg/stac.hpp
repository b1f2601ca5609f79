// STAC inputs beyond one item: an ItemCollection (or a STAC API search result) given as IMAGE is
// several dates, one per item. openRaster reads each as `COLLECTION.json#ITEM_ID`
// (src/io/stac_item.cpp). Owner: io. Reentrant.
#pragma once

#include <string>
#include <vector>

namespace fieldseg {

/// `image` itself, or, when it names an ItemCollection / search-result JSON (a local file or a
/// /vsicurl/ path), `image#ID` for each of its items in order. Throws DataError for an item
/// without an id.
std::vector<std::string> imageDates(const std::string& image);

}  // namespace fieldseg
