#include <gtest/gtest.h>

#include <set>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using namespace fieldseg::batch;

namespace {

// A north-up grid: origin (x0, y0) top-left, square pixels of `res`.
GridSpec makeGrid(int w, int h, double x0, double y0, double res, const Crs& crs) {
  return GridSpec(w, h, {x0, res, 0, y0, 0, -res}, crs);
}

}  // namespace

TEST(BatchGrid, SnapToExtentGivesExactCellCountAndOrder) {
  Crs utm = Crs::fromEpsg(32636);
  GridSpec g = makeGrid(512, 512, 500000, 4000000, 10, utm);
  GridOptions o;
  o.cellM = 1280;  // 128 px
  o.snapToExtent = true;
  GridManifest m = buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o);
  ASSERT_EQ(m.cells.size(), 16u);
  EXPECT_TRUE(m.crs.sameAs(utm));
  // Row-major from north to south, west to east.
  EXPECT_EQ(m.cells[0].id, "x0_y3");
  EXPECT_EQ(m.cells[1].id, "x1_y3");
  EXPECT_EQ(m.cells[4].id, "x0_y2");
  EXPECT_EQ(m.cells[15].id, "x3_y0");
  for (size_t i = 0; i < m.cells.size(); ++i) {
    EXPECT_EQ(m.cells[i].index, static_cast<int>(i));
    ASSERT_EQ(m.cells[i].images.size(), 1u);
    EXPECT_DOUBLE_EQ(m.cells[i].bounds.maxX - m.cells[i].bounds.minX, 1280);
  }
  EXPECT_DOUBLE_EQ(m.cells[0].bounds.minX, 500000);
  EXPECT_DOUBLE_EQ(m.cells[0].bounds.maxY, 4000000);
}

TEST(BatchGrid, GlobalAlignmentIsIndependentOfTheImageOrigin) {
  Crs utm = Crs::fromEpsg(32636);
  GridSpec g = makeGrid(300, 200, 501234, 4003456, 10, utm);  // 3000 m x 2000 m
  GridOptions o;
  o.cellM = 1000;
  GridManifest m = buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o);
  // x 501234..504234 -> columns 501..504; y 4001456..4003456 -> rows 4001..4003.
  ASSERT_EQ(m.cells.size(), 12u);
  std::set<std::string> ids;
  for (const auto& c : m.cells) {
    ids.insert(c.id);
    EXPECT_DOUBLE_EQ(c.bounds.minX, c.ix * 1000.0);
    EXPECT_DOUBLE_EQ(c.bounds.minY, c.iy * 1000.0);
  }
  EXPECT_TRUE(ids.count("x501_y4003"));
  EXPECT_TRUE(ids.count("x504_y4001"));
}

TEST(BatchGrid, DeterministicAndJsonRoundTrip) {
  Crs utm = Crs::fromEpsg(32636);
  std::vector<ImageFootprint> imgs = {
      footprintOf("/vsis3/b/a.tif", makeGrid(400, 300, 500000, 4000000, 10, utm)),
      footprintOf("b.vrt", makeGrid(400, 300, 503000, 3998000, 10, utm))};
  GridOptions o;
  o.cellM = 1000;
  std::string a = toJson(buildGrid(imgs, FieldSet{}, o));
  std::string b = toJson(buildGrid(imgs, FieldSet{}, o));
  EXPECT_EQ(a, b);
  GridManifest back = gridFromJson(a, "mem");
  EXPECT_EQ(toJson(back), a);
  // Cells where both images overlap list both, in input order.
  bool sawBoth = false;
  for (const auto& c : back.cells) {
    if (c.images.size() == 2) {
      sawBoth = true;
      EXPECT_EQ(c.images[0], "/vsis3/b/a.tif");
      EXPECT_EQ(c.images[1], "b.vrt");
    }
    EXPECT_FALSE(c.images.empty());
  }
  EXPECT_TRUE(sawBoth);
}

