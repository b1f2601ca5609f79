// Peak fused multiply-add throughput of this CPU, measured: independent FMA chains on every
// thread, with the widest vector unit the CPU reports (AVX-512, else AVX2+FMA, else scalar).
// Printed as GFLOP/s (2 flops per lane per FMA) for 1 thread and for N threads, so benchmark
// figures can be put against the machine's own limit (tools/bench_e2e.sh).
//
// Usage: bench_fma [THREADS] [SECONDS_PER_RUN]   (defaults: all cores, 1 s)
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 12;  // independent accumulators: covers FMA latency x ports
constexpr long kInner = 1 << 16;

#if defined(__x86_64__)

__attribute__((target("avx512f"))) double runAvx512(long rounds) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long r = 0; r < rounds; ++r)
    for (long k = 0; k < kInner; ++k)
      for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  alignas(64) float out[16];
  float sink = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm512_store_ps(out, acc[i]);
    for (float v : out) sink += v;
  }
  return sink;
}

__attribute__((target("avx2,fma"))) double runAvx2(long rounds) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long r = 0; r < rounds; ++r)
    for (long k = 0; k < kInner; ++k)
      for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float out[8];
  float sink = 0;
  for (int i = 0; i < kChains; ++i) {
    _mm256_store_ps(out, acc[i]);
    for (float v : out) sink += v;
  }
  return sink;
}

#endif  // __x86_64__

struct Unit {
  const char* name;
  int lanes;
  double (*run)(long);
};

Unit bestUnit() {
#if !defined(__x86_64__)
  return {nullptr, 0, nullptr};
#else
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {"avx512", 16, runAvx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2+fma", 8, runAvx2};
  return {nullptr, 0, nullptr};
#endif
}

// GFLOP/s of `threads` threads, each running FMA chains for about `seconds`.
double measure(const Unit& u, int threads, double seconds) {
  // Calibrate the rounds on one thread so that a run lasts about `seconds`.
  auto t0 = std::chrono::steady_clock::now();
  volatile double keep = u.run(4);
  const double per4 = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long rounds = std::max(4L, static_cast<long>(4 * seconds / per4));
  std::atomic<double> sink{keep};
  std::vector<std::thread> pool;
  t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      double v = u.run(rounds);
      double cur = sink.load();
      while (!sink.compare_exchange_weak(cur, cur + v)) {
      }
    });
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sink.load() == 12345.678) std::printf(" ");  // keeps the work observable
  const double flops = 2.0 * u.lanes * kChains * static_cast<double>(kInner) * rounds * threads;
  return flops / wall / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  const int hw = static_cast<int>(std::thread::hardware_concurrency());
  const int threads = argc > 1 ? std::atoi(argv[1]) : (hw > 0 ? hw : 1);
  const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
  const Unit u = bestUnit();
  if (!u.run) {
    std::printf("bench_fma: this CPU has neither AVX-512 nor AVX2+FMA; no peak measured\n");
    return 0;
  }
  const double one = measure(u, 1, seconds);
  const double all = threads > 1 ? measure(u, threads, seconds) : one;
  std::printf("bench_fma: %s fp32 FMA peak %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %d threads\n",
              u.name, one, all, threads);
  return 0;
}
