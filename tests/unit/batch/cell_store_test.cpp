#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using namespace fieldseg::batch;
namespace fs = std::filesystem;

namespace {

// A 4x4 grid of 100 m cells starting at (500000, 4000000).
GridManifest smallGrid() {
  GridOptions o;
  o.cellM = 100;
  o.snapToExtent = true;
  GridSpec g(40, 40, {500000, 10, 0, 4000400, 0, -10}, Crs::fromEpsg(32636));
  return buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o);
}

// Fields that a fake delineator "owns" in a cell: k squares with awkward coordinates.
FieldSet fakeFields(const GridCell& c, int k) {
  FieldSet fs;
  fs.crs = c.bounds.crs;
  for (int i = 0; i < k; ++i) {
    Field f;
    f.id = i + 1;
    double x = c.bounds.minX + 10.123456789012345 + i * 20, y = c.bounds.minY + 5.000000000000001;
    f.polygon.exterior = {{x, y}, {x + 12.5, y}, {x + 12.5, y + 7.25}, {x, y + 7.25}};
    if (i == 0) f.polygon.holes.push_back({{x + 1, y + 1}, {x + 2, y + 1}, {x + 2, y + 2}});
    f.attrs["area"] = 0.0090625;
    f.attrs["id"] = static_cast<std::int64_t>(i + 1);
    f.attrs["cell"] = c.id;
    fs.fields.push_back(f);
  }
  return fs;
}

void truncateFile(const std::string& path) {
  auto size = fs::file_size(path);
  fs::resize_file(path, size / 2);
}

}  // namespace

TEST(BatchCellStore, StatesFollowTheFiles) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  const GridCell& c = g.cells[5];
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Missing);
  writeCellOutput(tmp.path(), c, g.crs, fakeFields(c, 3));
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Finished);
  CellPaths p = cellPaths(tmp.path(), c.id);

  truncateFile(p.output);
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Corrupt);
  EXPECT_THROW(readCellOutput(tmp.path(), c.id), DataError);

  writeCellOutput(tmp.path(), c, g.crs, fakeFields(c, 3));
  fs::remove(p.output);
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Unfinished);

  writeCellOutput(tmp.path(), c, g.crs, fakeFields(c, 3));
  fs::remove(p.marker);
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Unfinished);

  // Same length, different bytes: caught by the hash.
  writeCellOutput(tmp.path(), c, g.crs, fakeFields(c, 3));
  {
    std::fstream f(p.output, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(10);
    f.put('#');
  }
  EXPECT_EQ(inspectCell(tmp.path(), c.id).state, CellState::Corrupt);
  // No temp files left behind by the atomic writes.
  for (const auto& e : fs::directory_iterator(fs::path(tmp.path()) / "cells"))
    EXPECT_EQ(e.path().string().find(".fieldseg-tmp-"), std::string::npos) << e.path();
}

TEST(BatchCellStore, RoundTripIsExact) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  const GridCell& c = g.cells[0];
  FieldSet in = fakeFields(c, 4);
  writeCellOutput(tmp.path(), c, g.crs, in);
  FieldSet out = readCellOutput(tmp.path(), c.id);
  EXPECT_TRUE(out.crs.sameAs(g.crs));
  ASSERT_EQ(out.fields.size(), in.fields.size());
  for (size_t i = 0; i < in.fields.size(); ++i) {
    const auto &a = in.fields[i], &b = out.fields[i];
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(a.attrs, b.attrs);
    ASSERT_EQ(a.polygon.exterior.size(), b.polygon.exterior.size());
    for (size_t k = 0; k < a.polygon.exterior.size(); ++k) {
      EXPECT_EQ(a.polygon.exterior[k].x, b.polygon.exterior[k].x);  // bit-exact
      EXPECT_EQ(a.polygon.exterior[k].y, b.polygon.exterior[k].y);
    }
    ASSERT_EQ(a.polygon.holes.size(), b.polygon.holes.size());
  }
}

