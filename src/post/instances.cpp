// Instances = basins of the boundary map's hierarchical watershed cut at t_bound.
//
// 1. Basin floors: the connected components (8-connected) of {extent >= t_ext and boundary <
//    t_bound}. These are the regions of the watershed hierarchy (by altitude) of the boundary map
//    cut at level t_bound, restricted to the extent: two floors whose pass is lower than t_bound
//    are one region. {extent < t_ext and boundary < t_bound} is background.
// 2. Field-like ridge pixels (extent >= t_ext, boundary >= t_bound) are flooded from the floors
//    through field-like pixels only, by a multi-source Dijkstra whose step cost grows with the
//    boundary probability (1 + boundary / 64), so basins meet on the boundary crest. Ties go to
//    the source pixel that comes first in row-major order. Floods stop at cost maxCost.
//    Field-like pixels no floor reaches (thin fields the boundary covers entirely) form fields of
//    their own: 8-connected components of those pixels.
// 3. Remaining ridge pixels (the crest itself, extent < t_ext) take the label of the nearest
//    settled pixel (Euclidean) when it is a neighbour (squared distance <= crestReach2): a field's
//    outline ring lies right next to its extent, while pixels further out (the strip outside the
//    outline, lanes between fields) are background. At equal distance a field beats background
//    and two different fields give background (the middle of a crest between touching fields).
//
// Marker mode (params.markerQ > 0), after DECODE / marker-controlled watersheds: a gap of one or
// two pixels in a boundary line joins two basin floors, so floors are poor markers. Markers are
// instead the floor pixels whose distance d (3x3 mean, so one noisy pixel neither makes nor splits
// a marker) is >= t_dist and >= 70 % of the highest d within 10 px (a local, bounded stand-in for
// the h-maxima of the distance map): the distance head dips along every field edge, also where the
// boundary head has a gap, and a field with a low distance peak still gets its marker. Step 2 then
// floods every field-like pixel (floor or ridge) from the markers, except that a flood on a ridge
// pixel (boundary >= t_bound) never steps down onto a floor pixel: it may climb a boundary line
// but not claim the unlabelled land beyond it. Field-like pixels no marker reaches within maxCost
// are background, and floods are never merged by rule 2's distance test. Step 3 is unchanged.
// Measured on Rwanda training chips (src/post/README.md): these rules lift median field IoU from
// 0.03 (floors) to 0.58 on the same probabilities.
//
// Every rule has a bounded reach, so a pixel's label depends only on the input within
// instanceMarginPx() of it, except for the identity of the component it belongs to, which the
// tile merger resolves (tiles/README.md).
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

int instanceMarginPx(const InstanceParams& p) {
  // Marker mode reads the 3x3 distance mean and its maximum within markerRadiusPx.
  const int markerPx = p.markerQ > 0 ? 1 + p.markerRadiusPx : 0;
  return p.maxCost + p.radiusPx + markerPx + 3;
}

