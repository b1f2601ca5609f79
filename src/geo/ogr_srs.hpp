// The one door from GDAL objects to `Crs` for src/io: io hands over the OSR object a dataset or a
// layer carries and never touches OSR itself (OSR and PROJ live in src/geo only). The type is
// only forward-declared here, so including this header brings no OSR in.
#pragma once

#include "fieldseg/geo.hpp"

class OGRSpatialReference;

namespace fieldseg::geo {

/// True when `srs` is null or defines no CRS.
bool isEmptySrs(const OGRSpatialReference* srs);

/// The CRS `srs` defines: by its EPSG code when it names one and `preferEpsg` (keeps the EPSG
/// label), else from its WKT2. An empty Crs for a null or empty `srs`; DataError when it cannot be
/// expressed.
Crs crsOfSrs(const OGRSpatialReference* srs, bool preferEpsg);

/// A new OSR object for `crs` in traditional GIS axis order, reference count 1 (the caller calls
/// releaseSrs), or null when OGR cannot parse its WKT.
OGRSpatialReference* newSrs(const Crs& crs);
/// Drops one reference to `srs` (null: nothing).
void releaseSrs(OGRSpatialReference* srs);

}  // namespace fieldseg::geo
