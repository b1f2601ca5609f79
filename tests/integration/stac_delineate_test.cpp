// [gis] A STAC item as IMAGE: `fieldseg delineate ITEM.json --model ...` on real Rwanda items (the
// assets' local copies sit beside each item, named by asset key, as download clients leave them);
// several items are several dates, and the first item's date is every feature's
// determination_datetime.
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
