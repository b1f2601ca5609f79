// Model files and chips that do not depend on LibTorch's or GDAL's own formats: version-2 tensor
// weights (a model trained with another LibTorch loads here) and .fsc raw chips (a trainer built
// without GDAL reads them; tools/device).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "chip_file.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "net.hpp"
#include "synthetic_chips.hpp"
#include "test_support.hpp"

namespace fieldseg {
namespace {

using model::ResUNet;

ResUNet trainedLookingNet() {
  NetworkSpec s;
  s.width = 4;
  s.depth = 2;
  torch::manual_seed(7);
  ResUNet net(s);
  torch::NoGradGuard g;  // training-mode passes: batch-norm statistics differ from the defaults
  for (int i = 0; i < 3; ++i) net->forward(torch::rand({2, 3, 32, 32}));
  net->eval();
  return net;
}

torch::Tensor outputsOf(ResUNet& net) {
  torch::manual_seed(9);
  torch::NoGradGuard g;
  return model::predictProbabilities(net, torch::rand({1, 3, 40, 36}));
}

TEST(ModelFile, TensorWeightsRoundTripExactly) {
  ResUNet a = trainedLookingNet();
  const std::string w = model::saveWeights(a);
  ASSERT_GE(w.size(), 8u);
  EXPECT_EQ(w.substr(0, 8), "FSGTENS1");
  ResUNet b(a->spec);
  b->eval();
  model::loadWeights(b, w, "test");
  EXPECT_TRUE(torch::equal(outputsOf(a), outputsOf(b)));
  // Every buffer too (batch-norm statistics, num_batches_tracked).
  auto ba = a->named_buffers(true), bb = b->named_buffers(true);
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
}

TEST(ModelFile, TruncatedOrForeignTensorWeightsAreDataErrors) {
  ResUNet a = trainedLookingNet();
  const std::string w = model::saveWeights(a);
  ResUNet b(a->spec);
  EXPECT_THROW(model::loadWeights(b, w.substr(0, w.size() / 2), "t"), DataError);
  NetworkSpec wider = a->spec;
  wider.width = 8;
  ResUNet c(wider);
  EXPECT_THROW(model::loadWeights(c, w, "t"), DataError);
}

// A tiny weights section declaring huge tensors (2^32 x 2^32 floats, or one dimension of 2^40) is
// refused before anything is allocated.
TEST(ModelFile, HugeDeclaredTensorDimensionsAreDataErrorsNotAllocations) {
  auto u64 = [](std::uint64_t v) {
    std::string b;
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return b;
  };
  ResUNet net = trainedLookingNet();
  for (const auto& dims : {std::vector<std::uint64_t>{1ull << 32, 1ull << 32},
                           std::vector<std::uint64_t>{1ull << 40}}) {
    std::string w =
        std::string("FSGTENS1") + u64(1) + u64(1) + "x" + std::string(1, '\0') + u64(dims.size());
    for (auto d : dims) w += u64(d);
    w += std::string(64, '\0');
    try {
      model::loadWeights(net, w, "huge.fsm");
      FAIL() << "accepted a tensor of " << dims.size() << " huge dimensions";
    } catch (const DataError& e) {
      const std::string m = e.what();
      EXPECT_TRUE(m.find("larger than the file") != std::string::npos ||
                  m.find("bad size of 'x'") != std::string::npos)
          << m;
    }
  }
}

TEST(ModelFile, VersionOneArchiveWeightsStillLoad) {
  // What format version 1 stored: a torch::serialize archive of the network.
  test::TempDir tmp;
  ResUNet a = trainedLookingNet();
  std::ostringstream ss(std::ios::binary);
  torch::serialize::OutputArchive archive;
  a->save(archive);
  archive.save_to(ss);
  nlohmann::json card = {{"name", "v1"},
                         {"architecture", model::architectureJson(a->spec)},
                         {"input_bands", a->spec.inputBands}};
  const std::string path = tmp.file("v1.fsm");
  model::writeModelBlob(path, {card.dump(), ss.str()});
  {  // stamp the header as version 1, as old files are
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const char v1[4] = {1, 0, 0, 0};
    f.write(v1, 4);
  }
  ResUNet b = model::loadNetwork(path);
  EXPECT_TRUE(torch::equal(outputsOf(a), outputsOf(b)));
  {  // a version this build does not know is refused with a clear error
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);
    const char v9[4] = {9, 0, 0, 0};
    f.write(v9, 4);
  }
  EXPECT_THROW(model::loadNetwork(path), DataError);
}

TEST(RawChips, PackedChipsEqualTheGeoTiffChips) {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp.file("tif"));
  test::writeSyntheticChips(tmp.file("tif"), 3, 40, 1);
  auto r =
      test::runShell("/usr/bin/python3 '" FIELDSEG_SOURCE_DIR "/tools/device/pack_chips.py' '" +
                     tmp.file("tif") + "' '" + tmp.file("fsc") + "'");
  if (r.exitCode != 0 && r.err.find("osgeo") != std::string::npos)
    GTEST_SKIP() << "python3-gdal is missing (tools/setup.sh installs it): " << r.err;
  ASSERT_EQ(r.exitCode, 0) << r.err;
  for (int i = 0; i < 3; ++i) {
    const std::string name = "chip" + std::to_string(i);
    std::vector<std::string> na, nb;
    std::vector<std::uint8_t> va, vb;
    torch::Tensor a = model::readChipTensor(tmp.file("tif/img/" + name + ".tif"), &na, &va);
    torch::Tensor b = model::readChipTensor(tmp.file("fsc/img/" + name + ".fsc"), &nb, &vb);
    EXPECT_EQ(na, nb);
    EXPECT_TRUE(torch::equal(a, b)) << name;  // float imagery is stored as float32
    torch::Tensor la = model::readChipTensor(tmp.file("tif/lbl/" + name + ".tif"), &na, nullptr);
    torch::Tensor lb = model::readChipTensor(tmp.file("fsc/lbl/" + name + ".fsc"), &nb, nullptr);
    EXPECT_EQ(na, nb);
    ASSERT_EQ(la.sizes(), lb.sizes());
    for (int band : {0, 1, 3}) EXPECT_TRUE(torch::equal(la[band], lb[band])) << name << band;
    // distance is quantised to 1/65535
    EXPECT_LE((la[2] - lb[2]).abs().max().item<float>(), 0.5f / 65535 + 1e-7f) << name;
  }
}

TEST(RawChips, BadFilesAreDataErrors) {
  test::TempDir tmp;
  std::ofstream(tmp.file("bad.fsc")) << "FSGCHIP1garbage";
  EXPECT_THROW(model::readChipTensor(tmp.file("bad.fsc"), nullptr, nullptr), DataError);
  EXPECT_THROW(model::readChipTensor(tmp.file("missing.fsc"), nullptr, nullptr), IoError);
  std::ofstream(tmp.file("wrong.fsc")) << "NOTACHIP";
  EXPECT_THROW(model::readChipTensor(tmp.file("wrong.fsc"), nullptr, nullptr), DataError);
}

}  // namespace
}  // namespace fieldseg
