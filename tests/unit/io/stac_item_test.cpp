// STAC items as imagery: openRaster on an item JSON reads its data assets (local copies beside the
// item first, by asset key or href file name), in eo:bands order, named by common name, with the
// item's datetime; what is not an item is left to GDAL; a missing asset names its href.
#include "stac_item.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"
#include "raster_fixtures.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::FixtureBand;
using fieldseg::test::FixtureSpec;
using fieldseg::test::TempDir;
using fieldseg::test::writeFixture;

namespace {

void writeBand(const std::string& path, double value) {
  FixtureSpec s;
  FixtureBand b;
  b.value = [value](int, int) { return value; };
  s.bands.push_back(b);
  writeFixture(path, s);
}

// Assets listed out of band order; eo:bands gives the order (nir last) and the common names.
std::string item(const std::string& extraAsset = "") {
  return R"({"type": "Feature", "stac_version": "1.0.0", "id": "t1",
    "geometry": null, "links": [],
    "properties": {"datetime": null, "start_datetime": "2021-08-01T00:00:00Z",
      "eo:bands": [{"name": "B03", "common_name": "red"}, {"name": "B02", "common_name": "green"},
                   {"name": "B04", "common_name": "nir"}]},
    "assets": {
      "B04": {"href": "https://example.invalid/x/04_B04.tif", "type": "image/tiff", "roles": ["data"]},
      "B02": {"href": "https://example.invalid/x/04_B02.tif", "type": "image/tiff", "roles": ["data"]},
      "B03": {"href": "B03_local.tif", "type": "image/tiff; application=geotiff", "roles": ["data"]},
      "thumb": {"href": "thumb.png", "type": "image/png", "roles": ["thumbnail"]})" +
         extraAsset + "}}";
}

}  // namespace

TEST(StacItem, AssetsBecomeANamedBandStackWithTheItemsDate) {
  TempDir dir;
  writeBand(dir.file("B04.tif"), 40);        // local copy named by asset key
  writeBand(dir.file("04_B02.tif"), 20);     // local copy named like the href's file
  writeBand(dir.file("B03_local.tif"), 30);  // relative href
  std::ofstream(dir.file("item.json")) << item();
  const auto src = openRaster({dir.file("item.json")});
  ASSERT_EQ(src->bands().size(), 3u);
  EXPECT_EQ(src->bands()[0].name, "red");
  EXPECT_EQ(src->bands()[1].name, "green");
  EXPECT_EQ(src->bands()[2].name, "nir");
  EXPECT_EQ(src->datetime(), "2021-08-01T00:00:00Z");
  const Raster<float> r = src->read(src->grid().fullWindow());
  EXPECT_FLOAT_EQ(r.at(0, 0, 0), 30);
  EXPECT_FLOAT_EQ(r.at(1, 0, 0), 20);
  EXPECT_FLOAT_EQ(r.at(2, 0, 0), 40);
  // Bands are selected by their common names, as models ask for them.
  OpenOptions o;
  o.bands = {"nir", "red"};
  const auto sel = openRaster({dir.file("item.json")}, o);
  EXPECT_FLOAT_EQ(sel->read(sel->grid().fullWindow()).at(0, 0, 0), 40);
}

TEST(StacItem, AMissingAssetNamesItsHref) {
  TempDir dir;
  writeBand(dir.file("B03_local.tif"), 30);
  writeBand(dir.file("B04.tif"), 40);
  std::ofstream(dir.file("item.json")) << item();
  try {
    (void)openRaster({dir.file("item.json")});
    FAIL() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("https://example.invalid/x/04_B02.tif"), std::string::npos)
        << e.what();
  }
}

TEST(StacItem, WhatIsNotAnItemIsLeftToGdal) {
  TempDir dir;
  std::ofstream(dir.file("fc.json")) << R"({"type": "FeatureCollection", "features": []})";
  EXPECT_FALSE(io::readStacItem(dir.file("fc.json")).has_value());
  std::ofstream(dir.file("broken.json")) << "{not json";
  EXPECT_FALSE(io::readStacItem(dir.file("broken.json")).has_value());
  EXPECT_FALSE(io::readStacItem(dir.file("absent.json")).has_value());
  std::ofstream(dir.file("noassets.json"))
      << R"({"type": "Feature", "stac_version": "1.0.0", "id": "e", "assets": {
            "meta": {"href": "m.xml", "type": "application/xml", "roles": ["metadata"]}}})";
  EXPECT_THROW((void)io::readStacItem(dir.file("noassets.json")), DataError);
}

TEST(StacItem, RwandaItemsReadAsFourNamedBands) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string d = test::realdataDir() +
                        "/rwanda_competition/source_train/"
                        "nasa_rwanda_field_boundary_competition_source_train_00_2021_08";
  if (!std::filesystem::exists(d)) GTEST_SKIP() << d << " is absent";
  const auto src =
      openRaster({d + "/nasa_rwanda_field_boundary_competition_source_train_00_2021_08.json"});
  ASSERT_EQ(src->bands().size(), 4u);
  EXPECT_EQ(src->bands()[0].name, "blue");
  EXPECT_EQ(src->bands()[3].name, "nir");
  EXPECT_EQ(src->datetime(), "2021-08-01T00:00:00Z");
  EXPECT_EQ(src->grid().width(), 256);
}
