// Merge: every cell of the grid must be finished; their fields are concatenated in cell order and
// renumbered. Cells own whole fields (halo + tile ownership rule), so a field that straddles a cell
// edge is already complete in the one cell that owns it: merge stitches by construction and only
// checks that no geometry arrives twice.
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"

namespace fieldseg::batch {

namespace {

// Hash of the exact coordinates; equal hashes are confirmed by comparing the polygons.
std::uint64_t geometryHash(const Polygon& p) {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](double v) {
    unsigned char bytes[sizeof(double)];
    std::memcpy(bytes, &v, sizeof(double));
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  auto ring = [&](const Ring& r) {
    for (const auto& pt : r) {
      mix(pt.x);
      mix(pt.y);
    }
    mix(1e308);  // ring separator
  };
  ring(p.exterior);
  for (const auto& hole : p.holes) ring(hole);
  return h;
}

bool sameRing(const Ring& a, const Ring& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].x != b[i].x || a[i].y != b[i].y) return false;
  return true;
}

bool samePolygon(const Polygon& a, const Polygon& b) {
  if (!sameRing(a.exterior, b.exterior) || a.holes.size() != b.holes.size()) return false;
  for (size_t i = 0; i < a.holes.size(); ++i)
    if (!sameRing(a.holes[i], b.holes[i])) return false;
  return true;
}

}  // namespace

FieldSet mergeCells(const GridManifest& grid, const std::string& dir, MergeReport* report) {
  std::vector<std::string> bad;
  for (const auto& cell : grid.cells) {
    CellStatus st = inspectCell(dir, cell.id);
    if (st.state != CellState::Finished) {
      bad.push_back("'" + cell.id + "' (cell " + std::to_string(cell.index) + ", " +
                    toString(st.state) + ": " + st.detail + ")");
    }
  }
  if (!bad.empty()) {
    std::string list;
    for (size_t i = 0; i < bad.size() && i < 20; ++i) list += (i ? ", " : "") + bad[i];
    if (bad.size() > 20) list += ", and " + std::to_string(bad.size() - 20) + " more";
    throw DataError("batch: " + std::to_string(bad.size()) + " of " +
                    std::to_string(grid.cells.size()) + " cells are not finished in '" + dir +
                    "': " + list +
                    ". Rerun `fieldseg delineate --grid` for their shards (finished cells are "
                    "skipped), then merge again.");
  }
  FieldSet out;
  out.crs = grid.crs;
  MergeReport r;
  std::unordered_map<std::uint64_t, std::vector<size_t>> seen;  // hash -> indices in out.fields
  std::int64_t nextId = 1;
  std::unordered_set<std::string> usedIds;
  for (const auto& cell : grid.cells) {
    FieldSet fs = readCellOutput(dir, cell.id);
    if (!fs.crs.sameAs(grid.crs)) {
      throw DataError("batch: cell output of '" + cell.id + "' is in " + fs.crs.label() +
                      ", the grid in " + grid.crs.label() +
                      ". The output directory belongs to another grid: use a fresh --out-dir.");
    }
    ++r.cells;
    for (auto& f : fs.fields) {
      auto& same = seen[geometryHash(f.polygon)];
      bool duplicate = false;
      for (size_t k : same) duplicate = duplicate || samePolygon(out.fields[k].polygon, f.polygon);
      if (duplicate) {
        ++r.duplicatesDropped;
        continue;
      }
      same.push_back(out.fields.size());
      f.id = nextId++;
      auto idIt = f.attrs.find("id");
      if (idIt != f.attrs.end()) {
        if (auto* sid = std::get_if<std::string>(&idIt->second)) {
          // String ids (image row/column of the first pixel) stay; cells over different images
          // could repeat one, so a repeat gets a suffix in cell order (deterministic).
          std::string unique = *sid;
          for (int k = 2; !usedIds.insert(unique).second; ++k)
            unique = *sid + "-" + std::to_string(k);
          idIt->second = unique;
        } else {
          idIt->second = f.id;
        }
      }
      out.fields.push_back(std::move(f));
    }
  }
  r.fields = static_cast<int>(out.fields.size());
  if (report) *report = r;
  return out;
}

}  // namespace fieldseg::batch
