// Trainer tests through the public API only (trainer.hpp / model.hpp): config validation, a short
// training run end to end (files, card, curve), determinism, resume, evaluation.
#include "fieldseg/trainer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "synthetic_chips.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

std::vector<std::string> rgb() { return {"red", "green", "blue"}; }

std::vector<float> predictTile(const std::string& model) {
  Raster<float> tile(3, 40, 40);
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1, 2);
  for (auto& v : tile.data) v = u(rng);
  return loadModel(model, ModelLoadOptions{"cpu", 1})->predict({tile})[0].data;
}

TEST(TrainConfig, RejectsUnknownKeysAndListsValidOnes) {
  try {
    parseTrainConfig(R"({"train_manifests": ["m"], "epoch": 3})", "x.json");
    FAIL() << "no error";
  } catch (const UsageError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("'epoch'"), std::string::npos) << m;
    EXPECT_NE(m.find("epochs"), std::string::npos) << m;
  }
  EXPECT_THROW(parseTrainConfig(R"({"train_manifests": ["m"], "crop_px": 100})", "x"), UsageError);
  EXPECT_THROW(parseTrainConfig(R"({"train_manifests": []})", "x"), UsageError);
  EXPECT_THROW(parseTrainConfig(R"({"train_manifests": ["m"], "precision": "fp16"})", "x"),
               UsageError);
  EXPECT_THROW(parseTrainConfig(R"({"train_manifests": ["m"], "network": {"widht": 3}})", "x"),
               UsageError);
  EXPECT_THROW(
      parseTrainConfig(R"({"train_manifests": ["m"], "optimizer": {"schedule": "x"}})", "x"),
      UsageError);
  TrainConfig c = parseTrainConfig(R"({"train_manifests": ["m"]})", "x");
  EXPECT_EQ(c.network.width, 16);
  EXPECT_EQ(c.network.depth, 4);
}

// The keys are declared once (src/model/train_config.cpp); configs/README.md must document each.
TEST(TrainConfig, EveryKeyIsDocumentedInConfigsReadme) {
  std::ifstream f(std::string(FIELDSEG_SOURCE_DIR) + "/configs/README.md");
  ASSERT_TRUE(f) << "configs/README.md not found";
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string doc = ss.str();
  const auto keys = trainConfigKeys();
  EXPECT_GT(keys.size(), 40u);
  for (const auto& k : keys)
    EXPECT_NE(doc.find("`" + k + "`"), std::string::npos) << "undocumented config key " << k;
}

TEST(Trainer, WritesModelCardAndCurve) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 6, 48, 3);
  TrainRequest r;
  r.config = parseTrainConfig(test::tinyConfig(manifest, rgb(), 2), "tiny.json");
  r.configPath = "tiny.json";
  r.outPath = tmp.file("m.fsm");
  r.threads = 1;
  r.commandLine = "fieldseg train --config tiny.json --out m.fsm";
  std::vector<std::string> lines;
  r.log = [&](const std::string& s) { lines.push_back(s); };
  TrainSummary s = trainModel(r);
  EXPECT_EQ(s.trainChips, 4);  // scene0 (chips 0 and 3) held out
  EXPECT_EQ(s.valChips, 2);
  EXPECT_GE(s.bestEpoch, 1);
  EXPECT_FALSE(lines.empty());

  nlohmann::json card = nlohmann::json::parse(readModelCard(r.outPath));
  for (const char* k : {"name", "fieldseg_version", "architecture", "input_bands", "normalisation",
                        "gsd_range_m", "thresholds", "training", "validation"})
    EXPECT_TRUE(card.contains(k)) << k;
  EXPECT_EQ(card["normalisation"], "scene_p2_p98");
  EXPECT_EQ(card["input_bands"], rgb());
  EXPECT_EQ(card["training"]["commands"].back(), r.commandLine);
  EXPECT_EQ(card["training"]["val_source_images"], std::vector<std::string>{"scene0.tif"});
  EXPECT_EQ(card["validation"]["best_epoch"], s.bestEpoch);
  EXPECT_NEAR(card["validation"]["mcc"].get<double>(), s.best.mcc(), 1e-12);
  // 1.5x GSD rescale of 3 m chips.
  EXPECT_EQ(card["gsd_range_m"], (std::vector<double>{3.0, 4.5}));
  // Validation counts only labelled pixels: 3/4 of each 48x48 chip.
  const PixelScores& b = s.best;
  EXPECT_EQ(b.tp + b.fp + b.fn + b.tn, 2LL * 48 * 36);

  std::ifstream curve(r.outPath + ".curve.csv");
  std::string line;
  int rows = 0;
  std::getline(curve, line);
  EXPECT_EQ(line.rfind("epoch,", 0), 0u);
  while (std::getline(curve, line)) ++rows;
  EXPECT_EQ(rows, 2);

  EvalSummary e = evaluateModel(r.outPath, {manifest}, 0.5, "cpu", 1);
  EXPECT_EQ(e.chips, 6);
  EXPECT_EQ(e.scores.tp + e.scores.fp + e.scores.fn + e.scores.tn, 6LL * 48 * 36);
}

