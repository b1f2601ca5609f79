// Merge: every cell of the grid must be finished; their fields are concatenated in cell order and
// renumbered. Cells own whole fields (halo + tile ownership rule), so a field that straddles a cell
// edge is already complete in the one cell that owns it: merge stitches by construction and only
// checks that no geometry arrives twice.
#include <set>
#include <sstream>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"

namespace fieldseg::batch {

namespace {

std::string geometryKey(const Polygon& p) {
  std::ostringstream os;
  os.precision(17);
  auto ring = [&](const Ring& r) {
    for (const auto& pt : r) os << pt.x << ' ' << pt.y << ';';
    os << '|';
  };
  ring(p.exterior);
  for (const auto& h : p.holes) ring(h);
  return os.str();
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
  std::set<std::string> seen;
  std::int64_t nextId = 1;
  for (const auto& cell : grid.cells) {
    FieldSet fs = readCellOutput(dir, cell.id);
    if (!fs.crs.sameAs(grid.crs)) {
      throw DataError("batch: cell output of '" + cell.id + "' is in " + fs.crs.label() +
                      ", the grid in " + grid.crs.label() +
                      ". The output directory belongs to another grid: use a fresh --out-dir.");
    }
    ++r.cells;
    for (auto& f : fs.fields) {
      if (!seen.insert(geometryKey(f.polygon)).second) {
        ++r.duplicatesDropped;
        continue;
      }
      f.id = nextId++;
      if (f.attrs.count("id")) f.attrs["id"] = f.id;
      out.fields.push_back(std::move(f));
    }
  }
  r.fields = static_cast<int>(out.fields.size());
  if (report) *report = r;
  return out;
}

}  // namespace fieldseg::batch