TEST(BatchGrid, WriteAndReadFile) {
  test::TempDir tmp;
  Crs utm = Crs::fromEpsg(32636);
  GridOptions o;
  o.cellM = 1000;
  GridManifest m = buildGrid({footprintOf("a.tif", makeGrid(200, 200, 500000, 4000000, 10, utm))},
                             FieldSet{}, o);
  writeGrid(m, tmp.file("grid.json"), false);
  EXPECT_THROW(writeGrid(m, tmp.file("grid.json"), false), UsageError);
  EXPECT_EQ(toJson(readGrid(tmp.file("grid.json"))), toJson(m));
  EXPECT_THROW(readGrid(tmp.file("nope.json")), IoError);
  EXPECT_THROW(gridFromJson("{\"cells\": []}", "x"), DataError);
  EXPECT_THROW(gridFromJson("not json", "x"), DataError);
}

TEST(BatchGrid, AoiSelectsCellsAndReportsUncovered) {
  Crs utm = Crs::fromEpsg(32636);
  GridSpec g = makeGrid(400, 400, 500000, 4004000, 10, utm);  // 500000..504000, 4000000..4004000
  // An L-shaped AOI in lon/lat: transformed to the grid CRS, cells outside it are dropped.
  FieldSet aoi;
  aoi.crs = utm;
  Field f;
  f.polygon.exterior = {{500500, 4000500}, {506500, 4000500}, {506500, 4001500},
                        {501500, 4001500}, {501500, 4003500}, {500500, 4003500}};
  aoi.fields.push_back(f);
  FieldSet aoiLonLat = aoi;
  {
    CoordTransform t(utm, Crs::wgs84());
    t.apply(aoiLonLat.fields[0].polygon.exterior);
    aoiLonLat.crs = Crs::wgs84();
  }
  GridOptions o;
  o.cellM = 1000;
  o.crs = utm;
  GridManifest m = buildGrid({footprintOf("a.tif", g)}, aoiLonLat, o, "aoi.geojson");
  std::set<std::string> ids;
  for (const auto& c : m.cells) ids.insert(c.id);
  // Bottom row (y 4000): x500..503 inside the image; x504..506 only in the AOI -> uncovered.
  for (int x = 500; x <= 503; ++x) EXPECT_TRUE(ids.count("x" + std::to_string(x) + "_y4000")) << x;
  EXPECT_TRUE(ids.count("x500_y4001"));
  EXPECT_TRUE(ids.count("x501_y4001"));
  EXPECT_TRUE(ids.count("x500_y4003"));
  EXPECT_FALSE(ids.count("x502_y4002"));  // outside the L
  std::set<std::string> uncovered(m.uncoveredCells.begin(), m.uncoveredCells.end());
  EXPECT_EQ(uncovered, (std::set<std::string>{"x504_y4000", "x505_y4000", "x506_y4000",
                                              "x504_y4001", "x505_y4001", "x506_y4001"}));
  EXPECT_EQ(m.aoi, "aoi.geojson");
}

TEST(BatchGrid, AutoCrsIsUtmForGeographicImages) {
  GridSpec g = GridSpec(100, 100, {30.0, 0.001, 0, -1.0, 0, -0.001}, Crs::wgs84());
  GridOptions o;
  o.cellM = 5000;
  GridManifest m = buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o);
  ASSERT_TRUE(m.crs.epsg().has_value());
  EXPECT_EQ(*m.crs.epsg(), 32736);  // lon 30.05 -> zone 36, southern hemisphere
  EXPECT_FALSE(m.cells.empty());
}

TEST(BatchGrid, RejectsBadOptions) {
  Crs utm = Crs::fromEpsg(32636);
  GridSpec g = makeGrid(100, 100, 500000, 4000000, 10, utm);
  GridOptions o;
  o.cellM = 0;
  EXPECT_THROW(buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o), UsageError);
  o.cellM = 1000;
  EXPECT_THROW(buildGrid({}, FieldSet{}, o), UsageError);
  o.crs = Crs::wgs84();
  EXPECT_THROW(buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o), UsageError);
}

