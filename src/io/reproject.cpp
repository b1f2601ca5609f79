// reproject(): every ring of every polygon through one CoordTransform (src/geo owns PROJ/OSR).
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"

namespace fieldseg {

FieldSet reproject(const FieldSet& in, const Crs& to) {
  if (to.empty())
    throw DataError("io: cannot reproject fields to an empty CRS. Give a target CRS.");
  if (in.crs.empty())
    throw DataError("io: cannot reproject fields to '" + to.label() +
                    "': the field set has no CRS. Give it one (e.g. EPSG:4326).");
  FieldSet out = in;
  out.crs = to;
  if (in.crs.sameAs(to)) return out;
  CoordTransform transform(in.crs, to);
  for (Field& f : out.fields) {
    bool ok = transform.apply(f.polygon.exterior);
    for (Ring& h : f.polygon.holes) ok = transform.apply(h) && ok;
    if (!ok)
      throw DataError("io: cannot reproject field " + std::to_string(f.id) + " from '" +
                      in.crs.label() + "' to '" + to.label() +
                      "': some points are outside the target CRS. Check the source CRS.");
  }
  return out;
}

}  // namespace fieldseg
