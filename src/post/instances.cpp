// Instances = basins of the boundary map's hierarchical watershed cut at t_bound.
//
// The connected components of {boundary < t_bound} are exactly the regions of the watershed
// hierarchy (by altitude) cut at level t_bound: two basins whose pass is lower than t_bound are one
// region. A component is a field when its pixels have extent >= t_ext; otherwise it is background.
// Pixels at or above t_bound (the ridges between fields and around them) are given to a region by
// the drop-of-water rule: follow steepest descent of the key (boundary, distance to the nearest
// region, 255 - extent, row, col) until a region is reached. The distance term splits flat ridges
// (binary boundary maps) down their middle; the extent term sends ties into fields; row/col make
// the descent total and independent of where the window starts. Descents are capped at maxSteps
// and distances at radiusPx, so each label depends only on a bounded neighbourhood.
#include "instances.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>

namespace fieldseg::post {

std::uint8_t quantizeThreshold(double t) {
  t = std::clamp(t, 0.0, 1.0);
  const int q = static_cast<int>(std::ceil(t * 255.0 - 1e-9));
  return static_cast<std::uint8_t>(std::clamp(q, 0, 255));
}

int instanceMarginPx(const InstanceParams& p) { return p.maxSteps + 2 * p.radiusPx + 2; }

int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* valid, int rows, int cols, const InstanceParams& params,
                   std::vector<std::int32_t>& labels) {
  const size_t n = static_cast<size_t>(rows) * cols;
  labels.assign(n, 0);
  if (n == 0) return 0;

  // 0 = background region, 1 = field region, 2 = ridge.
  std::vector<std::uint8_t> kind(n);
  cv::Mat fieldMask(rows, cols, CV_8U);
  for (size_t i = 0; i < n; ++i) {
    std::uint8_t k;
    if (valid && !valid[i])
      k = 0;
    else if (boundary[i] >= params.boundaryQ)
      k = 2;
    else
      k = extent[i] >= params.extentQ ? 1 : 0;
    kind[i] = k;
    fieldMask.data[i] = k == 1 ? 1 : 0;
  }
  cv::Mat cc(rows, cols, CV_32S);
  const int count = cv::connectedComponents(fieldMask, cc, 4, CV_32S) - 1;
  const std::int32_t* ccp = cc.ptr<std::int32_t>();
  for (size_t i = 0; i < n; ++i) labels[i] = kind[i] == 1 ? ccp[i] : 0;

  // Exact Euclidean distance to the nearest region pixel (field or background), capped at
  // radiusPx + 1: below the cap it depends only on pixels within radiusPx, so it is the same in
  // any window that contains them. Euclidean (not chessboard) distances split diagonal ridges on
  // the correct side.
  cv::Mat ridgeMask(rows, cols, CV_8U);
  for (size_t i = 0; i < n; ++i) ridgeMask.data[i] = kind[i] == 2 ? 1 : 0;
  cv::Mat distMat;
  cv::distanceTransform(ridgeMask, distMat, cv::DIST_L2, cv::DIST_MASK_PRECISE, CV_32F);
  const float cap = static_cast<float>(params.radiusPx + 1);
  std::vector<float> dist(n);
  const float* dp = distMat.ptr<float>();
  for (size_t i = 0; i < n; ++i) dist[i] = std::min(dp[i], cap);

  // Steepest-descent successor of every ridge pixel (or itself at a local minimum).
  auto keyLess = [&](size_t a, size_t b) {
    if (boundary[a] != boundary[b]) return boundary[a] < boundary[b];
    if (dist[a] != dist[b]) return dist[a] < dist[b];
    if (extent[a] != extent[b]) return extent[a] > extent[b];
    return a < b;  // row-major index: same order as global (row, col)
  };
  // Region pixels have the lowest keys of all once we treat them as "arrived": give them boundary
  // priority by checking kind first.
  auto better = [&](size_t a, size_t b) {
    const bool ra = kind[a] != 2, rb = kind[b] != 2;
    if (ra != rb) return ra;
    return keyLess(a, b);
  };
  std::vector<std::int32_t> next(n, -1);
  for (size_t i = 0; i < n; ++i) {
    if (kind[i] != 2) continue;
    const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
    size_t best = i;
    for (int dr = -1; dr <= 1; ++dr)
      for (int dc = -1; dc <= 1; ++dc) {
        if (!dr && !dc) continue;
        const int rr = r + dr, cc2 = c + dc;
        if (rr < 0 || rr >= rows || cc2 < 0 || cc2 >= cols) continue;
        const size_t j = static_cast<size_t>(rr) * cols + cc2;
        if (better(j, best)) best = j;
      }
    next[i] = best == i ? -1 : static_cast<std::int32_t>(best);
  }
  // Ridge pixels that still look like field (extent >= t_ext): drop of water.
  auto fieldLike = [&](size_t i) { return extent[i] >= params.extentQ; };
  for (size_t i = 0; i < n; ++i) {
    if (kind[i] != 2 || !fieldLike(i)) continue;
    size_t cur = i;
    std::int32_t label = 0;
    for (int step = 0; step < params.maxSteps; ++step) {
      const std::int32_t nx = next[cur];
      if (nx < 0) break;
      cur = static_cast<size_t>(nx);
      if (kind[cur] != 2) {
        label = kind[cur] == 1 ? ccp[cur] : 0;
        break;
      }
    }
    labels[i] = label;
  }
  // Ridge pixels without extent (the crest itself: field outlines and the strip outside them):
  // the label of the nearest pixel that is settled (a region, or a ridge pixel labelled above), by
  // Euclidean distance; ties go to a field, then to the first pixel in row-major order. Splits
  // flat crests down their middle, keeps convex corners inside their field.
  const int R = params.radiusPx;
  for (size_t i = 0; i < n; ++i) {
    if (kind[i] != 2 || fieldLike(i)) continue;
    const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
    int bestD = std::numeric_limits<int>::max();
    std::int32_t bestLabel = 0;
    size_t bestIdx = 0;
    for (int k = 1; k <= R && k * k <= bestD; ++k) {
      for (int dr = -k; dr <= k; ++dr) {
        const int rr = r + dr;
        if (rr < 0 || rr >= rows) continue;
        const int step = (dr == -k || dr == k) ? 1 : 2 * k;
        for (int dc = -k; dc <= k; dc += step) {
          const int cc2 = c + dc;
          if (cc2 < 0 || cc2 >= cols) continue;
          const size_t j = static_cast<size_t>(rr) * cols + cc2;
          if (kind[j] == 2 && !fieldLike(j)) continue;  // not settled
          const int d = dr * dr + dc * dc;
          const std::int32_t l = labels[j];
          const bool win =
              d < bestD || (d == bestD && ((l > 0) > (bestLabel > 0) ||
                                           ((l > 0) == (bestLabel > 0) && j < bestIdx)));
          if (win) {
            bestD = d;
            bestLabel = l;
            bestIdx = j;
          }
        }
      }
    }
    labels[i] = bestD <= R * R ? bestLabel : 0;
  }
  return count;
}

}  // namespace fieldseg::post