// The train_loss column of a learning curve CSV.
std::vector<double> trainLosses(const std::string& curvePath) {
  std::ifstream f(curvePath);
  std::string line;
  std::getline(f, line);  // header: epoch,learning_rate,train_loss,...
  std::vector<double> out;
  while (std::getline(f, line)) {
    std::stringstream ss(line);
    std::string cell;
    for (int i = 0; i < 3; ++i) std::getline(ss, cell, ',');
    out.push_back(std::stod(cell));
  }
  return out;
}

// bf16 autocast trains like fp32 (the same seed gives a learning curve within bf16 rounding of
// fp32's) and the card says which precision trained the model.
TEST(Trainer, Bf16AutocastTrainsLikeFp32AndIsRecordedOnTheCard) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 6, 48, 3);
  std::vector<std::vector<double>> curves;
  for (const char* precision : {"fp32", "bf16"}) {
    nlohmann::json cfg = nlohmann::json::parse(test::tinyConfig(manifest, rgb(), 3));
    cfg["precision"] = precision;
    TrainRequest r;
    r.config = parseTrainConfig(cfg.dump(), "tiny.json");
    r.outPath = tmp.file(std::string(precision) + ".fsm");
    r.threads = 1;
    trainModel(r);
    curves.push_back(trainLosses(r.outPath + ".curve.csv"));
    nlohmann::json card = nlohmann::json::parse(readModelCard(r.outPath));
    EXPECT_EQ(card["training"]["precision"], precision);
  }
  ASSERT_EQ(curves[0].size(), 3u);
  ASSERT_EQ(curves[1].size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_TRUE(std::isfinite(curves[1][e]));
    EXPECT_NEAR(curves[1][e], curves[0][e], 0.03) << "epoch " << e + 1;
  }
}

TEST(Trainer, DeterministicForASeedAndResumable) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 4, 48, 2);
  auto request = [&](const std::string& out) {
    TrainRequest r;
    r.config = parseTrainConfig(test::tinyConfig(manifest, rgb(), 3), "tiny.json");
    r.outPath = tmp.file(out);
    r.threads = 1;
    return r;
  };
  trainModel(request("a.fsm"));
  trainModel(request("b.fsm"));
  EXPECT_EQ(predictTile(tmp.file("a.fsm")), predictTile(tmp.file("b.fsm")));

  // Interrupted after one epoch, then resumed: the same model as the uninterrupted run.
  TrainRequest c = request("c.fsm");
  c.stopAfterEpochs = 1;
  TrainSummary first = trainModel(c);
  EXPECT_EQ(first.epochsRun, 1);
  c.stopAfterEpochs = 0;
  c.resume = true;
  TrainSummary second = trainModel(c);
  EXPECT_EQ(second.epochsRun, 2);
  EXPECT_EQ(predictTile(tmp.file("a.fsm")), predictTile(tmp.file("c.fsm")));
  nlohmann::json ca = nlohmann::json::parse(readModelCard(tmp.file("a.fsm")));
  nlohmann::json cc = nlohmann::json::parse(readModelCard(tmp.file("c.fsm")));
  EXPECT_EQ(ca["validation"], cc["validation"]);

  // A checkpoint from another config is refused.
  TrainRequest d = request("c.fsm");
  d.config = parseTrainConfig(test::tinyConfig(manifest, rgb(), 4), "other.json");
  d.resume = true;
  EXPECT_THROW(trainModel(d), UsageError);
}

// Fine-tuning with validation chips: the initial model competes as epoch 0, so a fine-tune that
// only hurts (here: a learning rate that wrecks the network) writes the initial weights unchanged.
TEST(Trainer, AFineTuneThatOnlyHurtsWritesTheInitialWeights) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 4, 48, 2);
  TrainRequest base;
  base.config = parseTrainConfig(test::tinyConfig(manifest, rgb(), 2), "tiny.json");
  base.outPath = tmp.file("base.fsm");
  base.threads = 1;
  trainModel(base);

  TrainRequest ft = base;
  ft.config = parseTrainConfig(
      test::tinyConfig(manifest, rgb(), 2,
                       R"({"optimizer": {"learning_rate": 50.0, "schedule": "constant"},
                           "validation": {"select_by": "loss"}})"),
      "wreck.json");
  ft.initModel = base.outPath;
  ft.outPath = tmp.file("ft.fsm");
  std::vector<std::string> lines;
  ft.log = [&](const std::string& l) { lines.push_back(l); };
  const TrainSummary s = trainModel(ft);
  EXPECT_EQ(s.bestEpoch, 0);
  EXPECT_EQ(predictTile(base.outPath), predictTile(ft.outPath));
  EXPECT_EQ(nlohmann::json::parse(readModelCard(ft.outPath))["validation"]["best_epoch"], 0);
  bool logged = false;
  for (const auto& l : lines) logged |= l.rfind("train: epoch 0 (the initial model)", 0) == 0;
  EXPECT_TRUE(logged);

  EXPECT_THROW(
      parseTrainConfig(R"({"train_manifests": ["m"], "validation": {"select_by": "f1"}})", "x"),
      UsageError);
}