TEST(BatchGrid, CellWindowsPartitionThePixels) {
  Crs utm = Crs::fromEpsg(32636);
  // Image origin not aligned with the cell grid, and cells not a multiple of the pixel size.
  GridSpec g = makeGrid(337, 251, 500003.7, 4002511.1, 3.3, utm);
  GridOptions o;
  o.cellM = 170;
  GridManifest m = buildGrid({footprintOf("a.tif", g)}, FieldSet{}, o);
  std::vector<int> hits(static_cast<size_t>(g.width()) * g.height(), 0);
  for (const auto& c : m.cells) {
    PixelWindow w = cellWindow(c, m.crs, g);
    for (int r = w.y; r < w.y + w.height; ++r)
      for (int col = w.x; col < w.x + w.width; ++col)
        ++hits[static_cast<size_t>(r) * g.width() + col];
  }
  for (size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i], 1) << "pixel " << i;
  EXPECT_THROW(cellWindow(m.cells[0], m.crs, makeGrid(10, 10, 0, 0, 1, Crs::fromEpsg(32635))),
               DataError);
}

namespace {

// A valid two-cell manifest with the cell ids (and optionally the declared count) replaced.
std::string manifestWithIds(const std::string& id0, const std::string& id1, int declared = 2) {
  Crs utm = Crs::fromEpsg(32636);
  GridOptions o;
  o.cellM = 1000;
  GridManifest m = buildGrid({footprintOf("a.tif", makeGrid(200, 100, 500000, 4000000, 10, utm))},
                             FieldSet{}, o);
  EXPECT_EQ(m.cells.size(), 2u);
  m.cells[0].id = id0;
  m.cells[1].id = id1;
  std::string text = toJson(m);
  const std::string key = "\"cell_count\": 2";
  const auto at = text.find(key);
  EXPECT_NE(at, std::string::npos);
  text.replace(at, key.size(), "\"cell_count\": " + std::to_string(declared));
  return text;
}

}  // namespace

TEST(BatchGrid, CellIdsThatCouldNameAPathAreRefused) {
  EXPECT_NO_THROW(gridFromJson(manifestWithIds("x500_y4000", "x-1_y-2"), "mem"));
  const std::vector<std::string> hostile = {"../../../../x/pwn",
                                            "/etc/passwd",
                                            "../../../../etc/passwd",
                                            "a/b",
                                            "a\\\\b",
                                            "..",
                                            ".hidden",
                                            "",
                                            "-rf",
                                            "x0.y0",
                                            std::string(65, 'a'),
                                            std::string(300, 'b')};
  for (const auto& id : hostile) {
    SCOPED_TRACE(id);
    EXPECT_THROW(gridFromJson(manifestWithIds(id, "x1_y1"), "mem"), DataError);
    EXPECT_FALSE(isValidCellId(id));
    EXPECT_THROW(cellPaths("/tmp/out", id), DataError);
  }
  // A NUL byte inside an id (JSON "\u0000").
  std::string withNul = manifestWithIds("x0_y0PLACEHOLDER", "x1_y1");
  withNul.replace(withNul.find("PLACEHOLDER"), 11, "\\u0000.done");
  EXPECT_THROW(gridFromJson(withNul, "mem"), DataError);
  EXPECT_TRUE(isValidCellId(std::string(kMaxCellIdLength, 'a')));
}

TEST(BatchGrid, DuplicateIdsAndWrongCellCountAreRefused) {
  EXPECT_THROW(gridFromJson(manifestWithIds("x0_y0", "x0_y0"), "mem"), DataError);
  EXPECT_THROW(gridFromJson(manifestWithIds("x0_y0", "x1_y0", 3), "mem"), DataError);
  EXPECT_THROW(gridFromJson(manifestWithIds("x0_y0", "x1_y0", 1), "mem"), DataError);
  try {
    gridFromJson(manifestWithIds("x0_y0", "x0_y0"), "grid.json");
    FAIL() << "duplicate ids accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("twice"), std::string::npos) << e.what();
  }
}
