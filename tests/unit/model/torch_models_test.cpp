// loadModel without and with LibTorch's loader: the fused engine needs none; the reference engine
// and other devices are refused with a UsageError until enableTorchModels() registers it. The
// registration below runs before any test of this executable (the model tests compare with the
// LibTorch reference).
#include <gtest/gtest.h>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/trainer.hpp"
#include "model_blob.hpp"

namespace fieldseg {
namespace {

const std::string kModel = std::string(FIELDSEG_SOURCE_DIR) + "/models/synth_smallholder.fsm";

TEST(TorchModels, ReferenceEngineNeedsTheLoaderFusedDoesNot) {
  model::setTorchLoader(nullptr);
  ModelLoadOptions fused{"cpu", 1, "fp32"};
  ModelLoadOptions reference = fused;
  reference.engine = "reference";
  Raster<float> tile(4, 32, 40, 0.25f);
  const auto a = loadModel(kModel, fused)->predict({tile});
  EXPECT_THROW(loadModel(kModel, reference), UsageError);
  EXPECT_THROW(loadModel(kModel, ModelLoadOptions{"cuda", 1}), UsageError);
  enableTorchModels();
  const auto b = loadModel(kModel, reference)->predict({tile});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(a[0].data.size(), b[0].data.size());
  double worst = 0;
  for (size_t i = 0; i < a[0].data.size(); ++i)
    worst = std::max(worst, double(std::abs(a[0].data[i] - b[0].data[i])));
  EXPECT_LT(worst, 1e-4);
}

const bool kTorchEnabled = (enableTorchModels(), true);

}  // namespace
}  // namespace fieldseg
