// [smallholder] cross-check: on real probability maps (the shipped smallholder model, six months
// averaged), fieldseg's instances (card thresholds) score at least as well as an independent
// marker-controlled watershed (scikit-image, fixed defaults) on the same probabilities.
//
// Measured and stated as it is: this holds on the training chips, where the card thresholds were
// calibrated (4 chips below: median field IoU 0.515 vs 0.497; all 32: 0.578 vs 0.568), and does NOT
// hold on the validation blocks (all 11 chips: 0.450 vs 0.525; README "Rwanda"): the calibrated
// thresholds generalise worse than skimage's defaults there. The test guards the first fact.
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

TEST(InstancesCrossCheck, AtLeastAsGoodAsSkimageWatershedOnTrainingChips) {
  FIELDSEG_REQUIRE_REALDATA();
  if (!fs::exists(realdataDir() + "/rwanda_competition/source_train"))
    GTEST_SKIP() << "../shared/realdata/rwanda_competition is absent";
  if (runShell(python() + " -c 'import skimage, scipy, osgeo.ogr'").exitCode != 0)
    GTEST_SKIP() << python() << " lacks scikit-image / scipy / osgeo: cannot run the reference";
  const std::string model = std::string(FIELDSEG_SOURCE_DIR) + "/models/smallholder.fsm";
  if (!fs::exists(model)) GTEST_SKIP() << model << " absent";
  TempDir dir;
  // Four training chips (configs/splits/rwanda_blocks.json), 132 fields.
  const auto r = runShell("FIELDSEG='" FIELDSEG_CLI "' bash '" FIELDSEG_SOURCE_DIR
                          "/tools/rwanda/instances_crosscheck.sh' '" +
                          model + "' '" + dir.path() + "' 00 01 20 44");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const json j = json::parse(r.out);
  std::printf("fieldseg %s\nskimage  %s\n", j["fieldseg"].dump().c_str(),
              j["skimage"].dump().c_str());
  ASSERT_EQ(j["fieldseg"]["fields"], j["skimage"]["fields"]);
  ASSERT_GE(j["fieldseg"]["fields"].get<int>(), 100);
  EXPECT_GE(j["fieldseg"]["median_iou"].get<double>(), j["skimage"]["median_iou"].get<double>());
  // Non-vacuous: both find fields on these chips.
  EXPECT_GT(j["skimage"]["median_iou"].get<double>(), 0.2);
}
