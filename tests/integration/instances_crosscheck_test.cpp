// [smallholder] acceptance 3: on real probability maps (the shipped smallholder model on the 11
// validation chips of configs/splits/rwanda_blocks.json, six months averaged, 181 fields),
// fieldseg's native marker instances (card thresholds, calibrated on the training chips) score at
// least as well, in median field IoU and in object F1, as an independent marker-controlled
// watershed (scikit-image h-maxima of the sigma-1 smoothed distance + watershed of the boundary
// map inside extent > t_ext) run on the same probabilities with the parameters the two share
// taken from the same card (t_ext, marker height, minimum area).
//
// Measured (fieldseg 0.1.0): fieldseg 0.517 / F1 0.560, skimage at the card's parameters 0.490 /
// 0.514. skimage at its own defaults (t_ext 0.4, h 0.1) scores 0.525 / 0.592 on these chips, above
// fieldseg's calibrated thresholds; that row is printed, not asserted (README, "Rwanda").
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace fieldseg::test;

namespace {

std::string python() { return fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3"; }

}  // namespace

TEST(InstancesCrossCheck, MarkerInstancesScoreAtLeastAsWellAsTheSkimageWatershedOnValidationChips) {
  FIELDSEG_REQUIRE_REALDATA();
  if (!fs::exists(realdataDir() + "/rwanda_competition/source_train"))
    GTEST_SKIP() << "../shared/realdata/rwanda_competition is absent";
  if (runShell(python() + " -c 'import skimage, scipy, osgeo.ogr'").exitCode != 0)
    GTEST_SKIP() << python() << " lacks scikit-image / scipy / osgeo: cannot run the reference";
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  if (!fs::exists(model)) GTEST_SKIP() << model << " absent";
  TempDir dir;
  // The validation chips of configs/splits/rwanda_blocks.json: 181 fields.
  const auto r = runShell("FIELDSEG='" FIELDSEG_CLI "' bash '" FIELDSEG_SOURCE_DIR
                          "/tools/rwanda/instances_crosscheck.sh' '" +
                          model + "' '" + dir.path() + "' 02 11 16 17 29 31 34 42 47 54 56");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const json j = json::parse(r.out);
  std::printf("fieldseg %s\nskimage at the card's parameters %s\nskimage defaults %s\n%s\n",
              j["fieldseg"].dump().c_str(), j["skimage"].dump().c_str(),
              j["skimage_defaults"].dump().c_str(), j["shared_params"].dump().c_str());
  ASSERT_EQ(j["fieldseg"]["fields"], j["skimage"]["fields"]);
  ASSERT_GE(j["fieldseg"]["fields"].get<int>(), 100);
  EXPECT_GE(j["fieldseg"]["median_iou"].get<double>(), j["skimage"]["median_iou"].get<double>());
  EXPECT_GE(j["fieldseg"]["object_f1"].get<double>(), j["skimage"]["object_f1"].get<double>());
  // Non-vacuous: both find fields on these chips.
  EXPECT_GT(j["skimage"]["median_iou"].get<double>(), 0.2);
}
