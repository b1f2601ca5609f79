#include "ogr_srs.hpp"

#include <ogr_spatialref.h>

#include <cstdlib>
#include <string>

#include "fieldseg/error.hpp"

namespace fieldseg::geo {

bool isEmptySrs(const OGRSpatialReference* srs) { return srs == nullptr || srs->IsEmpty(); }

Crs crsOfSrs(const OGRSpatialReference* srs, bool preferEpsg) {
  if (isEmptySrs(srs)) return {};
  if (preferEpsg) {
    const char* auth = srs->GetAuthorityName(nullptr);
    const char* code = srs->GetAuthorityCode(nullptr);
    if (auth && code && EQUAL(auth, "EPSG")) {
      try {
        return Crs::fromEpsg(std::atoi(code));
      } catch (const Error&) {
        // fall through to WKT
      }
    }
  }
  char* wkt = nullptr;
  const char* opts[] = {"FORMAT=WKT2_2019", nullptr};
  if (srs->exportToWkt(&wkt, opts) != OGRERR_NONE || !wkt) {
    CPLFree(wkt);
    return {};
  }
  std::string text(wkt);
  CPLFree(wkt);
  return Crs::fromUserInput(text);
}

OGRSpatialReference* newSrs(const Crs& crs) {
  auto* srs = new OGRSpatialReference();
  if (srs->importFromWkt(crs.wkt().c_str()) != OGRERR_NONE) {
    srs->Release();
    return nullptr;
  }
  srs->SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
  return srs;
}

void releaseSrs(OGRSpatialReference* srs) {
  if (srs) srs->Release();
}

}  // namespace fieldseg::geo
