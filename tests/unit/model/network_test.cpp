// Network, loss and model-file tests at the LibTorch level (small nets, 64x64 inputs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/trainer.hpp"
#include "net.hpp"
#include "synthetic_chips.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using model::ResUNet;
using torch::indexing::Slice;

NetworkSpec tinySpec(std::vector<std::string> bands = {"red", "green", "blue"}) {
  NetworkSpec s;
  s.width = 4;
  s.depth = 2;
  s.inputBands = std::move(bands);
  return s;
}

TEST(Network, OutputShapesAndRange) {
  torch::manual_seed(1);
  ResUNet net(tinySpec());
  torch::Tensor x = torch::rand({2, 3, 64, 64});
  EXPECT_EQ(net->forward(x).sizes(), (std::vector<int64_t>{2, 3, 64, 64}));
  net->eval();
  torch::NoGradGuard g;
  torch::Tensor p = model::predictProbabilities(net, torch::rand({1, 3, 50, 70}));  // not /4
  EXPECT_EQ(p.sizes(), (std::vector<int64_t>{1, 3, 50, 70}));
  EXPECT_GE(p.min().item<float>(), 0.f);
  EXPECT_LE(p.max().item<float>(), 1.f);
}

TEST(Network, AnalyticCountsMatchTheModule) {
  for (NetworkSpec spec :
       {tinySpec(), NetworkSpec{}, NetworkSpec{8, 3, {"red", "green", "blue", "nir"}}}) {
    ResUNet net(spec);
    long long params = 0;
    for (const auto& p : net->parameters()) params += p.numel();
    EXPECT_EQ(params, networkParameters(spec)) << "width " << spec.width << " depth " << spec.depth;
    // FLOPs from the module's own convolution weights: 2 * weight elements * pixels of the level
    // the layer runs at (enc<i>/dec<i> at level i, head at level 0).
    const int side = 256;
    double flops = 0;
    for (const auto& p : net->named_parameters(true)) {
      const std::string& name = p.key();
      if (p.value().dim() != 4) continue;  // biases and batch-norm terms are not counted
      int level = name.rfind("head", 0) == 0 ? 0 : std::stoi(name.substr(name[0] == 'u' ? 2 : 3));
      // A 2x2 stride-2 transposed convolution applies each weight once per INPUT pixel (level+1).
      if (name[0] == 'u') ++level;
      double px = std::pow(side / std::pow(2.0, level), 2);
      flops += 2.0 * static_cast<double>(p.value().numel()) * px;
    }
    EXPECT_NEAR(flops, networkFlops(spec, side, side), 1e-6 * flops);
  }
  // The default network is sized for CPU inference: 5-8 GFLOP per 256 x 256 tile.
  double g = networkFlops(NetworkSpec{}, 256, 256) / 1e9;
  EXPECT_GT(g, 5.0);
  EXPECT_LT(g, 8.0);
}

TEST(Loss, MaskedPixelsGetZeroGradient) {
  torch::manual_seed(2);
  torch::Tensor logits = torch::randn({2, 3, 16, 16}, torch::requires_grad());
  torch::Tensor target = torch::rand({2, 3, 16, 16}).round();
  torch::Tensor mask = torch::ones({2, 1, 16, 16});
  mask.index_put_({Slice(), Slice(), Slice(0, 8)}, 0);  // top half unlabelled
  torch::Tensor loss = model::tanimotoLoss(torch::sigmoid(logits), target, mask);
  loss.backward();
  torch::Tensor gMasked = logits.grad().index({Slice(), Slice(), Slice(0, 8)});
  torch::Tensor gLabelled = logits.grad().index({Slice(), Slice(), Slice(8, 16)});
  EXPECT_EQ(gMasked.abs().max().item<float>(), 0.f);
  EXPECT_GT(gLabelled.abs().min().item<float>(), 0.f);

  // Through a whole network: the loss does not depend on targets under mask 0, and the gradient
  // reaching the output at those pixels is exactly zero.
  ResUNet net(tinySpec());
  torch::Tensor x = torch::rand({2, 3, 16, 16});
  torch::Tensor out = net->forward(x);
  out.retain_grad();
  torch::Tensor l1 = model::tanimotoLoss(torch::sigmoid(out), target, mask);
  l1.backward();
  EXPECT_EQ(out.grad().index({Slice(), Slice(), Slice(0, 8)}).abs().max().item<float>(), 0.f);
  torch::Tensor other = target.clone();
  other.index_put_({Slice(), Slice(), Slice(0, 8)},
                   1 - other.index({Slice(), Slice(), Slice(0, 8)}));
  torch::NoGradGuard g;
  torch::Tensor p = torch::sigmoid(net->forward(x));
  EXPECT_EQ(model::tanimotoLoss(p, target, mask).item<float>(),
            model::tanimotoLoss(p, other, mask).item<float>());
}

