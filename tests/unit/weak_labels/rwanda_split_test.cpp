// The committed Rwanda block split (configs/splits/rwanda_blocks.json): validation chips never
// touch a training chip, so validation scores are not flattered by spatial autocorrelation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Box {
  double minX, minY, maxX, maxY;  // lon/lat degrees
};

json readJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return json::parse(in);
}

// Smallest ground distance in metres between two lon/lat boxes (0 when they touch or overlap).
double gapM(const Box& a, const Box& b) {
  const double lat = 0.5 * (a.minY + a.maxY) * M_PI / 180.0;
  const double mPerDegY = 111320.0, mPerDegX = 111320.0 * std::cos(lat);
  const double dx = std::max({0.0, b.minX - a.maxX, a.minX - b.maxX}) * mPerDegX;
  const double dy = std::max({0.0, b.minY - a.maxY, a.minY - b.maxY}) * mPerDegY;
  return std::hypot(dx, dy);
}

}  // namespace

TEST(RwandaSplit, ValidationBlocksNeverTouchTrainingChips) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string root = fieldseg::test::realdataDir() + "/rwanda_competition";
  if (!fs::exists(root)) GTEST_SKIP() << root << " is absent";
  const json split =
      readJson(std::string(FIELDSEG_SOURCE_DIR) + "/configs/splits/rwanda_blocks.json");
  const auto val = split.at("validation").get<std::vector<std::string>>();
  const auto train = split.at("train").get<std::vector<std::string>>();
  const double minGap = split.at("min_gap_m").get<double>();
  ASSERT_GT(minGap, 0);

  // Each chip's footprint from its STAC item (month 2021_03; all months share the grid).
  std::map<std::string, Box> boxes;
  for (const auto& e : fs::directory_iterator(root + "/source_train")) {
    const std::string name = e.path().filename().string();
    const std::string tail = "_2021_03";
    if (!e.is_directory() || name.size() < tail.size() + 3 ||
        name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
      continue;
    const std::string chip = name.substr(name.size() - tail.size() - 2, 2);
    const json item = readJson((e.path() / (name + ".json")).string());
    const auto b = item.at("bbox").get<std::vector<double>>();
    boxes[chip] = {b[0], b[1], b[2], b[3]};
  }
  ASSERT_EQ(boxes.size(), 43u);

  // Every chip is in exactly one of the two sets; validation is about a quarter.
  std::set<std::string> all(train.begin(), train.end());
  for (const auto& c : val) EXPECT_TRUE(all.insert(c).second) << "chip " << c << " in both sets";
  EXPECT_EQ(all.size(), train.size() + val.size());
  EXPECT_EQ(all.size(), boxes.size());
  for (const auto& c : all) EXPECT_TRUE(boxes.count(c)) << "chip " << c << " not in the data";
  EXPECT_GE(val.size() * 5, all.size());       // >= 20 %
  EXPECT_LE(val.size() * 10, all.size() * 3);  // <= 30 %

  // The blocks list exactly the validation chips.
  std::set<std::string> inBlocks;
  for (const auto& [name, chips] : split.at("blocks").items()) {
    for (const auto& c : chips) EXPECT_TRUE(inBlocks.insert(c.get<std::string>()).second);
  }
  EXPECT_EQ(inBlocks, std::set<std::string>(val.begin(), val.end()));

  // No validation chip shares an edge or a corner with a training chip, nor comes within minGap.
  double closest = 1e300;
  for (const auto& v : val)
    for (const auto& t : train) {
      const double g = gapM(boxes.at(v), boxes.at(t));
      closest = std::min(closest, g);
      EXPECT_GE(g, minGap) << "validation chip " << v << " is " << g << " m from training chip "
                           << t;
    }
  std::printf("closest validation-training gap: %.0f m\n", closest);
  // Non-vacuous: neighbouring training chips do touch (the check would catch a bad split).
  EXPECT_LT(gapM(boxes.at("00"), boxes.at("40")), 1.0);
}
