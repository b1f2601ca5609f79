// The threshold declarations (fieldseg/thresholds.hpp): one spec per Thresholds member, each
// default inside its own range, the range edges as the specs say, and checkThresholds naming the
// flag of the value at fault.
#include "fieldseg/thresholds.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "fieldseg/error.hpp"

using namespace fieldseg;

TEST(Thresholds, EveryMemberHasOneSpecAndItsDefaultIsValid) {
  const Thresholds d;
  std::set<const double*> members;  // where each spec's member lies in `d`
  std::set<std::string> keys, flags;
  for (const ThresholdSpec& s : thresholdSpecs()) {
    members.insert(&(d.*s.member));
    keys.insert(s.key);
    flags.insert(s.flag);
    EXPECT_TRUE(inRange(s, d.*s.member)) << s.key << " default outside " << rangeText(s);
    std::string flag = std::string("--") + s.key;
    for (char& c : flag)
      if (c == '_') c = '-';
    EXPECT_EQ(flag, s.flag) << "flag and key spell the same name";
    EXPECT_EQ(&thresholdSpec(s.key), &s);
  }
  EXPECT_EQ(members.size(), sizeof(Thresholds) / sizeof(double)) << "a member has no spec";
  EXPECT_EQ(keys.size(), thresholdSpecs().size());
  EXPECT_EQ(flags.size(), thresholdSpecs().size());
  EXPECT_NO_THROW(checkThresholds(d, "test"));
  EXPECT_THROW(thresholdSpec("t_unknown"), std::out_of_range);
}

TEST(Thresholds, RangesAreOpenOrClosedAsDeclared) {
  const ThresholdSpec& ext = thresholdSpec("t_ext");  // [0, 1]
  EXPECT_TRUE(inRange(ext, 0));
  EXPECT_TRUE(inRange(ext, 1));
  EXPECT_FALSE(inRange(ext, 1.0001));
  EXPECT_FALSE(inRange(ext, std::nan("")));
  EXPECT_EQ(rangeText(ext), "[0, 1]");
  const ThresholdSpec& bound = thresholdSpec("t_bound");  // (0, 1]
  EXPECT_FALSE(inRange(bound, 0));
  EXPECT_TRUE(inRange(bound, 1));
  const ThresholdSpec& h = thresholdSpec("marker_h");  // (0, 1)
  EXPECT_FALSE(inRange(h, 0));
  EXPECT_FALSE(inRange(h, 1));
  EXPECT_EQ(rangeText(h), "(0, 1)");
  EXPECT_FALSE(inRange(thresholdSpec("min_area_m2"), -1));
}

TEST(Thresholds, CheckNamesTheFlagOfTheBadValue) {
  Thresholds t;
  t.tDist = 1;  // [0, 1): 1 is out
  try {
    checkThresholds(t, "delineate");
    FAIL() << "t_dist = 1 accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "delineate: t_dist = 1 must be in [0, 1). Fix --t-dist.");
  }
}
