// bench_predict: network inference throughput of the Predictor that loadModel() returns (the one
// `fieldseg delineate` uses), on random tiles.
//
//   bench_predict MODEL [--tile PX[,PX...]] [--batch N] [--threads N] [--warmup W] [--repeat R]
//   [--precision auto|fp32|bf16] [--engine fused|reference]
//
// For each tile size: W warm-up calls (oneDNN builds its primitives for the shape on the first
// one), then R timed predict() calls on a batch of N random tiles (values in [-1, 2], as the
// normaliser produces; all pixels valid). Prints the median and min ms per tile and Mpx/s (input
// pixels per second), with the thread count and OMP_WAIT_POLICY, one line per tile size.
// Like the CLI, it re-executes itself once with OMP_WAIT_POLICY=passive unless the variable is set.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/model.hpp"
#include "fieldseg/trainer.hpp"

using namespace fieldseg;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: bench_predict MODEL [--tile PX[,PX...]] [--batch N] [--threads N] "
      "[--warmup W] [--repeat R] [--precision auto|fp32|bf16] [--engine fused|reference]\n");
  std::exit(2);
}

std::vector<int> parseList(const std::string& s) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(std::stoi(s.substr(pos, comma - pos)));
    pos = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  fieldseg::enableTorchModels();  // --engine reference runs through LibTorch
  // Same OpenMP wait policy as `fieldseg` (tools/cli/main.cpp), so figures compare.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
  }
  if (argc < 2) usage();
  const std::string modelPath = argv[1];
  std::vector<int> tiles{256, 512, 1024};
  int batch = 1, threads = 2, warmup = 2, repeat = 7;
  std::string precision = "auto", engine = "fused";
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--tile")
      tiles = parseList(v);
    else if (a == "--batch")
      batch = std::stoi(v);
    else if (a == "--threads")
      threads = std::stoi(v);
    else if (a == "--warmup")
      warmup = std::stoi(v);
    else if (a == "--repeat")
      repeat = std::stoi(v);
    else if (a == "--precision")
      precision = v;
    else if (a == "--engine")
      engine = v;
    else
      usage();
  }
  if (batch < 1 || repeat < 1 || warmup < 0 || tiles.empty()) usage();
  try {
    ModelLoadOptions lo;
    lo.threads = threads;
    lo.precision = precision;
    lo.engine = engine;
    std::unique_ptr<Predictor> predictor = loadModel(modelPath, lo);
    const int nb = static_cast<int>(predictor->inputBands().size());
    const int shownThreads =
        threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uni(-1.f, 2.f);
    for (int px : tiles) {
      std::vector<Raster<float>> in(batch, Raster<float>(nb, px, px));
      for (auto& r : in)
        for (auto& v : r.data) v = uni(rng);
      double checksum = 0;
      for (int i = 0; i < warmup; ++i) checksum += predictor->predict(in)[0].data[0];
      std::vector<double> ms;
      for (int i = 0; i < repeat; ++i) {
        const auto t0 = Clock::now();
        auto out = predictor->predict(in);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / batch);
        checksum += out[0].data[0];
      }
      std::sort(ms.begin(), ms.end());
      const double median = ms[ms.size() / 2];
      const double mpxs = static_cast<double>(px) * px / (median * 1e3);
      std::printf(
          "tile %4d batch %d threads %d %s %s omp_wait=%s: median %8.1f ms/tile (min %8.1f, n=%d) "
          "%.3f Mpx/s  [checksum %.4f]\n",
          px, batch, shownThreads, resolvePrecision(lo).c_str(), engine.c_str(),
          std::getenv("OMP_WAIT_POLICY"), median, ms.front(), repeat, mpxs, checksum);
      std::fflush(stdout);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
