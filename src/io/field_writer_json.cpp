// fieldseg's own GeoJSON / GeoJSONSeq output (geojson_stream.hpp) behind FieldWriter: one field at
// a time, or, with VectorWriteOptions::threads > 1, batches of fields reprojected, oriented and
// formatted on several threads and written in order (the bytes do not depend on the thread count).
#include <algorithm>

#include "field_writer_impl.hpp"
#include "fieldseg/error.hpp"
#include "run_threads.hpp"

namespace fieldseg {
namespace {

constexpr size_t kBatch = 4096;  // fields a batch: ~1 MB of text, a few ms of work

// The rings of `field` ready to write: reprojected with `transform` (if any), oriented, closed.
std::vector<Ring> preparedRings(const Field& field, const CoordTransform* transform,
                                const std::string& path) {
  Polygon poly = field.polygon;
  if (transform) {
    bool ok = transform->apply(poly.exterior);
    for (Ring& h : poly.holes) ok = transform->apply(h) && ok;
    if (!ok)
      throw DataError("io: cannot reproject field " + std::to_string(field.id) + " for '" + path +
                      "': some points are outside the target CRS. Check the field set's CRS.");
  }
  std::vector<Ring> rings{orientedRing(poly.exterior, true)};
  for (const Ring& h : poly.holes)
    if (h.size() >= 3) rings.push_back(orientedRing(h, false));
  return rings;
}

// The feature's properties: "id" (as the schema's id column) then the schema's attributes.
std::vector<io::GeoJsonStream::Prop> propsOf(const Field& field, const std::vector<AttrDef>& schema,
                                             bool stringIds, AttrValue& id) {
  static const std::string idName = "id";
  id = field.id;
  if (stringIds) {
    auto it = field.attrs.find("id");
    const std::string* s =
        it == field.attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
    id = s ? *s : std::to_string(field.id);
  }
  std::vector<io::GeoJsonStream::Prop> props;
  props.reserve(schema.size() + 1);
  props.push_back({&idName, stringIds ? AttrType::String : AttrType::Integer64, &id});
  for (const AttrDef& a : schema) {
    auto it = field.attrs.find(a.name);
    props.push_back({&a.name, a.type, it == field.attrs.end() ? nullptr : &it->second});
  }
  return props;
}

}  // namespace

namespace {

double signedArea(const Ring& r) {
  double a = 0;
  const size_t n = r.size();
  for (size_t i = 0; i < n; ++i) {
    const Point& p = r[i];
    const Point& q = r[(i + 1) % n];
    a += p.x * q.y - q.x * p.y;
  }
  return 0.5 * a;
}

}  // namespace

Ring orientedRing(const Ring& in, bool ccw) {
  Ring r = in;
  if (r.size() > 1 && r.front().x == r.back().x && r.front().y == r.back().y) r.pop_back();
  const double a = signedArea(r);
  if ((ccw && a < 0) || (!ccw && a > 0)) std::reverse(r.begin(), r.end());
  if (!r.empty()) r.push_back(r.front());
  return r;
}

void FieldWriter::addJson(const Field& field) {
  Impl& m = *impl_;
  const std::vector<Ring> rings =
      preparedRings(field, m.transform ? &*m.transform : nullptr, m.path);
  AttrValue id;
  const auto props = propsOf(field, m.schema, m.stringIds, id);
  try {
    m.json->add(rings, props);
  } catch (...) {
    m.abandon();
    throw;
  }
  ++m.count;
}

void FieldWriter::addPending(Field&& field) {
  Impl& m = *impl_;
  m.pending.push_back(std::move(field));
  if (m.pending.size() >= kBatch) m.flushPending();
}

void FieldWriter::Impl::flushPending() {
  const size_t n = pending.size();
  if (n == 0) return;
  const size_t parts = std::min<size_t>(static_cast<size_t>(threads), (n + 255) / 256);
  while (transform && threadTransforms.size() + 1 < parts)
    threadTransforms.emplace_back(fieldsCrs, outCrs);
  const bool sequence = format.driver == "GeoJSONSeq";
  std::vector<std::string> text(parts);
  io::runOnThreads(static_cast<int>(parts), [&](int ti) {
    const size_t t = static_cast<size_t>(ti);
    const CoordTransform* ct = !transform ? nullptr
                               : t == 0   ? &*transform
                                          : &threadTransforms[t - 1];
    AttrValue id;
    for (size_t i = n * t / parts; i < n * (t + 1) / parts; ++i) {
      const std::vector<Ring> rings = preparedRings(pending[i], ct, path);
      io::GeoJsonStream::format(text[t], rings, propsOf(pending[i], schema, stringIds, id),
                                sequence, i == n * t / parts);
    }
  });
  try {
    for (size_t t = 0; t < parts; ++t)
      json->addFormatted(text[t], static_cast<long long>(n * (t + 1) / parts - n * t / parts));
  } catch (...) {
    abandon();
    throw;
  }
  count += static_cast<long long>(n);
  pending.clear();
}

}  // namespace fieldseg
