// [smallholder] cross-check: on real probability maps (the shipped smallholder model on the 11
// validation chips of configs/splits/rwanda_blocks.json, six months averaged, 181 fields),
// fieldseg's native marker instances (card thresholds, calibrated on the training chips) against
// an independent marker-controlled watershed (scikit-image h-maxima + watershed, fixed defaults)
// on the same probabilities.
//
// Measured and stated as it is: the two agree closely but fieldseg does NOT score at least as well
// (median field IoU 0.522 vs 0.525, object F1 0.577 vs 0.592), so the [smallholder] acceptance
// "at least as well" is not met. What this test guards is the agreement of the two
// implementations (|difference| <= 0.03 in median field IoU and object F1), which a regression in
// the marker rules, the flood or the tiled merge would break, and that both find fields.
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

TEST(InstancesCrossCheck, MarkerInstancesAgreeWithTheSkimageWatershedOnValidationChips) {
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
  std::printf("fieldseg %s\nskimage  %s\n", j["fieldseg"].dump().c_str(),
              j["skimage"].dump().c_str());
  ASSERT_EQ(j["fieldseg"]["fields"], j["skimage"]["fields"]);
  ASSERT_GE(j["fieldseg"]["fields"].get<int>(), 100);
  EXPECT_NEAR(j["fieldseg"]["median_iou"].get<double>(), j["skimage"]["median_iou"].get<double>(),
              0.03);
  EXPECT_NEAR(j["fieldseg"]["object_f1"].get<double>(), j["skimage"]["object_f1"].get<double>(),
              0.03);
  // Non-vacuous: both find fields on these chips.
  EXPECT_GT(j["skimage"]["median_iou"].get<double>(), 0.2);
}
