// Time-stack inputs: band names base@date, and the shuffle_dates augmentation.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "fieldseg/error.hpp"
#include "fieldseg/trainer.hpp"
#include "train_data.hpp"

namespace fieldseg {
namespace {

TEST(TimeStack, BandsPerDateOnlyForAWholeStack) {
  EXPECT_EQ(timeStackBands({"red@03", "nir@03", "red@08", "nir@08"}), 2);
  EXPECT_EQ(timeStackBands({"red@03", "red@04", "red@08"}), 1);
  EXPECT_EQ(timeStackBands({"red", "green", "blue"}), 0);                  // not a stack
  EXPECT_EQ(timeStackBands({"red@03", "nir@03"}), 0);                      // one date
  EXPECT_EQ(timeStackBands({"red@03", "nir@03", "nir@08", "red@08"}), 0);  // other order
  EXPECT_EQ(timeStackBands({"red@03", "nir@03", "red@08"}), 0);            // a band missing
  EXPECT_EQ(timeStackBands({"red@03", "nir@03", "red@03", "nir@03"}), 0);  // a date twice
  EXPECT_EQ(timeStackBands({"red@03", "red", "red@08", "red"}), 0);
}

TEST(TimeStack, ShuffleDatesNeedsAStack) {
  EXPECT_THROW(
      parseTrainConfig(R"({"train_manifests": ["m.jsonl"], "augment": {"shuffle_dates": true}})",
                       "test.json"),
      UsageError);
  TrainConfig ok = parseTrainConfig(
      R"({"train_manifests": ["m.jsonl"], "augment": {"shuffle_dates": true},
          "network": {"input_bands": ["red@03", "nir@03", "red@08", "nir@08", "red@10", "nir@10"]}})",
      "test.json");
  EXPECT_TRUE(ok.augment.shuffleDates);
}

// Each band of the chip holds a constant (its index): after the augmentation every output band
// group is one input date's bands in their order, every date once, and over seeds the order varies.
TEST(TimeStack, ShuffleDatesPermutesWholeDates) {
  TrainConfig cfg = parseTrainConfig(
      R"({"train_manifests": ["m.jsonl"], "crop_px": 16,
          "augment": {"shuffle_dates": true, "flips": false, "rot90": false, "brightness": 0,
                      "contrast": 0},
          "network": {"input_bands": ["red@03", "nir@03", "red@08", "nir@08", "red@10", "nir@10"]}})",
      "test.json");
  model::Chip chip;
  chip.image =
      torch::arange(1, 7, torch::kFloat32).view({6, 1, 1}).expand({6, 16, 16}).contiguous();
  chip.label = torch::ones({4, 16, 16});
  std::set<std::vector<int>> orders;
  for (unsigned seed = 0; seed < 40; ++seed) {
    std::mt19937_64 rng(seed);
    model::Sample s = model::augment(chip, cfg, rng);
    ASSERT_EQ(s.image.size(0), 6);
    std::vector<int> order;
    for (int d = 0; d < 3; ++d) {
      const int red = static_cast<int>(s.image[2 * d][3][3].item<float>());
      const int nir = static_cast<int>(s.image[2 * d + 1][3][3].item<float>());
      EXPECT_EQ(red % 2, 1) << "red first";
      EXPECT_EQ(nir, red + 1) << "a date's bands stay together";
      order.push_back((red - 1) / 2);
    }
    EXPECT_EQ(std::set<int>(order.begin(), order.end()).size(), 3u) << "every date once";
    EXPECT_TRUE(torch::equal(s.label, chip.label));
    orders.insert(order);
  }
  EXPECT_GT(orders.size(), 3u);
}

}  // namespace
}  // namespace fieldseg
