// A real GIS client in the test suite: every vector format `fieldseg delineate` writes, and its
// probabilities, loaded with PyQGIS headless (tests/integration/qgis_client.py; Debian
// python3-qgis). Skipped with a message where PyQGIS is absent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_support.hpp"

namespace fieldseg {
namespace {

using test::runCli;
using test::runShell;
using test::TempDir;

TEST(QgisClient, LoadsEveryOutputFormatAndTheProbabilities) {
  const auto probe = runShell("QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c 'import qgis.core'");
  if (probe.exitCode != 0)
    GTEST_SKIP() << "PyQGIS is absent (Debian python3-qgis): the QGIS client test needs it";
  TempDir d;
  ASSERT_NO_FATAL_FAILURE(test::synthSmallholder(d.file("s.tif"), d.file("t.geojson"), 256, 6));
  // Probabilities from the labels of the scene (no network needed), then a delineation with a
  // model so the probabilities come out of the network path too.
  auto r = runCli({"-q", "delineate", d.file("s.tif"), "--model", "synth_smallholder", "--out",
                   d.file("f.gpkg"), "--probabilities", d.file("p.tif")});
  if (r.exitCode == 2 && r.err.find("LibTorch") != std::string::npos)
    GTEST_SKIP() << "built without LibTorch";
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::string vectors = "'" + d.file("f.gpkg") + "'";
  for (const char* ext : {"geojson", "fgb", "geojsonl"}) {
    r = runCli({"-q", "delineate", "--probabilities-in", d.file("p.tif"), "--out",
                d.file(std::string("f.") + ext)});
    ASSERT_EQ(r.exitCode, 0) << r.err;
    vectors += " '" + d.file(std::string("f.") + ext) + "'";
  }
  const auto rec =
      nlohmann::json::parse(test::runShell("cat '" + d.file("f.gpkg.run.json") + "'").out);
  const long long fields = rec["result"]["fields"].get<long long>();
  ASSERT_GT(fields, 50);
  const auto q =
      runShell("QT_QPA_PLATFORM=offscreen /usr/bin/python3 '" + std::string(FIELDSEG_SOURCE_DIR) +
               "/tests/integration/qgis_client.py' " + std::to_string(fields) + " EPSG:32636 '" +
               d.file("p.tif") + "' " + vectors + " 2>&1");
  EXPECT_EQ(q.exitCode, 0) << q.out;
  EXPECT_EQ(q.out.find("FAIL"), std::string::npos) << q.out;
}

}  // namespace
}  // namespace fieldseg
