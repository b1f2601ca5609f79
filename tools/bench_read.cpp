// bench_read: throughput of the satellite tile reader (openRaster + read) on one image.
//
//   bench_read IMAGE [--tile PX] [--threads N] [--gsd M] [--repeat R]
//
// Reads the whole raster as tiles (serially, then from N std::threads sharing one source) and
// times computeStats. Prints one line per measurement (Mpx/s = output pixels per second).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/raster_source.hpp"

using namespace fieldseg;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double readAll(const RasterSource& src, int tile, int threads) {
  const GridSpec& g = src.grid();
  std::vector<PixelWindow> windows;
  for (int y = 0; y < g.height(); y += tile)
    for (int x = 0; x < g.width(); x += tile) windows.push_back({x, y, tile, tile});
  std::atomic<size_t> next{0};
  std::atomic<double> checksum{0};
  auto worker = [&] {
    double local = 0;
    for (size_t i = next++; i < windows.size(); i = next++) {
      Raster<float> r = src.read(windows[i]);
      local += r.data[r.data.size() / 2];
    }
    double cur = checksum.load();
    while (!checksum.compare_exchange_weak(cur, cur + local)) {
    }
  };
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  return secondsSince(t0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: bench_read IMAGE [--tile PX] [--threads N] [--gsd M] [--repeat R]\n");
    return 2;
  }
  std::string image = argv[1];
  int tile = 512, threads = 2, repeat = 3;
  double gsd = 0;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--tile")
      tile = std::atoi(argv[i + 1]);
    else if (k == "--threads")
      threads = std::atoi(argv[i + 1]);
    else if (k == "--gsd")
      gsd = std::atof(argv[i + 1]);
    else if (k == "--repeat")
      repeat = std::atoi(argv[i + 1]);
  }
  try {
    OpenOptions o;
    o.gsdM = gsd;
    auto src = openRaster({image}, o);
    const GridSpec& g = src->grid();
    const double mpx = static_cast<double>(g.width()) * g.height() / 1e6;
    std::printf("image %s: %dx%d, %zu bands, gsd %.3f m, tile %d\n", image.c_str(), g.width(),
                g.height(), src->bands().size(), g.gsdMeters(), tile);
    for (int t : {1, threads}) {
      double best = 1e30;
      for (int r = 0; r < repeat; ++r) best = std::min(best, readAll(*src, tile, t));
      std::printf("read  threads=%d  %.3f s  %.1f Mpx/s\n", t, best, mpx / best);
    }
    double best = 1e30;
    for (int r = 0; r < repeat; ++r) {
      auto t0 = Clock::now();
      computeStats(*src);
      best = std::min(best, secondsSince(t0));
    }
    std::printf("computeStats (1024 px sample)  %.3f s\n", best);
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_read: %s\n", e.what());
    return 1;
  }
  return 0;
}
