// Refactorings change no output (issue 14, acceptance 1): the bytes of what the network-free stages
// write (the synthetic scene and its truth, the weak labels, the fields in three formats from those
// labels as probabilities) on the demo generator's scene and on a real Rwanda chip are pinned by
// SHA-256. The network's own numerics are pinned separately, against the LibTorch reference within
// a tolerance (OneDnnNet.*), since they legitimately differ between CPUs (AVX2 / AVX-512 / AMX).
//
// A deliberate behaviour change updates the pins: run the test with FIELDSEG_GOLDEN_PRINT=1, which
// prints every actual hash, and paste them below in the same commit as the change, saying why.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "fieldseg/checksum.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

namespace fs = std::filesystem;
using test::runOk;
using test::TempDir;

// Runs in `dir` for its lifetime: the outputs record their inputs' paths as given, so every path
// is relative to the temp dir and the bytes do not depend on where it is.
class InDir {
 public:
  explicit InDir(const std::string& dir) : old_(fs::current_path()) { fs::current_path(dir); }
  ~InDir() { fs::current_path(old_); }

 private:
  fs::path old_;
};

// Pinned outputs, file name -> SHA-256 (fieldseg 0.1.0; pinned 2026-12-04 at 9d2ce2a). The fields
// were re-pinned 2026-12-07 when outlines came from traceOutlines instead of GDALPolygonize: every
// ring runs one way now (GDAL's directions varied), so rings start at another vertex after
// orientation; the same vertices, rings and attributes (checked feature by feature on both scenes
// and on a 4096^2 scene's 20,343 fields).
const std::map<std::string, std::string> kSynthPins = {
    {"scene.tif", "5cb4f237a43ea6ea267f793c47f40e1be8e79742db7516facca6d22b6365a3f9"},
    {"truth.geojson", "fcb103b27b0b335adb51d28ced1cff0db480d75f26db2afae65cb0c19b33d5ec"},
    {"labels.tif", "f8c3c7a5be4140367a71cfe0b6bf54817d4d00f4414c0574a3224f41e8e18c08"},
    {"fields.geojson", "ac9981c0bc4aa52c20bf683e7db6a36fcbf73ebb20b3e3c0fb378e3b09d23e1e"},
    {"fields.geojsonl", "2e7090062ca8a2d3da38ae290a9594d9416be0116878dfa071b4293ca01f5a44"},
    {"fields.fgb", "6d947654cf7adaedb291e4348bd027aa3fc5a14d3513b385f8287eaf3b93ce52"},
};
const std::map<std::string, std::string> kRwandaPins = {
    {"labels.tif", "028ee90f9bc7f426e89095d2f779d4b2f47d33ba348be1b5fc7b5174845f0e64"},
    {"fields.geojson", "d3a7fbd7ec416ca7a98dd096fbc1723f0fa0dbeca2f5fc36cc43c22fecb991d1"},
    {"fields.fgb", "4bf5372040c489671aa98fc98298c2fe0f6d9cc9f79b7d6cfd6d24965faa7572"},
};

// Every file of `pins` in `dir` has its pinned hash (all compared, each mismatch reported).
void expectPinned(const TempDir& dir, const std::map<std::string, std::string>& pins,
                  const std::string& what) {
  const bool print = std::getenv("FIELDSEG_GOLDEN_PRINT") != nullptr;
  for (const auto& [name, pin] : pins) {
    const std::string actual = sha256File(dir.file(name));
    if (print) std::printf("golden %s %s %s\n", what.c_str(), name.c_str(), actual.c_str());
    EXPECT_EQ(actual, pin) << what << ": " << name
                           << " is not the pinned output. If the change is deliberate, re-pin "
                              "(FIELDSEG_GOLDEN_PRINT=1) and say why in the commit.";
  }
}

// The post-processing of `labels` (perfect probabilities) into the three deterministic formats.
void delineateLabels(const std::vector<std::string>& exts) {
  for (const std::string& ext : exts)
    ASSERT_NO_FATAL_FAILURE(runOk({"-q", "delineate", "--probabilities-in", "labels.tif", "--out",
                                   "fields." + ext, "--threads", "2"}));
}

TEST(GoldenOutputs, DemoGeneratorSceneLabelsAndFieldsAreThePinnedBytes) {
  TempDir dir;
  {
    InDir in(dir.path());
    ASSERT_NO_FATAL_FAILURE(
        runOk({"-q", "synth", "--preset", "smallholder", "--size", "384", "--seed", "7", "--out",
               "scene.tif", "--truth", "truth.geojson", "--threads", "1"}));
    ASSERT_NO_FATAL_FAILURE(runOk({"-q", "labels", "--image", "scene.tif", "--fields",
                                   "truth.geojson", "--out", "labels.tif"}));
    ASSERT_NO_FATAL_FAILURE(delineateLabels({"geojson", "geojsonl", "fgb"}));
  }
  expectPinned(dir, kSynthPins, "synth seed 7");
}

TEST(GoldenOutputs, RealRwandaChipLabelsAndFieldsAreThePinnedBytes) {
  FIELDSEG_REQUIRE_REALDATA();
  const std::string rw = test::realdataDir() + "/rwanda_competition/";
  const std::string img =
      rw + "source_train/nasa_rwanda_field_boundary_competition_source_train_00_2021_08/";
  TempDir dir;
  for (const char* b : {"B01.tif", "B02.tif", "B03.tif", "B04.tif"})
    fs::create_symlink(img + b, dir.file(b));
  fs::create_symlink(rw + "fields/chip_00.geojson", dir.file("chip_00.geojson"));
  {
    InDir in(dir.path());
    // Red, green, blue, nir as one comma-separated stack of the single-band files.
    ASSERT_NO_FATAL_FAILURE(runOk({"-q", "labels", "--image", "B03.tif,B02.tif,B01.tif,B04.tif",
                                   "--fields", "chip_00.geojson", "--out", "labels.tif"}));
    ASSERT_NO_FATAL_FAILURE(delineateLabels({"geojson", "fgb"}));
  }
  expectPinned(dir, kRwandaPins, "rwanda chip 00 2021-08");
}

}  // namespace
}  // namespace fieldseg
