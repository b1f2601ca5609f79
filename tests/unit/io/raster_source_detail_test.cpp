// The pure rules behind the GDAL RasterSource (src/io/raster_source_detail.hpp): band names, band
// selection, and the spans a resampled window reads.
#include "raster_source_detail.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "fieldseg/error.hpp"
#include "test_support.hpp"

using namespace fieldseg;
using fieldseg::test::messageOf;

TEST(BandNames, DescriptionThenColourInterpThenFileConventionThenIndex) {
  using io::BandNameInput;
  auto n = io::canonicalBandNames({{"NIR", "gray", ""},
                                   {"", "red", ""},
                                   {"Near Infrared", "undefined", ""},
                                   {"NDVI", "undefined", ""},
                                   {"", "undefined", ""}});
  EXPECT_EQ(n, (std::vector<std::string>{"nir", "red", "nir", "ndvi", "band5"}));
}

TEST(BandNames, PlanetScopeAndSentinel2FileStems) {
  auto planet = io::canonicalBandNames(
      {{"", "gray", "B01"}, {"", "gray", "B02"}, {"", "gray", "B03"}, {"", "gray", "B04"}});
  EXPECT_EQ(planet, (std::vector<std::string>{"blue", "green", "red", "nir"}));
  auto s2 = io::canonicalBandNames({{"", "gray", "B04"}, {"", "gray", "B08"}, {"", "gray", "B02"}});
  EXPECT_EQ(s2, (std::vector<std::string>{"red", "nir", "blue"}));
  // B02..B04 alone could be either sensor: keep the codes.
  auto ambiguous =
      io::canonicalBandNames({{"", "gray", "B02"}, {"", "gray", "B03"}, {"", "gray", "B04"}});
  EXPECT_EQ(ambiguous, (std::vector<std::string>{"b02", "b03", "b04"}));
  // Not band codes: index names.
  auto other = io::canonicalBandNames({{"", "gray", "scene"}});
  EXPECT_EQ(other, (std::vector<std::string>{"band1"}));
}

TEST(BandSelection, NamesAreCaseInsensitiveAndIndicesAreOneBased) {
  std::vector<io::BandMatchInput> bands;
  const char* names[] = {"blue", "green", "red", "nir"};
  const char* descr[] = {"", "", "B04", ""};
  for (int i = 0; i < 4; ++i) {
    BandInfo b;
    b.index = i + 1;
    b.name = names[i];
    b.description = descr[i];
    b.colorInterp = i == 0 ? "gray" : "undefined";
    bands.push_back({b, ""});
  }
  EXPECT_EQ(io::matchBands({"NIR", "Red", "2"}, bands, "x.tif"), (std::vector<int>{3, 2, 1}));
  EXPECT_EQ(io::matchBands({"b04", "band1"}, bands, "x.tif"), (std::vector<int>{2, 0}));
  std::string msg = messageOf([&] { io::matchBands({"swir"}, bands, "x.tif"); });
  EXPECT_NE(msg.find("'swir'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1:blue, 2:green, 3:red ('B04'), 4:nir"), std::string::npos) << msg;
  EXPECT_THROW(io::matchBands({"swir"}, bands, "x.tif"), UsageError);
  EXPECT_THROW(io::matchBands({"5"}, bands, "x.tif"), UsageError);
  EXPECT_THROW(io::matchBands({"0"}, bands, "x.tif"), UsageError);
}

TEST(Spans, CoverTheSourceExactlyOnceForAnyFactor) {
  for (double f : {1.0, 2.0, 2.5, 3.0, 0.5, 0.3, 1.7}) {
    for (int native : {1, 7, 100, 101}) {
      int size = static_cast<int>(std::ceil(native / f - 1e-9));
      auto spans = io::spansFor(0, size, f, native);
      ASSERT_FALSE(spans.empty());
      int dst = 0;
      double src = 0;
      for (const auto& s : spans) {
        EXPECT_EQ(s.dst, dst);
        EXPECT_NEAR(s.src.off, src, 1e-9);
        dst += s.count;
        src += s.src.size;
      }
      EXPECT_EQ(dst, size) << "f=" << f << " native=" << native;
      EXPECT_NEAR(src, native, 1e-9) << "f=" << f << " native=" << native;
      // All but a ragged last pixel have exactly `f` source pixels.
      if (spans[0].count <= static_cast<int>(std::floor(native / f + 1e-9))) {
        EXPECT_NEAR(spans[0].src.size, spans[0].count * f, 1e-9);
      }
    }
  }
}