TEST(Loss, PerfectPredictionIsZeroAndWorstIsOne) {
  torch::Tensor t = torch::rand({1, 3, 8, 8}).round();
  torch::Tensor m = torch::ones({1, 1, 8, 8});
  EXPECT_NEAR(model::tanimotoLoss(t, t, m).item<float>(), 0.f, 1e-5);
  EXPECT_NEAR(model::tanimotoLoss(1 - t, t, m).item<float>(), 1.f, 1e-4);
}

TEST(Training, ThirtyStepsOnOneChipLowerTheLoss) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 1, 64, 1);
  // Read the chip the way the trainer does (through a zero-epoch run is overkill): use the raster.
  auto img = openRaster({tmp.file("img/chip0.tif")})->read({0, 0, 64, 64});
  auto lbl = openRaster({tmp.file("lbl/chip0.tif")})->read({0, 0, 64, 64});
  torch::Tensor x = torch::from_blob(img.data.data(), {1, 4, 64, 64}).index({Slice(), Slice(0, 3)});
  x = ((x - 30) / 120).clamp(-1, 2).contiguous();
  torch::Tensor y = torch::from_blob(lbl.data.data(), {1, 4, 64, 64}).clone();
  torch::manual_seed(3);
  ResUNet net(tinySpec());
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-2));
  std::vector<double> losses;
  for (int s = 0; s < 30; ++s) {
    opt.zero_grad();
    torch::Tensor loss =
        model::tanimotoLoss(torch::sigmoid(net->forward(x)), y.index({Slice(), Slice(0, 3)}),
                            y.index({Slice(), Slice(3, 4)}));
    loss.backward();
    opt.step();
    losses.push_back(loss.item<double>());
  }
  EXPECT_LT(losses.back(), 0.8 * losses.front())
      << "first " << losses.front() << " last " << losses.back();
}

model::ModelBlob blobFor(ResUNet& net, const std::string& name) {
  nlohmann::json card = {{"name", name},
                         {"architecture", model::architectureJson(net->spec)},
                         {"input_bands", net->spec.inputBands},
                         {"normalisation", "scene_p2_p98"}};
  return {card.dump(), model::saveWeights(net)};
}

