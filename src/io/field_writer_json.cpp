// fieldseg's own GeoJSON / GeoJSONSeq output (geojson_stream.hpp) behind FieldWriter: one field at
// a time, or, with VectorWriteOptions::threads > 1, batches of fields reprojected, oriented and
// formatted on several threads in the background and written in order (the bytes do not depend on
// the thread count).
#include <algorithm>
#include <cstdint>
#include <future>
#include <memory>

#include "field_writer_impl.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "run_threads.hpp"

namespace fieldseg {
namespace {

constexpr size_t kBatch = 4096;  // fields a batch: ~10 MB of text for 2 kB fields, ~0.1 s of work

// Reprojects `poly` in place with `transform` (if any); DataError naming the field if it fails.
void reprojectField(Polygon& poly, std::int64_t id, const CoordTransform* transform,
                    const std::string& path) {
  if (!transform) return;
  bool ok = transform->apply(poly.exterior);
  for (Ring& h : poly.holes) ok = transform->apply(h) && ok;
  if (!ok)
    throw DataError("io: cannot reproject field " + std::to_string(id) + " for '" + path +
                    "': some points are outside the target CRS. Check the field set's CRS.");
}

// `r` oriented (CCW or CW) and closed, in place.
void orientInPlace(Ring& r, bool ccw) {
  if (r.size() > 1 && r.front().x == r.back().x && r.front().y == r.back().y) r.pop_back();
  const double a = signedRingArea(r);
  if ((ccw && a < 0) || (!ccw && a > 0)) std::reverse(r.begin(), r.end());
  if (!r.empty()) r.push_back(r.front());
}

// preparedRings(), taking the rings out of `field` (a pending field the writer owns): no copies.
void takePreparedRings(Field& field, const CoordTransform* transform, const std::string& path,
                       std::vector<Ring>& rings) {
  reprojectField(field.polygon, field.id, transform, path);
  rings.clear();
  rings.push_back(std::move(field.polygon.exterior));
  orientInPlace(rings.back(), true);
  for (Ring& h : field.polygon.holes)
    if (h.size() >= 3) {
      rings.push_back(std::move(h));
      orientInPlace(rings.back(), false);
    }
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

std::vector<Ring> preparedRings(const Field& field, const CoordTransform* transform,
                                const std::string& path) {
  Polygon poly = field.polygon;
  reprojectField(poly, field.id, transform, path);
  std::vector<Ring> rings{std::move(poly.exterior)};
  orientInPlace(rings.back(), true);
  for (Ring& h : poly.holes)
    if (h.size() >= 3) {
      rings.push_back(std::move(h));
      orientInPlace(rings.back(), false);
    }
  return rings;
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

FieldWriter::Impl::Formatted FieldWriter::Impl::formatBatch(std::vector<Field>& batch, size_t parts,
                                                            size_t bytesPerField) const {
  const size_t n = batch.size();
  const bool sequence = format.driver == "GeoJSONSeq";
  Formatted out;
  out.text.resize(parts);
  for (size_t t = 0; t < parts; ++t) {
    out.fields.push_back(static_cast<long long>(n * (t + 1) / parts - n * t / parts));
    // Room for the part's text at the size of the fields written so far (no regrowing copies).
    out.text[t].reserve(static_cast<size_t>(out.fields[t]) * bytesPerField + (1 << 12));
  }
  io::runOnThreads(static_cast<int>(parts), [&](int ti) {
    const size_t t = static_cast<size_t>(ti);
    const CoordTransform* ct = !transform ? nullptr
                               : t == 0   ? &*transform
                                          : &threadTransforms[t - 1];
    AttrValue id;
    std::vector<Ring> rings;
    for (size_t i = n * t / parts; i < n * (t + 1) / parts; ++i) {
      takePreparedRings(batch[i], ct, path, rings);
      io::GeoJsonStream::format(out.text[t], rings, propsOf(batch[i], schema, stringIds, id),
                                sequence, i == n * t / parts);
    }
  });
  return out;
}

void FieldWriter::Impl::writeInFlight() {
  if (!inFlight.valid()) return;
  const long long n = inFlightFields;
  try {
    Formatted done = inFlight.get();
    inFlightFields = 0;
    writeFormatted(done, n);
  } catch (...) {
    abandon();
    throw;
  }
}

void FieldWriter::Impl::writeFormatted(const Formatted& done, long long n) {
  for (size_t t = 0; t < done.text.size(); ++t) json->addFormatted(done.text[t], done.fields[t]);
  count += n;
}

void FieldWriter::Impl::flushPending() {
  const size_t n = pending.size();
  if (n == 0) return;
  // The batch before has finished formatting before this one starts (one batch on the threads at
  // a time: they share the transforms), and is written while this one is formatted.
  Formatted before;
  const long long beforeFields = inFlightFields;
  try {
    if (inFlight.valid()) before = inFlight.get();
  } catch (...) {
    abandon();
    throw;
  }
  inFlightFields = 0;
  // No batch is formatting now: the transforms may grow.
  const size_t parts = std::min<size_t>(static_cast<size_t>(threads), (n + 255) / 256);
  while (transform && threadTransforms.size() + 1 < parts)
    threadTransforms.emplace_back(fieldsCrs, outCrs);
  auto batch = std::make_shared<std::vector<Field>>(std::move(pending));
  pending.clear();
  size_t bytes = 0;
  for (const std::string& t : before.text) bytes += t.size();
  if (beforeFields > 0) bytesPerField = bytes / static_cast<size_t>(beforeFields) + 16;
  inFlight = std::async(std::launch::async, [this, batch, parts, b = bytesPerField] {
    return formatBatch(*batch, parts, b);
  });
  inFlightFields = static_cast<long long>(n);
  try {
    writeFormatted(before, beforeFields);
  } catch (...) {
    abandon();  // waits for the batch just started
    throw;
  }
}

}  // namespace fieldseg
