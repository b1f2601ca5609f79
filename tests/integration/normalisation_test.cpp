// [architecture] one normalisation for training and inference: the network input the trainer
// builds from a training chip (trainingInput) equals what the inference path computes from the
// same chip image with the same band statistics (fieldseg/normalisation.hpp, as tiles/ runs it).
#include "fieldseg/normalisation.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fieldseg/raster_source.hpp"
#include "fieldseg/trainer.hpp"
#include "test_support.hpp"

using namespace fieldseg;

#ifdef FIELDSEG_WITH_TORCH  // trainingInput lives in src/model
TEST(Normalisation, TrainingChipsAndInferenceGiveTheSameInput) {
  test::TempDir dir;
  auto r = test::runCli({"-q", "synth", "--preset", "smallholder", "--size", "256", "--seed", "4",
                         "--out", dir.file("s.tif"), "--truth", dir.file("s.geojson")});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  r = test::runCli({"-q", "labels", "--image", dir.file("s.tif"), "--fields", dir.file("s.geojson"),
                    "--chips", dir.file("chips"), "--chip-px", "128", "--chip-stride", "128"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const std::string manifest = dir.file("chips/manifest.jsonl");
  std::ifstream in(manifest);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  const nlohmann::json j = nlohmann::json::parse(line);
  const std::vector<std::string> bands = {"red", "green", "blue", "nir"};
  const std::vector<float> train = trainingInput(manifest, 0, bands);

  auto src = openRaster({dir.file("chips/" + j["image"].get<std::string>())});
  Raster<float> img = src->read(src->grid().fullWindow());
  ASSERT_EQ(train.size(), img.data.size());
  const auto names = j["bands"].get<std::vector<std::string>>();
  ASSERT_EQ(names, bands);
  for (int b = 0; b < img.bands; ++b)
    normalisePlane(img.band(b), img.valid.data(), img.plane(),
                   j["band_stats"][b]["p2"].get<double>(), j["band_stats"][b]["p98"].get<double>());
  size_t differ = 0;
  for (size_t i = 0; i < train.size(); ++i)
    if (train[i] != img.data[i]) ++differ;
  EXPECT_EQ(differ, 0u) << "of " << train.size();
  // Non-vacuous: the values are normalised (not raw digital numbers) and vary.
  const auto [lo, hi] = std::minmax_element(train.begin(), train.end());
  EXPECT_GE(*lo, -1.0f);
  EXPECT_LE(*hi, 2.0f);
  EXPECT_GT(*hi - *lo, 0.5f);
}
#endif