TEST(BatchRunShard, RerunRedoesExactlyTheDamagedCells) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  std::map<std::string, int> calls;
  CellDelineator fake = [&](const GridCell& c) {
    ++calls[c.id];
    return fakeFields(c, 2);
  };
  ShardSpec all;  // 0 of 1
  ShardRunReport r1 = runShard(g, all, tmp.path(), fake);
  EXPECT_EQ(r1.processed(), 16);
  EXPECT_EQ(r1.skipped(), 0);
  EXPECT_TRUE(fs::exists(fs::path(tmp.path()) / "runs" / "shard-0-of-1.json"));

  ShardRunReport r2 = runShard(g, all, tmp.path(), fake);
  EXPECT_EQ(r2.processed(), 0);
  EXPECT_EQ(r2.skipped(), 16);

  fs::remove(cellPaths(tmp.path(), g.cells[1].id).output);
  fs::remove(cellPaths(tmp.path(), g.cells[7].id).output);
  truncateFile(cellPaths(tmp.path(), g.cells[12].id).output);
  calls.clear();
  ShardRunReport r3 = runShard(g, all, tmp.path(), fake);
  EXPECT_EQ(r3.processed(), 3);
  EXPECT_EQ(r3.skipped(), 13);
  EXPECT_EQ(calls, (std::map<std::string, int>{
                       {g.cells[1].id, 1}, {g.cells[7].id, 1}, {g.cells[12].id, 1}}));
  for (const auto& c : r3.cells) {
    if (c.id == g.cells[12].id) {
      EXPECT_EQ(c.reason, "corrupt");
    }
    if (c.id == g.cells[1].id) {
      EXPECT_EQ(c.reason, "unfinished");
    }
  }
  ShardRunOptions force;
  force.force = true;
  EXPECT_EQ(runShard(g, all, tmp.path(), fake, force).processed(), 16);
}

TEST(BatchRunShard, ShardsRunOnlyTheirCellsAndFailuresAreReported) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  std::map<std::string, int> calls;
  for (int s = 0; s < 3; ++s) {
    ShardSpec spec;
    spec.index = s;
    spec.count = 3;
    CellDelineator fake = [&](const GridCell& c) {
      EXPECT_EQ(shardOfCell(c.index, 16, 3, g.shardMode), s);
      ++calls[c.id];
      return fakeFields(c, 1);
    };
    runShard(g, spec, tmp.path(), fake);
  }
  EXPECT_EQ(calls.size(), 16u);
  for (const auto& [id, n] : calls) EXPECT_EQ(n, 1) << id;

  test::TempDir tmp2;
  CellDelineator flaky = [&](const GridCell& c) -> FieldSet {
    if (c.index == 3) throw DataError("synthetic failure");
    return fakeFields(c, 1);
  };
  try {
    runShard(g, ShardSpec{}, tmp2.path(), flaky);
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(g.cells[3].id), std::string::npos) << e.what();
  }
  // The other cells were still done.
  EXPECT_EQ(inspectCell(tmp2.path(), g.cells[4].id).state, CellState::Finished);
  EXPECT_EQ(inspectCell(tmp2.path(), g.cells[3].id).state, CellState::Missing);
}

TEST(BatchMerge, ConcatenatesRenumbersAndNamesMissingCells) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  runShard(g, ShardSpec{}, tmp.path(),
           [](const GridCell& c) { return fakeFields(c, c.index % 3); });
  MergeReport rep;
  FieldSet merged = mergeCells(g, tmp.path(), &rep);
  int expected = 0;
  for (const auto& c : g.cells) expected += c.index % 3;
  ASSERT_EQ(static_cast<int>(merged.fields.size()), expected);
  EXPECT_EQ(rep.fields, expected);
  EXPECT_EQ(rep.cells, 16);
  EXPECT_EQ(rep.duplicatesDropped, 0);
  for (size_t i = 0; i < merged.fields.size(); ++i) {
    EXPECT_EQ(merged.fields[i].id, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(std::get<std::int64_t>(merged.fields[i].attrs.at("id")), merged.fields[i].id);
  }

  fs::remove(cellPaths(tmp.path(), g.cells[9].id).output);
  fs::remove(cellPaths(tmp.path(), g.cells[9].id).marker);
  fs::remove(cellPaths(tmp.path(), g.cells[2].id).marker);
  try {
    mergeCells(g, tmp.path());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("'" + g.cells[9].id + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'" + g.cells[2].id + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 of 16"), std::string::npos) << msg;
  }
}

TEST(BatchMerge, DropsAGeometryDeliveredTwice) {
  test::TempDir tmp;
  GridManifest g = smallGrid();
  // Cells 0 and 1 both deliver the same field (a broken ownership rule would do this).
  runShard(g, ShardSpec{}, tmp.path(), [&](const GridCell& c) {
    return c.index <= 1 ? fakeFields(g.cells[0], 1) : fakeFields(c, 1);
  });
  MergeReport rep;
  FieldSet merged = mergeCells(g, tmp.path(), &rep);
  EXPECT_EQ(rep.duplicatesDropped, 1);
  EXPECT_EQ(merged.fields.size(), 15u);
}
