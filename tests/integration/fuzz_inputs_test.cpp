// [reliability] fuzzing: byte-mutated copies of every input kind a user hands fieldseg (GeoJSON
// fields, model files, grid manifests, STAC items), fed in-process to the readers the commands use.
// Each case must either succeed or fail with one of fieldseg's own errors (UsageError, DataError,
// IoError: what the CLI prints as one line with exit code 1 or 2). Any other exception is what the
// CLI would report as "internal error", and fails the test; a crash or a hang ends the test
// process (ctest's timeout). The mutations are seeded, so a failure names a case that reproduces.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fieldseg/batch.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/fields.hpp"
#include "fieldseg/raster_source.hpp"
#include "test_support.hpp"
#ifdef FIELDSEG_WITH_TORCH
#include "fieldseg/model.hpp"
#endif

namespace fieldseg {
namespace {

constexpr int kCasesPerKind = 200;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Case k of a seed file: 1-8 random bytes overwritten, a truncation, or random bytes inserted.
// `hot` bytes at the start get half of the edits (a model file's header and card).
std::string mutate(const std::string& seed, int k, size_t hot) {
  std::mt19937_64 rng(0x5eed0000ull + static_cast<unsigned>(k));
  std::string s = seed;
  auto pos = [&](size_t n) {
    const size_t limit = (rng() % 2 && hot > 0) ? std::min(hot, n) : n;
    return limit ? static_cast<size_t>(rng() % limit) : 0;
  };
  switch (k % 4) {
    case 3:  // truncate
      s.resize(pos(s.size()));
      break;
    case 2: {  // insert
      const std::string junk(1 + rng() % 16, static_cast<char>(rng() % 256));
      s.insert(pos(s.size() + 1), junk);
      break;
    }
    default:  // overwrite
      for (int e = 0, n = 1 + static_cast<int>(rng() % 8); e < n && !s.empty(); ++e)
        s[pos(s.size())] = static_cast<char>(rng() % 256);
  }
  return s;
}

struct Tally {
  int ok = 0, refused = 0;
  std::vector<std::string> internal;
  double slowestS = 0;
};

// Runs `use` on kCasesPerKind mutations of `seed` written to `path`.
Tally fuzz(const std::string& seed, const std::string& path, size_t hot,
           const std::function<void(const std::string&)>& use) {
  Tally t;
  for (int k = 0; k < kCasesPerKind; ++k) {
    spit(path, mutate(seed, k, hot));
    const auto t0 = std::chrono::steady_clock::now();
    try {
      use(path);
      ++t.ok;
    } catch (const Error&) {
      ++t.refused;
    } catch (const std::exception& e) {
      t.internal.push_back("case " + std::to_string(k) + ": " + e.what());
    }
    t.slowestS = std::max(
        t.slowestS, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return t;
}

void expectClean(const char* kind, const Tally& t) {
  std::printf(
      "%s: %d cases, %d read, %d refused with a fieldseg error, %zu internal, slowest %.2f s\n",
      kind, kCasesPerKind, t.ok, t.refused, t.internal.size(), t.slowestS);
  EXPECT_EQ(t.ok + t.refused + static_cast<int>(t.internal.size()), kCasesPerKind);
  EXPECT_TRUE(t.internal.empty()) << kind << ": " << t.internal.front();
  EXPECT_GT(t.refused, 0) << kind << ": no mutation was refused: the fuzzer changed nothing";
  EXPECT_LT(t.slowestS, 30.0) << kind << ": a case took " << t.slowestS << " s";
}

class Fuzz : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    ASSERT_NO_FATAL_FAILURE(
        test::synthSmallholder(dir_->file("s.tif"), dir_->file("s.geojson"), 128, 3));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static test::TempDir* dir_;
};
test::TempDir* Fuzz::dir_ = nullptr;

TEST_F(Fuzz, GeoJsonFields) {
  const std::string seed = slurp(dir_->file("s.geojson"));
  ASSERT_GT(seed.size(), 1000u);
  expectClean("GeoJSON", fuzz(seed, dir_->file("m.geojson"), 512,
                              [](const std::string& p) { (void)readFields(p); }));
}

TEST_F(Fuzz, GridManifests) {
  const auto r = test::runCli({"grid", "--images", dir_->file("s.tif"), "--cell-m", "200", "--out",
                               dir_->file("grid.json")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string seed = slurp(dir_->file("grid.json"));
  ASSERT_NO_THROW((void)batch::gridFromJson(seed, "seed"));
  expectClean("grid manifest", fuzz(seed, dir_->file("m.json"), 0,
                                    [](const std::string& p) { (void)batch::readGrid(p); }));
}

TEST_F(Fuzz, StacItems) {
  // A STAC item whose asset is the scene: what a STAC search returns.
  std::ostringstream item;
  item << R"({"type": "Feature", "stac_version": "1.0.0", "id": "scene-1",
  "geometry": {"type": "Polygon", "coordinates": [[[30.0, -2.0], [30.01, -2.0], [30.01, -1.99],
  [30.0, -1.99], [30.0, -2.0]]]}, "bbox": [30.0, -2.0, 30.01, -1.99],
  "properties": {"datetime": "2021-08-01T00:00:00Z"},
  "assets": {"image": {"href": ")"
       << dir_->file("s.tif") << R"(", "type": "image/tiff; application=geotiff",
  "roles": ["data"]}}, "links": []})";
  expectClean("STAC item", fuzz(item.str(), dir_->file("m_item.json"), 0,
                                [](const std::string& p) { (void)openRaster({p}); }));
}

#ifdef FIELDSEG_WITH_TORCH
TEST_F(Fuzz, ModelFiles) {
  const std::string seed =
      slurp(std::string(FIELDSEG_SOURCE_DIR) + "/models/synth_smallholder.fsm");
  ASSERT_GT(seed.size(), 1000u);
  // Half of the edits land in the header and the card (the first 8 KiB), half anywhere.
  expectClean("model file", fuzz(seed, dir_->file("m.fsm"), 8192, [](const std::string& p) {
                ModelLoadOptions o;
                o.threads = 1;
                (void)loadModel(p, o);
              }));
}
#endif

}  // namespace
}  // namespace fieldseg
