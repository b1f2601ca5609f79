// --aoi as the commands take it: a vector file (any OGR source, any CRS), or a lon/lat bounding box
// "minlon,minlat,maxlon,maxlat" (WGS84, as `gdal_translate -projwin` and `rio clip --bounds` users
// type it).
#pragma once

#include <string>

#include "fieldseg/fields.hpp"

namespace fieldseg::cli {

/// The area of interest `text` names. A value of four comma-separated numbers that is not an
/// existing file is a bounding box (UsageError when it is not a valid lon/lat box); anything else
/// is read with readFields.
FieldSet readAoi(const std::string& text, const std::string& command);

}  // namespace fieldseg::cli