TEST(ModelFile, SaveLoadGivesIdenticalOutputs) {
  test::TempDir tmp;
  torch::manual_seed(4);
  ResUNet net(tinySpec());
  {  // a few training-mode passes so the batch-norm running statistics are not the defaults
    torch::NoGradGuard g;
    for (int i = 0; i < 3; ++i) net->forward(torch::rand({2, 3, 32, 32}));
  }
  net->eval();
  const std::string path = tmp.file("m.fsm");
  model::writeModelBlob(path, blobFor(net, "roundtrip"));
  EXPECT_TRUE(isModelFile(path));
  EXPECT_FALSE(isModelFile(tmp.file("nothing")));
  EXPECT_EQ(nlohmann::json::parse(readModelCard(path))["name"], "roundtrip");

  Raster<float> tile(3, 40, 36);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 2);
  for (auto& v : tile.data) v = u(rng);
  auto predictor = loadModel(path, ModelLoadOptions{"cpu", 1, "fp32"});
  EXPECT_EQ(predictor->inputBands(), net->spec.inputBands);
  auto out = predictor->predict({tile});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].bands, 3);
  ASSERT_EQ(out[0].rows, 40);
  ASSERT_EQ(out[0].cols, 36);
  torch::NoGradGuard g;
  // The reference engine runs the inference form of the network (BatchNorm folded, see net.hpp):
  // bit-identical to that form built from the in-memory network, so the file lost nothing ...
  ModelLoadOptions reference{"cpu", 1, "fp32"};
  reference.engine = "reference";
  auto refOut = loadModel(path, reference)->predict({tile});
  torch::Tensor x = torch::from_blob(tile.data.data(), {1, 3, 40, 36});
  torch::Tensor ref = torch::from_blob(refOut[0].data.data(), {1, 3, 40, 36});
  EXPECT_TRUE(torch::equal(model::FoldedResUNet(net).predictProbabilities(x), ref));
  // ... the default fused engine (weights folded from the file without LibTorch) agrees with it
  // up to float rounding (its own sigmoid), and both with the plain network.
  torch::Tensor got = torch::from_blob(out[0].data.data(), {1, 3, 40, 36});
  EXPECT_LT((ref - got).abs().max().item<double>(), 1e-5);
  EXPECT_LT((model::predictProbabilities(net, x) - got).abs().max().item<double>(), 1e-5);

  // writeModelCard: same weights, new card; architecture changes are refused.
  nlohmann::json card = nlohmann::json::parse(readModelCard(path));
  card["thresholds"] = {{"t_ext", 0.35}};
  writeModelCard(path, tmp.file("m2.fsm"), card.dump());
  EXPECT_EQ(nlohmann::json::parse(readModelCard(tmp.file("m2.fsm")))["thresholds"]["t_ext"], 0.35);
  auto out2 = loadModel(tmp.file("m2.fsm"), ModelLoadOptions{"cpu", 1, "fp32"})->predict({tile});
  EXPECT_EQ(out2[0].data, out[0].data);
  card["input_bands"] = {"red", "green"};
  EXPECT_THROW(writeModelCard(path, tmp.file("m3.fsm"), card.dump()), UsageError);
}

TEST(ModelFile, RejectsOtherFiles) {
  test::TempDir tmp;
  std::ofstream(tmp.file("x.bin")) << "not a model at all";
  EXPECT_THROW(readModelCard(tmp.file("x.bin")), DataError);
  EXPECT_THROW(readModelCard(tmp.file("missing.bin")), IoError);
  EXPECT_THROW(loadModel(tmp.file("x.bin")), DataError);
  EXPECT_THROW(loadModel(tmp.file("x.bin"), ModelLoadOptions{"tpu", 1}), UsageError);
}

// A time stack's bands ("red@<date>") start as the init model's band shared over the dates, so the
// first layer sees the stack's mean image; a band the init model lacks starts as its mean, shared.
TEST(Transfer, TimeStackBandsShareTheInitModelsBandOverDates) {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.path() + "/rgb");
  std::filesystem::create_directories(tmp.path() + "/stack");
  std::string manifest = test::writeSyntheticChips(tmp.path() + "/rgb", 4, 48, 2);
  TrainRequest a;
  a.config = parseTrainConfig(test::tinyConfig(manifest, {"red", "green", "blue"}, 1), "a");
  a.outPath = tmp.file("rgb.fsm");
  a.threads = 1;
  trainModel(a);

  const std::vector<std::string> stack{"red@2021_03", "green@2021_03", "red@2021_08",
                                       "nir@2021_08"};
  std::string stackManifest = test::writeSyntheticChips(tmp.path() + "/stack", 4, 48, 2, 1, stack);
  TrainRequest b;
  b.config = parseTrainConfig(test::tinyConfig(stackManifest, stack, 0), "b");
  b.initModel = a.outPath;
  b.outPath = tmp.file("stack.fsm");
  b.threads = 1;
  trainModel(b);  // epochs 0: the written weights are exactly the transferred ones

  ResUNet src = model::loadNetwork(a.outPath);
  ResUNet dst = model::loadNetwork(b.outPath);
  for (const char* layer : {"enc0.conv1.weight", "enc0.skip.weight"}) {
    torch::Tensor s = src->named_parameters()[layer], d = dst->named_parameters()[layer];
    ASSERT_EQ(d.size(1), 4);
    EXPECT_TRUE(torch::allclose(d.select(1, 0), s.select(1, 0) / 2)) << layer << " red@03";
    EXPECT_TRUE(torch::allclose(d.select(1, 2), s.select(1, 0) / 2)) << layer << " red@08";
    EXPECT_TRUE(torch::allclose(d.select(1, 1), s.select(1, 1))) << layer << " green@03 (one date)";
    EXPECT_TRUE(torch::allclose(d.select(1, 3), s.mean(1))) << layer << " nir@08 = mean";
  }
}

