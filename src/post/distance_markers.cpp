// distanceMarkers (instances.hpp): the h-maxima of the smoothed distance head as flood markers in
// marker mode (instances.cpp, "Marker mode"), in exact integers so every tile finds the same.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

#include "instances.hpp"

namespace fieldseg::post {

namespace {

// Gaussian (sigma 1, radius 3) in integers: weights of exp(-x^2 / 2) scaled to 90 at the centre.
constexpr int kGauss[7] = {1, 12, 55, 90, 55, 12, 1};
constexpr int kGaussRadius = kDistanceSmoothRadiusPx;
constexpr std::int64_t kGaussScale = 226 * 226;  // sum of the 2-D weights

// s = the smoothed distance, times kGaussScale (exact integers, so every tile computes the same
// value for the same pixel). Outside the window the edge pixel is repeated: those values lie
// within the margin, whose labels tiles/ never keeps. Rows are smoothed along the row (at most
// 226 x 255: 16 bits) into a ring of the last 8 rows, from which each output row takes its 7.
std::vector<std::int32_t> smoothDistance(const std::uint8_t* d, int rows, int cols) {
  const size_t n = static_cast<size_t>(rows) * cols;
  std::vector<std::int32_t> s(n);
  constexpr int kRing = 8;  // > 2R + 1, a power of two
  std::vector<std::uint16_t> ring(static_cast<size_t>(kRing) * cols);
  const int R = kGaussRadius;
  auto ringRow = [&](int r) { return ring.data() + static_cast<size_t>(r & (kRing - 1)) * cols; };
  auto alongRow = [&](int r) {  // the edge columns clamped, the rest straight
    const std::uint8_t* in = d + static_cast<size_t>(r) * cols;
    std::uint16_t* out = ringRow(r);
    auto clamped = [&](int c) {
      int acc = 0;
      for (int k = -R; k <= R; ++k) acc += kGauss[k + R] * in[std::clamp(c + k, 0, cols - 1)];
      return static_cast<std::uint16_t>(acc);
    };
    int c = 0;
    for (; c < std::min(R, cols); ++c) out[c] = clamped(c);
    for (; c < cols - R; ++c) {
      int acc = 0;
      for (int k = -R; k <= R; ++k) acc += kGauss[k + R] * in[c + k];
      out[c] = static_cast<std::uint16_t>(acc);
    }
    for (; c < cols; ++c) out[c] = clamped(c);
  };
  int smoothed = -1;                // the last row in the ring
  for (int r = 0; r < rows; ++r) {  // along columns: the rows r - 3 .. r + 3, clamped
    while (smoothed < std::min(rows - 1, r + R)) alongRow(++smoothed);
    const std::uint16_t* in[2 * kGaussRadius + 1];
    for (int k = -R; k <= R; ++k) in[k + R] = ringRow(std::clamp(r + k, 0, rows - 1));
    std::int32_t* out = s.data() + static_cast<size_t>(r) * cols;
    for (int c = 0; c < cols; ++c) {
      std::int32_t acc = 0;
      for (int k = 0; k <= 2 * R; ++k) acc += kGauss[k] * in[k][c];
      out[c] = acc;
    }
  }
  return s;
}

}  // namespace

void distanceMarkers(const std::uint8_t* distance, int rows, int cols, const InstanceParams& p,
                     const std::vector<std::uint8_t>& kind, std::vector<std::uint8_t>& isMarker) {
  const size_t n = static_cast<size_t>(rows) * cols;
  isMarker.assign(n, 0);
  const std::vector<std::int32_t> s = smoothDistance(distance, rows, cols);
  const std::int32_t need = static_cast<std::int32_t>(p.markerQ * kGaussScale);
  const std::int32_t h = static_cast<std::int32_t>(p.markerHeightQ * kGaussScale);
  const int R = p.markerRadiusPx;
  std::vector<std::uint8_t> visited(n, 0);  // by the running search (cleared after it)
  auto candidate = [&](size_t i) { return (kind[i] == 1 || kind[i] == 2) && s[i] >= need; };
  // A local maximum (plateaus included): no neighbour inside the window is higher.
  auto topAt = [&](int r, int c) {
    const size_t i = static_cast<size_t>(r) * cols + c;
    for (int dr = -1; dr <= 1; ++dr)
      for (int dc = -1; dc <= 1; ++dc) {
        const int rr = r + dr, c2 = c + dc;
        if (rr >= 0 && rr < rows && c2 >= 0 && c2 < cols &&
            s[static_cast<size_t>(rr) * cols + c2] > s[i])
          return false;
      }
    return true;
  };
  // The dynamic test of the local maximum at (r, c); marks its top when it passes.
  std::vector<std::pair<int, int>> queue;  // the search's pixels: row, column
  auto testPeak = [&](int r, int c) {
    // Plain locals for the search (a lambda's captures are reached through its closure, which
    // unoptimised and sanitizer builds reload at every use).
    const int nc = cols;
    const std::int32_t* sv = s.data();
    std::uint8_t* seen = visited.data();
    const size_t i = static_cast<size_t>(r) * nc + c;
    // The search box: within R px of the peak, inside the window. Pixels strictly inside it have
    // all eight neighbours in it.
    const int rlo = std::max(0, r - R), rhi = std::min(rows - 1, r + R);
    const int clo = std::max(0, c - R), chi = std::min(nc - 1, c + R);
    // Dynamic >= h: no higher pixel is reachable through pixels above s - h (within R px).
    const std::int32_t top = sv[i], floorLevel = top - h;
    queue.assign(1, {r, c});
    seen[i] = 1;
    // (A plain loop, not a lambda: see above.)
    bool higher = false;
    for (size_t k = 0; k < queue.size() && !higher; ++k) {
      // (Not a structured binding: sanitizer builds keep its object on the stack.)
      const int qr = queue[k].first, qc = queue[k].second;
      const bool inner = qr > rlo && qr < rhi && qc > clo && qc < chi;
      const std::ptrdiff_t q = static_cast<std::ptrdiff_t>(qr) * nc + qc;
      for (int dr = -1; dr <= 1 && !higher; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          const int rr = qr + dr, c2 = qc + dc;
          if (!inner && (rr < rlo || rr > rhi || c2 < clo || c2 > chi)) continue;
          const std::ptrdiff_t j = q + static_cast<std::ptrdiff_t>(dr) * nc + dc;
          if (seen[j] || sv[j] <= floorLevel) continue;
          if (sv[j] > top) {
            higher = true;
            break;
          }
          seen[j] = 1;
          queue.emplace_back(rr, c2);
        }
    }
    for (const auto& px : queue) seen[static_cast<size_t>(px.first) * nc + px.second] = 0;
    if (higher) return;  // no marker
    // The marker is the peak's whole top (what the search visited): field-like pixels within h
    // of the peak and connected to it.
    for (const auto& px : queue) {
      const size_t q = static_cast<size_t>(px.first) * nc + px.second;
      const std::uint8_t k = kind[q];
      if (k == 1 || k == 2) isMarker[q] = 1;
    }
  };
  // Peaks in row-major order (every search reads s alone, so the markers do not depend on the
  // order). Inner pixels are screened a row at a time without branches (most pixels have a
  // higher neighbour), the window's edge pixels one by one.
  std::vector<std::uint8_t> flag(static_cast<size_t>(cols));
  for (int r = 0; r < rows; ++r) {
    const bool edgeRow = r == 0 || r == rows - 1 || cols < 3;
    if (edgeRow) {
      for (int c = 0; c < cols; ++c)
        flag[static_cast<size_t>(c)] = candidate(static_cast<size_t>(r) * cols + c) && topAt(r, c);
    } else {
      const std::int32_t* up = s.data() + static_cast<size_t>(r - 1) * cols;
      const std::int32_t* mid = up + cols;
      const std::int32_t* dn = mid + cols;
      const std::uint8_t* kd = kind.data() + static_cast<size_t>(r) * cols;
      for (int c = 1; c < cols - 1; ++c) {
        const std::int32_t v = mid[c];
        const bool field = (kd[c] == 1) | (kd[c] == 2);
        flag[static_cast<size_t>(c)] = field & (v >= need) & (up[c - 1] <= v) & (up[c] <= v) &
                                       (up[c + 1] <= v) & (mid[c - 1] <= v) & (mid[c + 1] <= v) &
                                       (dn[c - 1] <= v) & (dn[c] <= v) & (dn[c + 1] <= v);
      }
      for (int c : {0, cols - 1})
        flag[static_cast<size_t>(c)] = candidate(static_cast<size_t>(r) * cols + c) && topAt(r, c);
    }
    for (int c = 0; c < cols; ++c)
      if (flag[static_cast<size_t>(c)]) testPeak(r, c);
  }
}

}  // namespace fieldseg::post
