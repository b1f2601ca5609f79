// Deterministic randomness for the synthetic scene generator (internal to src/synth).
//
// Everything a pixel looks like is a pure function of (seed, position): counter-based hashes rather
// than a sequential generator, so a pixel renders the same whatever strip, thread or halo it is
// drawn in. The layout uses Rng (splitmix64) with its own fixed sequence: std:: distributions are
// implementation-defined and would make outputs differ between standard libraries.
#pragma once

#include <cmath>
#include <cstdint>

namespace fieldseg::synth {

inline std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::uint64_t hash3(std::uint64_t seed, std::int64_t a, std::int64_t b) {
  return mix64(seed ^ mix64(static_cast<std::uint64_t>(a) * 0x100000001B3ull ^
                            mix64(static_cast<std::uint64_t>(b))));
}

/// Uniform in [0, 1) from the top 24 bits of a hash (float precision is all we need per pixel).
inline float unit24(std::uint64_t h) { return static_cast<float>(h >> 40) * (1.0f / 16777216.0f); }

/// Approximately standard normal from 4 bytes of a hash (Irwin-Hall of 4 uniforms, scaled).
inline float gauss4(std::uint32_t bits) {
  const float s = static_cast<float>(bits & 0xFF) + static_cast<float>((bits >> 8) & 0xFF) +
                  static_cast<float>((bits >> 16) & 0xFF) + static_cast<float>(bits >> 24);
  // Sum of 4 uniforms on {0..255}: mean 510, sd 255*sqrt(4/12) ~ 147.5.
  return (s - 510.0f) * (1.0f / 147.5f);
}

/// Smooth value noise in [0, 1) with lattice spacing 1 (scale the coordinates to choose the size).
inline float valueNoise(std::uint64_t seed, double x, double y) {
  const double fx = std::floor(x), fy = std::floor(y);
  const auto ix = static_cast<std::int64_t>(fx), iy = static_cast<std::int64_t>(fy);
  const float tx = static_cast<float>(x - fx), ty = static_cast<float>(y - fy);
  const float sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
  const float a = unit24(hash3(seed, ix, iy)), b = unit24(hash3(seed, ix + 1, iy));
  const float c = unit24(hash3(seed, ix, iy + 1)), d = unit24(hash3(seed, ix + 1, iy + 1));
  const float top = a + (b - a) * sx, bottom = c + (d - c) * sx;
  return top + (bottom - top) * sy;
}

/// Two octaves of value noise, in [0, 1).
inline float fbm2(std::uint64_t seed, double x, double y) {
  return 0.65f * valueNoise(seed, x, y) + 0.35f * valueNoise(seed + 1, 2.03 * x + 17.1, 2.03 * y);
}

/// Sequential generator for the layout (splitmix64).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Log-uniform in [lo, hi).
  double logUniform(double lo, double hi) { return std::exp(uniform(std::log(lo), std::log(hi))); }
  bool chance(double p) { return uniform() < p; }
  /// Approximately normal (sum of 4 uniforms).
  double normal(double mean, double sd) {
    const double s = uniform() + uniform() + uniform() + uniform();
    return mean + sd * (s - 2.0) * 1.7320508075688772;
  }

 private:
  std::uint64_t state_;
};

}  // namespace fieldseg::synth