TEST(Transfer, InitFromModelWithOtherBandsMapsByName) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 4, 48, 2);
  // Source: RGB, one short run. Target: blue, nir, red, green (other order + one new band).
  TrainRequest a;
  a.config = parseTrainConfig(test::tinyConfig(manifest, {"red", "green", "blue"}, 1), "a");
  a.outPath = tmp.file("rgb.fsm");
  a.threads = 1;
  trainModel(a);

  TrainRequest b;
  b.config = parseTrainConfig(test::tinyConfig(manifest, {"blue", "nir", "red", "green"}, 0), "b");
  b.initModel = a.outPath;
  b.outPath = tmp.file("rgbn.fsm");
  b.threads = 1;
  trainModel(b);  // epochs 0: the written weights are exactly the transferred ones

  ResUNet src = model::loadNetwork(a.outPath);
  nlohmann::json card;
  ResUNet dst = model::loadNetwork(b.outPath, &card);
  EXPECT_EQ(card["input_bands"], (std::vector<std::string>{"blue", "nir", "red", "green"}));
  EXPECT_EQ(card["training"]["init_model"]["path"], a.outPath);
  std::map<std::string, int> srcIndex{{"red", 0}, {"green", 1}, {"blue", 2}};
  for (const char* layer : {"enc0.conv1.weight", "enc0.skip.weight"}) {
    torch::Tensor s = src->named_parameters()[layer], d = dst->named_parameters()[layer];
    ASSERT_EQ(d.size(1), 4);
    for (const auto& [band, col] :
         std::map<std::string, int>{{"blue", 0}, {"red", 2}, {"green", 3}})
      EXPECT_TRUE(torch::equal(d.select(1, col), s.select(1, srcIndex[band])))
          << layer << " " << band;
    EXPECT_TRUE(torch::allclose(d.select(1, 1), s.mean(1))) << layer << " nir = mean";
  }
  // Every other layer is copied unchanged.
  auto dp = dst->named_parameters();
  for (const auto& p : src->named_parameters()) {
    if (p.key() == "enc0.conv1.weight" || p.key() == "enc0.skip.weight") continue;
    EXPECT_TRUE(torch::equal(p.value(), dp[p.key()])) << p.key();
  }
  // And the 4-band model fine-tunes and predicts.
  TrainRequest c = b;
  c.config = parseTrainConfig(test::tinyConfig(manifest, {"blue", "nir", "red", "green"}, 1,
                                               R"({"freeze_encoder_epochs": 1})"),
                              "c");
  c.outPath = tmp.file("rgbn_ft.fsm");
  trainModel(c);
  ResUNet ft = model::loadNetwork(c.outPath);
  // Encoder frozen for the only epoch: its weights are unchanged; the decoder moved.
  EXPECT_TRUE(torch::equal(ft->named_parameters()["enc1.conv1.weight"], dp["enc1.conv1.weight"]));
  EXPECT_FALSE(torch::equal(ft->named_parameters()["dec0.conv1.weight"], dp["dec0.conv1.weight"]));
  Raster<float> tile(4, 48, 48, 0.5f);
  EXPECT_EQ(loadModel(c.outPath, ModelLoadOptions{"cpu", 1})->predict({tile})[0].bands, 3);
}

}  // namespace
}  // namespace fieldseg
