// [gis] A STAC item (or an ItemCollection: one date per item) as IMAGE: `fieldseg delineate
// ITEM.json --model ...` on real Rwanda items (the assets' local copies sit beside each item, named
// by asset key, as download clients leave them); several items are several dates, and the first
// item's date is every feature's determination_datetime.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace fieldseg::test;

TEST(StacDelineate, RwandaItemsGiveFieldsCarryingTheItemDate) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string base = realdataDir() + "/rwanda_competition/source_train/";
  const std::string stem = "nasa_rwanda_field_boundary_competition_source_train_17_2021_";
  auto item = [&](const char* month) { return base + stem + month + "/" + stem + month + ".json"; };
  if (!fs::exists(item("08"))) GTEST_SKIP() << item("08") << " is absent";
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  TempDir dir;
  const auto r = runCli({"delineate", item("08"), item("03"), "--model", model, "--out",
                         dir.file("f.geojson"), "--threads", "2"});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::ifstream in(dir.file("f.geojson"));
  const auto fc = nlohmann::json::parse(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  ASSERT_GT(fc["features"].size(), 5u);
  for (const auto& f : fc["features"])
    ASSERT_EQ(f["properties"]["determination_datetime"], "2021-08-01T00:00:00Z") << f.dump();
}

// An ItemCollection (a STAC API search result's shape) is one date per item. The download layout
// is a folder per item id beside the collection (here links to the real item folders); the
// dates' assets are found there, not fetched from their remote hrefs.
TEST(StacDelineate, ItemCollectionIsOneDatePerItem) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string base = realdataDir() + "/rwanda_competition/source_train/";
  const std::string stem = "nasa_rwanda_field_boundary_competition_source_train_17_2021_";
  auto item = [&](const char* month) { return base + stem + month + "/" + stem + month + ".json"; };
  if (!fs::exists(item("08")) || !fs::exists(item("03"))) GTEST_SKIP() << "Rwanda items absent";
  TempDir dir;
  nlohmann::json fc = {{"type", "FeatureCollection"}, {"features", nlohmann::json::array()}};
  for (const char* month : {"08", "03"}) {
    std::ifstream in(item(month));
    nlohmann::json it = nlohmann::json::parse(
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
    fs::create_directory_symlink(fs::path(item(month)).parent_path(),
                                 dir.file(it["id"].get<std::string>()));
    fc["features"].push_back(it);
  }
  {
    std::ofstream out(dir.file("search.json"));
    out << fc.dump();
  }
  // info: one entry per item, each with the item's four bands.
  auto r = runCli({"info", dir.file("search.json"), "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array()) << r.out;
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["bands"].size(), 4u);
  // labels reads one date: the collection needs an item id.
  r = runCli({"labels", "--image", dir.file("search.json"), "--fields",
              base + "../fields/chip_17.geojson", "--out", dir.file("l.tif")});
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("#ITEM_ID"), std::string::npos) << r.err;
  // delineate: two dates, the first item's date in every feature.
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  r = runCli({"delineate", dir.file("search.json"), "--model", model, "--out",
              dir.file("f.geojson"), "--threads", "2"});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::ifstream rec(dir.file("f.geojson.run.json"));
  const auto run = nlohmann::json::parse(
      std::string(std::istreambuf_iterator<char>(rec), std::istreambuf_iterator<char>()));
  EXPECT_EQ(run["result"]["datetime"], "2021-08-01T00:00:00Z") << run["result"].dump();
  std::ifstream in(dir.file("f.geojson"));
  const auto out = nlohmann::json::parse(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
  ASSERT_GT(out["features"].size(), 5u);
  for (const auto& f : out["features"])
    ASSERT_EQ(f["properties"]["determination_datetime"], "2021-08-01T00:00:00Z");
  // An unknown id after '#'.
  r = runCli({"info", dir.file("search.json") + "#nope"});
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("no item 'nope'"), std::string::npos) << r.err;
}