// freeze_batchnorm: the BatchNorm running statistics stay those of the initial model. With a
// learning rate of ~0 nothing else moves, so the output equals the initial model's only when
// frozen.
TEST(Trainer, FrozenBatchnormKeepsTheRunningStatistics) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 4, 48, 2);
  TrainRequest base;
  base.config = parseTrainConfig(test::tinyConfig(manifest, rgb(), 1), "tiny.json");
  base.outPath = tmp.file("base.fsm");
  base.threads = 1;
  trainModel(base);
  const std::vector<float> p0 = predictTile(base.outPath);
  auto maxDiff = [&](bool freeze) {
    TrainRequest ft = base;
    // No validation chips (nothing held out), so the last epoch is written.
    ft.config = parseTrainConfig(
        test::tinyConfig(manifest, rgb(), 1,
                         std::string(R"({"val_split": null, "optimizer": {"learning_rate": 1e-12,
                                         "schedule": "constant"}, "freeze_batchnorm": )") +
                             (freeze ? "true" : "false") + "}"),
        "ft.json");
    ft.initModel = base.outPath;
    ft.outPath = tmp.file(freeze ? "frozen.fsm" : "free.fsm");
    EXPECT_EQ(trainModel(ft).valChips, 0);
    const std::vector<float> p = predictTile(ft.outPath);
    float d = 0;
    for (size_t i = 0; i < p.size(); ++i) d = std::max(d, std::abs(p[i] - p0[i]));
    return d;
  };
  EXPECT_LT(maxDiff(true), 1e-5f);
  EXPECT_GT(maxDiff(false), 1e-3f);
}

TEST(Trainer, MissingBandIsADataError) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 2, 32, 1);
  TrainRequest r;
  r.config = parseTrainConfig(test::tinyConfig(manifest, {"red", "swir"}, 1), "x");
  r.outPath = tmp.file("m.fsm");
  r.threads = 1;
  EXPECT_THROW(trainModel(r), DataError);
}

TEST(TrainCli, TrainsAndEvaluates) {
  test::TempDir tmp;
  std::string manifest = test::writeSyntheticChips(tmp.path(), 4, 48, 2);
  std::ofstream(tmp.file("tiny.json")) << test::tinyConfig(manifest, rgb(), 1);
  auto r = test::runCli(
      {"train", "--config", tmp.file("tiny.json"), "--out", tmp.file("m.fsm"), "--threads", "1"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_TRUE(isModelFile(tmp.file("m.fsm")));
  auto again =
      test::runCli({"train", "--config", tmp.file("tiny.json"), "--out", tmp.file("m.fsm")});
  EXPECT_EQ(again.exitCode, 2) << "existing output without --overwrite";
  auto ev = test::runCli({"train", "--evaluate", tmp.file("m.fsm"), "--manifest", manifest});
  ASSERT_EQ(ev.exitCode, 0) << ev.err;
  nlohmann::json j = nlohmann::json::parse(ev.out);
  EXPECT_EQ(j["chips"], 4);
  EXPECT_TRUE(j.contains("mcc"));
  // --record-in-card writes the same scores into the card, once per manifest set and threshold.
  for (int i = 0; i < 2; ++i) {
    auto rec = test::runCli(
        {"train", "--evaluate", tmp.file("m.fsm"), "--manifest", manifest, "--record-in-card"});
    ASSERT_EQ(rec.exitCode, 0) << rec.err;
  }
  nlohmann::json evals = nlohmann::json::parse(readModelCard(tmp.file("m.fsm")))["evaluation"];
  ASSERT_EQ(evals.size(), 1u);
  EXPECT_EQ(evals[0]["mcc"], j["mcc"]);
  EXPECT_EQ(evals[0]["tp"], j["tp"]);
  nlohmann::json card = nlohmann::json::parse(readModelCard(tmp.file("m.fsm")));
  EXPECT_NE(card["training"]["commands"].back().get<std::string>().find("fieldseg train --config"),
            std::string::npos);
  auto bad = test::runCli({"train", "--config", tmp.file("nope.json"), "--out", tmp.file("x.fsm")});
  EXPECT_EQ(bad.exitCode, 1);
}

}  // namespace
}  // namespace fieldseg