int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* distance, const std::uint8_t* valid, int rows, int cols,
                   const InstanceParams& params, std::vector<std::int32_t>& labels) {
  const size_t n = static_cast<size_t>(rows) * cols;
  labels.assign(n, 0);
  if (n == 0) return 0;

  // kind: 0 = background floor, 1 = field floor, 2 = field-like ridge, 3 = crest (other ridge).
  std::vector<std::uint8_t> kind(n);
  cv::Mat floorMask(rows, cols, CV_8U);
  for (size_t i = 0; i < n; ++i) {
    std::uint8_t k;
    const bool fieldLike = extent[i] >= params.extentQ;
    if (valid && !valid[i])
      k = 0;
    else if (boundary[i] >= params.boundaryQ)
      k = fieldLike ? 2 : 3;
    else
      k = fieldLike ? 1 : 0;
    kind[i] = k;
    floorMask.data[i] = k == 1 ? 1 : 0;
  }
  const bool markerMode = params.markerQ > 0 && distance != nullptr;
  if (markerMode) {
    // d9 = 9 x the 3x3 mean distance (the window's pixels only, scaled to 9 at the edge).
    cv::Mat d9(rows, cols, CV_16U);
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        int sum = 0, cnt = 0;
        for (int dr = -1; dr <= 1; ++dr)
          for (int dc = -1; dc <= 1; ++dc) {
            const int rr = r + dr, c2 = c + dc;
            if (rr < 0 || rr >= rows || c2 < 0 || c2 >= cols) continue;
            sum += distance[static_cast<size_t>(rr) * cols + c2];
            ++cnt;
          }
        d9.at<std::uint16_t>(r, c) = static_cast<std::uint16_t>(sum * 9 / cnt);
      }
    // Relative depth: a marker pixel reaches markerRelPct % of the highest d9 within
    // markerRadiusPx. A field whose distance peak is low still gets a marker, and two fields whose
    // distance dips between them keep apart even where the dip stays above t_dist.
    cv::Mat peak;
    const int k = 2 * params.markerRadiusPx + 1;
    cv::dilate(d9, peak, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)),
               cv::Point(-1, -1), 1, cv::BORDER_REPLICATE);
    const int need = 9 * params.markerQ;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const size_t i = static_cast<size_t>(r) * cols + c;
        if (kind[i] != 1) continue;
        const int d = d9.at<std::uint16_t>(r, c);
        const bool marker =
            d >= need && d * 100 >= params.markerRelPct * peak.at<std::uint16_t>(r, c);
        if (!marker) kind[i] = 2;  // flooded like a ridge pixel
      }
    for (size_t i = 0; i < n; ++i) floorMask.data[i] = kind[i] == 1 ? 1 : 0;
  }
  cv::Mat cc;
  int count = cv::connectedComponents(floorMask, cc, 8, CV_32S) - 1;
  const std::int32_t* ccp = cc.ptr<std::int32_t>();
  for (size_t i = 0; i < n; ++i) labels[i] = kind[i] == 1 ? ccp[i] : 0;

  // 2. Dijkstra (Dial's buckets) from the floors through field-like ridge pixels.
  const int maxCost = params.maxCost;
  const bool noDescent = markerMode;
  constexpr std::int32_t kUnreached = std::numeric_limits<std::int32_t>::max();
  std::vector<std::int32_t> cost(n, kUnreached);
  std::vector<std::int64_t> source(n, std::numeric_limits<std::int64_t>::max());
  std::vector<std::vector<std::int32_t>> buckets(static_cast<size_t>(maxCost) + 1);
  for (size_t i = 0; i < n; ++i) {
    if (kind[i] != 1) continue;
    // Only floor pixels next to a field-like ridge pixel can start a flood.
    const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
    bool frontier = false;
    for (int dr = -1; dr <= 1 && !frontier; ++dr)
      for (int dc = -1; dc <= 1; ++dc) {
        const int rr = r + dr, c2 = c + dc;
        if (rr >= 0 && rr < rows && c2 >= 0 && c2 < cols &&
            kind[static_cast<size_t>(rr) * cols + c2] == 2) {
          frontier = true;
          break;
        }
      }
    cost[i] = 0;
    source[i] = static_cast<std::int64_t>(i);
    if (frontier) buckets[0].push_back(static_cast<std::int32_t>(i));
  }
  for (int d = 0; d <= maxCost; ++d) {
    auto& bucket = buckets[d];
    for (size_t k = 0; k < bucket.size(); ++k) {
      const size_t i = static_cast<size_t>(bucket[k]);
      if (cost[i] != d) continue;  // stale entry
      const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
      for (int dr = -1; dr <= 1; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          if (!dr && !dc) continue;
          const int rr = r + dr, c2 = c + dc;
          if (rr < 0 || rr >= rows || c2 < 0 || c2 >= cols) continue;
          const size_t j = static_cast<size_t>(rr) * cols + c2;
          if (kind[j] != 2) continue;
          // Floods climb a boundary line but never come down its far side onto a floor.
          if (noDescent && boundary[i] >= params.boundaryQ && boundary[j] < params.boundaryQ)
            continue;
          const int nd = d + 1 + boundary[j] / 64;
          if (nd > maxCost) continue;
          if (nd < cost[j] || (nd == cost[j] && source[i] < source[j])) {
            const bool queued = cost[j] == nd;
            cost[j] = nd;
            source[j] = source[i];
            if (!queued) buckets[nd].push_back(static_cast<std::int32_t>(j));
          }
        }
    }
    std::vector<std::int32_t>().swap(bucket);
  }
  cv::Mat orphanMask(rows, cols, CV_8U);
  bool anyOrphan = false;
  for (size_t i = 0; i < n; ++i) {
    orphanMask.data[i] = 0;
    if (kind[i] != 2) continue;
    if (cost[i] != kUnreached) {
      labels[i] = labels[static_cast<size_t>(source[i])];
    } else {
      orphanMask.data[i] = 1;
      anyOrphan = true;
    }
  }
  if (anyOrphan && markerMode) {
    for (size_t i = 0; i < n; ++i)
      if (orphanMask.data[i]) kind[i] = 0;  // settled background: no marker claims it
  } else if (anyOrphan) {
    cv::Mat occ;
    const int m = cv::connectedComponents(orphanMask, occ, 8, CV_32S) - 1;
    const std::int32_t* op = occ.ptr<std::int32_t>();
    for (size_t i = 0; i < n; ++i)
      if (orphanMask.data[i]) labels[i] = count + op[i];
    count += m;
  }

  // Floods of two floors that meet deep inside a field (distance >= mergeDistanceQ on both sides
  // of a 4-adjacent meeting pair) are one field: a thin or necked field whose boundary band cut
  // its floor in pieces. Touching fields meet on their shared outline, where distance is ~0.
  if (distance && params.mergeDistanceQ > 0 && !markerMode) {
    std::vector<std::int32_t> parent(static_cast<size_t>(count) + 1);
    for (size_t k = 0; k < parent.size(); ++k) parent[k] = static_cast<std::int32_t>(k);
    auto find = [&](std::int32_t x) {
      while (parent[x] != x) x = parent[x] = parent[parent[x]];
      return x;
    };
    bool merged = false;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) {
        const size_t i = static_cast<size_t>(r) * cols + c;
        if ((kind[i] != 1 && kind[i] != 2) || labels[i] == 0 || distance[i] < params.mergeDistanceQ)
          continue;
        const size_t nb[2] = {c + 1 < cols ? i + 1 : i, r + 1 < rows ? i + cols : i};
        for (size_t j : nb) {
          if (j == i || (kind[j] != 1 && kind[j] != 2) || labels[j] == 0 ||
              labels[j] == labels[i] || distance[j] < params.mergeDistanceQ)
            continue;
          if (kind[i] != 2 && kind[j] != 2) continue;  // floors meet only through the ridge
          const std::int32_t a = find(labels[i]), b = find(labels[j]);
          if (a != b) {
            parent[std::max(a, b)] = std::min(a, b);
            merged = true;
          }
        }
      }
    if (merged)
      for (size_t i = 0; i < n; ++i)
        if (labels[i] > 0) labels[i] = find(labels[i]);
  }

  // 3. Crest pixels: nearest settled neighbour.
  const int R = params.radiusPx;
  for (size_t i = 0; i < n; ++i) {
    if (kind[i] != 3) continue;
    const int r = static_cast<int>(i / cols), c = static_cast<int>(i % cols);
    int bestD = std::numeric_limits<int>::max();
    std::int32_t bestLabel = 0;
    bool tie = false;
    for (int k = 1; k <= R && k * k <= bestD && k * k <= params.crestReach2; ++k) {
      for (int dr = -k; dr <= k; ++dr) {
        const int rr = r + dr;
        if (rr < 0 || rr >= rows) continue;
        const int step = (dr == -k || dr == k) ? 1 : 2 * k;
        for (int dc = -k; dc <= k; dc += step) {
          const int c2 = c + dc;
          if (c2 < 0 || c2 >= cols) continue;
          const size_t j = static_cast<size_t>(rr) * cols + c2;
          if (kind[j] == 3) continue;  // not settled
          const int d = dr * dr + dc * dc;
          const std::int32_t l = labels[j];
          if (d < bestD) {
            bestD = d;
            bestLabel = l;
            tie = false;
          } else if (d == bestD && l != bestLabel) {
            if (bestLabel == 0)
              bestLabel = l;  // field beats background at equal distance
            else if (l != 0)
              tie = true;  // two fields at equal distance: the crest's middle
          }
        }
      }
    }
    labels[i] = (bestD <= params.crestReach2 && !tie) ? bestLabel : 0;
  }
  return count;
}

}  // namespace fieldseg::post
