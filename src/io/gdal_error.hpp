// The GDAL error capture of src/geo (src/geo/gdal_error_scope.hpp), under the names src/io uses.
#pragma once

#include "gdal_error_scope.hpp"  // src/geo

namespace fieldseg::io {

using geo::gdalCause;
using geo::GdalErrorScope;
using geo::initGdal;

}  // namespace fieldseg::io
