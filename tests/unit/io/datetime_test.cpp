// isoUtc: the dates fieldseg writes as determination_datetime (ISO 8601, UTC).
#include "fieldseg/datetime.hpp"

#include <gtest/gtest.h>

namespace fieldseg {
namespace {

TEST(IsoUtc, ReadsDatesTimesZonesAndTiffTags) {
  EXPECT_EQ(isoUtc("2021-08-01"), "2021-08-01T00:00:00Z");
  EXPECT_EQ(isoUtc("2021-08-01T10:30:00Z"), "2021-08-01T10:30:00Z");
  EXPECT_EQ(isoUtc("2021-08-01T10:30"), "2021-08-01T10:30:00Z");
  EXPECT_EQ(isoUtc("2021-08-01 10:30:15.250Z"), "2021-08-01T10:30:15Z");
  EXPECT_EQ(isoUtc("2021-08-01T01:30:00+02:00"), "2021-07-31T23:30:00Z");  // across midnight
  EXPECT_EQ(isoUtc("2021-12-31T20:00:00-0500"), "2022-01-01T01:00:00Z");   // across the year
  EXPECT_EQ(isoUtc("2021:08:01 10:30:00"), "2021-08-01T10:30:00Z");        // TIFFTAG_DATETIME
}

TEST(IsoUtc, RefusesWhatIsNoDate) {
  for (const char* bad :
       {"", "yesterday", "2021-8-1", "2021-13-01", "2021-02-30", "2021-08-01T25:00:00",
        "2021-08-01T10:30:00+2", "2021-08-01T10:30:00X", "2021-08-01/2021-09-01", "2021:08-01"})
    EXPECT_FALSE(isoUtc(bad).has_value()) << bad;
}

}  // namespace
}  // namespace fieldseg
