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
// two pixels in a boundary line joins two basin floors, so floors are poor markers. The markers
// are instead the h-maxima of the distance head (smoothed by a Gaussian of sigma 1 px, so one
// noisy pixel neither makes nor splits a marker): peaks whose dynamic is at least h (marker_h, 0.1
// by default), i.e. no higher pixel is reachable from them without going down by h, with smoothed
// distance >= t_dist. The distance head dips along every field edge, also where the boundary head
// has a gap, so two fields keep apart wherever the dip between them is deeper than h, and a field
// with a low peak keeps its marker. The search is bounded to 40 px around the peak (tiling needs a
// bounded reach); each marker is the peak's top, the field-like pixels it visited. Step 2 then
// floods every field-like pixel from the markers with step cost 1 + b^2 / 1024 (b = boundary
// 0..255: cheap inside fields, steep on outlines, so floods meet on the crest as a watershed's do),
// stopping at cost 96, except that a flood on a ridge pixel (boundary >= t_bound) never steps down
// onto a floor pixel: it may climb a boundary line but not claim the unlabelled land beyond it.
// Field-like pixels no marker reaches are background, and floods are never merged by rule 2's
// distance test. Step 3 is unchanged. Measured on Rwanda chips in src/post/README.md.
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
  if (p.markerQ == 0) return p.maxCost + p.radiusPx + 3;
  // Marker mode: whether a pixel belongs to a marker depends on the peaks within markerRadiusPx
  // of it, and each peak's test on the smoothed distance (radius 3) within markerRadiusPx of the
  // peak; floods reach markerMaxCost further.
  return p.markerMaxCost + p.radiusPx + 2 * p.markerRadiusPx + kDistanceSmoothRadiusPx + 3;
}

namespace {

// Rows [r0, r1) x columns [c0, c1) of a window.
struct Span {
  int r0, r1, c0, c1;
};

// What labelInstances works on: the pixel kinds and labels of one tile.
struct Tile {
  const std::uint8_t* boundary;
  const std::uint8_t* distance;
  int rows, cols;
  size_t n;
  const InstanceParams& params;
  bool markerMode;
  // kind: 0 = background floor, 1 = field floor, 2 = field-like ridge, 3 = crest (other ridge).
  std::vector<std::uint8_t> kind;
  std::vector<std::int32_t>& labels;
  Span flooded;  // where floods run and ridge pixels are settled (the whole window by default)
  Span settled;  // where crest pixels are settled (the whole window by default)
};

// 1. Pixel kinds and the floors (markers in marker mode) as connected components; returns how
// many.
int labelFloors(Tile& t, const std::uint8_t* extent, const std::uint8_t* valid) {
  const size_t n = t.n;
  const InstanceParams& params = t.params;
  auto& kind = t.kind;
  kind.resize(n);
  // Without branches (the kinds of neighbouring pixels change at random along outlines):
  // field-like ridge 2, other ridge 3, field floor 1, background 0, invalid 0.
  // (Locals: byte stores may alias anything, so members would be reloaded every pixel.)
  const std::uint8_t extentQ = params.extentQ, boundaryQ = params.boundaryQ;
  const std::uint8_t* boundary = t.boundary;
  std::uint8_t* k = kind.data();
  for (size_t i = 0; i < n; ++i) {
    const int fieldLike = extent[i] >= extentQ;
    const int ridge = boundary[i] >= boundaryQ;
    k[i] = static_cast<std::uint8_t>(ridge ? 3 - fieldLike : fieldLike);
  }
  if (valid)
    for (size_t i = 0; i < n; ++i) k[i] &= static_cast<std::uint8_t>(-(valid[i] != 0));
  if (t.markerMode) {
    std::vector<std::uint8_t> isMarker;
    distanceMarkers(t.distance, t.rows, t.cols, params, kind, isMarker);
    // Markers are the floors; other field floors are flooded like ridge pixels.
    const std::uint8_t* m = isMarker.data();
    for (size_t i = 0; i < n; ++i)
      k[i] = m[i] ? std::uint8_t{1} : k[i] == 1 ? std::uint8_t{2} : k[i];
  }
  cv::Mat floorMask(t.rows, t.cols, CV_8U);
  std::uint8_t* isFloor = floorMask.data;
  for (size_t i = 0; i < n; ++i) isFloor[i] = k[i] == 1;
  // The components are the floors' labels (0 elsewhere): OpenCV writes them into `labels`.
  cv::Mat cc(t.rows, t.cols, CV_32S, t.labels.data());
  const int count = cv::connectedComponents(floorMask, cc, 8, CV_32S) - 1;
  if (cc.data != reinterpret_cast<uchar*>(t.labels.data()))  // (OpenCV reallocated it)
    std::copy_n(cc.ptr<std::int32_t>(), t.n, t.labels.begin());
  return count;
}

// 2. Dijkstra (Dial's buckets) from the floors through field-like ridge pixels: each ridge
// pixel's cost and the floor pixel it was reached from (its index in the tile). The flood runs on
// the tile framed by one pixel of "no kind" (index (r + 1) * (cols + 2) + c + 1), so a neighbour
// is an offset with no bounds test. The flood visits pixels far apart in memory, so it keeps what
// it reads and writes of a pixel small: a byte of what the pixel is (`code`) and one key holding
// its cost above its source, so "lower cost, or equal cost and smaller source" is one unsigned
// comparison (5 bytes a pixel with a 32-bit key while costs and sources fit, else 9; costs stop
// at kMaxFloodCost, as when they were 16 bits). `source` holds tile indices, whose order (the
// tie-break) is the frame's order. The result does not depend on the order pixels are popped
// in: every update of a pixel's (cost, source) comes from a pixel of a lower cost bucket, so a
// popped pixel is final and holds the smallest source over its shortest paths.
constexpr std::uint8_t kRidgeBit = 0x80;  // boundary >= t_bound
constexpr std::uint8_t kEnterBit = 0x40;  // a field-like ridge pixel: floods may enter it
constexpr std::uint8_t kStepMask = 0x3f;  // the cost of stepping onto it, minus 1
constexpr int kMaxFloodCost = 65534;

struct Flood {
  int pitch = 0;  // cols + 2
  int sourceBits = 0;
  std::vector<std::uint8_t> code;
  std::vector<std::uint32_t> key32;  // cost << sourceBits | source, all ones where unreached
  std::vector<std::uint64_t> key64;  // the same, where 32 bits do not hold both
  bool reached(size_t pi) const {
    return key32.empty() ? key64[pi] != ~std::uint64_t{0} : key32[pi] != ~std::uint32_t{0};
  }
  size_t source(size_t pi) const {
    const std::uint64_t k = key32.empty() ? key64[pi] : key32[pi];
    return static_cast<size_t>(k & ((std::uint64_t{1} << sourceBits) - 1));
  }
};

// How many pops ahead floodFrom fetches the code and key rows around a popped pixel (measured
// with 8-byte cells: 4-16 all help, 8 best on the 4096^2 benchmark scene).
constexpr size_t kPrefetchAhead = 8;

template <typename Key>
void floodFrom(const Tile& t, Flood& f, std::vector<Key>& keys, int maxCost) {
  const int cols = t.cols, pitch = f.pitch, bits = f.sourceBits;
  const bool noDescent = t.markerMode;
  const Span& s = t.flooded;
  const std::uint8_t* code = f.code.data();
  Key* key = keys.data();
  const std::ptrdiff_t nb[8] = {-pitch - 1, -pitch, -pitch + 1, -1, 1, pitch - 1, pitch, pitch + 1};
  std::vector<std::vector<std::int32_t>> buckets(static_cast<size_t>(maxCost) + 1);
  for (int r = s.r0; r < s.r1; ++r)
    for (int c = s.c0; c < s.c1; ++c) {
      if (t.kind[static_cast<size_t>(r) * cols + c] != 1) continue;
      const size_t i = static_cast<size_t>(r + 1) * pitch + c + 1;
      // Only floor pixels next to a field-like ridge pixel can start a flood.
      bool frontier = false;
      for (std::ptrdiff_t d : nb) frontier = frontier || (code[i + d] & kEnterBit);
      key[i] = static_cast<Key>(static_cast<size_t>(r) * cols + c);  // cost 0
      if (frontier) buckets[0].push_back(static_cast<std::int32_t>(i));
    }
  const Key sourceMask = (Key{1} << bits) - 1;
  for (int d = 0; d <= maxCost; ++d) {
    auto& bucket = buckets[d];
    for (size_t k = 0; k < bucket.size(); ++k) {
      // Pops jump across the tile in cost order: fetch the rows of a later pop's neighbours ahead.
      if (k + kPrefetchAhead < bucket.size()) {
        const size_t ahead = static_cast<size_t>(bucket[k + kPrefetchAhead]);
        for (size_t row : {ahead - pitch, ahead, ahead + pitch}) {
          __builtin_prefetch(key + row);
          __builtin_prefetch(code + row);
        }
      }
      const size_t i = static_cast<size_t>(bucket[k]);
      const Key ki = key[i];
      if (static_cast<int>(ki >> bits) != d) continue;  // stale entry
      // Floods climb a boundary line but never come down its far side onto a floor.
      const bool noDown = noDescent && (code[i] & kRidgeBit);
      const Key si = ki & sourceMask;
      for (std::ptrdiff_t o : nb) {
        const size_t j = i + o;
        const std::uint8_t cj = code[j];
        if (!(cj & kEnterBit) || (noDown && !(cj & kRidgeBit))) continue;
        const int nd = d + 1 + (cj & kStepMask);
        if (nd > maxCost) continue;
        const Key kj = key[j], next = static_cast<Key>(static_cast<Key>(nd) << bits) | si;
        if (next < kj) {
          const bool queued = static_cast<int>(kj >> bits) == nd;
          key[j] = next;
          if (!queued) buckets[nd].push_back(static_cast<std::int32_t>(j));
        }
      }
    }
    std::vector<std::int32_t>().swap(bucket);
  }
}

void floodRidges(const Tile& t, Flood& f) {
  const int rows = t.rows, cols = t.cols, pitch = cols + 2;
  const InstanceParams& params = t.params;
  const bool markerMode = t.markerMode;
  const int maxCost =
      std::clamp(markerMode ? params.markerMaxCost : params.maxCost, 0, kMaxFloodCost);
  std::uint8_t code[256];  // step 1 + b^2 / 1024 <= 64, or 1 + b / 64 <= 4: step - 1 in 6 bits
  for (int b = 0; b < 256; ++b)
    code[b] = static_cast<std::uint8_t>((markerMode ? b * b / 1024 : b / 64) |
                                        (b >= params.boundaryQ ? kRidgeBit : 0));
  f.pitch = pitch;
  const size_t framed = static_cast<size_t>(rows + 2) * pitch;
  f.code.assign(framed, 0);
  // Cells outside the flooded span keep code 0: floods never enter them.
  const Span& s = t.flooded;
  for (int r = s.r0; r < s.r1; ++r) {
    const size_t o = static_cast<size_t>(r) * cols, po = static_cast<size_t>(r + 1) * pitch + 1;
    for (int c = s.c0; c < s.c1; ++c)
      f.code[po + c] = code[t.boundary[o + c]] | (t.kind[o + c] == 2 ? kEnterBit : 0);
  }
  // Sources are tile indices (< rows * cols); the all-ones key is "unreached", so the largest
  // cost field stays above maxCost.
  int bits = 1;
  while ((size_t{1} << bits) < t.n) ++bits;
  f.sourceBits = bits;
  if (bits + 7 <= 32 && maxCost < 127) {
    f.key32.assign(framed, ~std::uint32_t{0});
    floodFrom(t, f, f.key32, maxCost);
  } else {
    f.key64.assign(framed, ~std::uint64_t{0});
    floodFrom(t, f, f.key64, maxCost);
  }
}

// Ridge pixels no flood reached: background in marker mode, else fields of their own.
int settleOrphans(Tile& t, const Flood& f, int count) {
  const size_t n = t.n;
  const int rows = t.rows, cols = t.cols;
  auto& kind = t.kind;
  auto& labels = t.labels;
  const bool markerMode = t.markerMode;
  cv::Mat orphanMask;  // floor mode: the unreached pixels, fields of their own below
  if (!markerMode) orphanMask = cv::Mat(rows, cols, CV_8U, cv::Scalar(0));
  bool anyOrphan = false;
  const Span& s = t.flooded;
  for (int r = s.r0; r < s.r1; ++r)
    for (int c = s.c0; c < s.c1; ++c) {
      const size_t i = static_cast<size_t>(r) * cols + c;
      const size_t pi = static_cast<size_t>(r + 1) * f.pitch + c + 1;  // the flood's frame
      if (kind[i] != 2) continue;
      if (f.reached(pi)) {
        labels[i] = labels[f.source(pi)];
      } else if (markerMode) {
        kind[i] = 0;  // settled background: no marker claims it
      } else {
        orphanMask.data[i] = 1;
        anyOrphan = true;
      }
    }
  if (anyOrphan) {
    cv::Mat occ;
    const int m = cv::connectedComponents(orphanMask, occ, 8, CV_32S) - 1;
    const std::int32_t* op = occ.ptr<std::int32_t>();
    for (size_t i = 0; i < n; ++i)
      if (orphanMask.data[i]) labels[i] = count + op[i];
    count += m;
  }

  return count;
}

// Floods of two floors that meet deep inside a field (distance >= mergeDistanceQ on both sides
// of a 4-adjacent meeting pair) are one field: a thin or necked field whose boundary band cut
// its floor in pieces. Touching fields meet on their shared outline, where distance is ~0.
void mergeDeepMeetings(Tile& t, int count) {
  const size_t n = t.n;
  const int rows = t.rows, cols = t.cols;
  const auto& kind = t.kind;
  auto& labels = t.labels;
  const std::uint8_t* distance = t.distance;
  const InstanceParams& params = t.params;
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
        if (j == i || (kind[j] != 1 && kind[j] != 2) || labels[j] == 0 || labels[j] == labels[i] ||
            distance[j] < params.mergeDistanceQ)
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
void settleCrests(Tile& t) {
  const int rows = t.rows, cols = t.cols;
  const auto& kind = t.kind;
  auto& labels = t.labels;
  const InstanceParams& params = t.params;
  const int R = params.radiusPx;
  const Span& s = t.settled;
  for (int r = s.r0; r < s.r1; ++r)
    for (int c = s.c0; c < s.c1; ++c) {
      const size_t i = static_cast<size_t>(r) * cols + c;
      if (kind[i] != 3) continue;
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
}

}  // namespace

int labelInstances(const std::uint8_t* extent, const std::uint8_t* boundary,
                   const std::uint8_t* distance, const std::uint8_t* valid, int rows, int cols,
                   const InstanceParams& params, std::vector<std::int32_t>& labels,
                   const KeptBox* kept) {
  const size_t n = static_cast<size_t>(rows) * cols;
  labels.assign(n, 0);
  if (n == 0) return 0;
  const Span whole{0, rows, 0, cols};
  Tile t{boundary, distance, rows,  cols, n, params, params.markerQ > 0 && distance != nullptr,
         {},       labels,   whole, whole};
  if (kept && t.markerMode) {
    // A kept pixel's label is its crest neighbours' (radiusPx) or its flood's, and a flood
    // reaching a pixel at cost <= markerMaxCost (>= 1 a step) runs within markerMaxCost of it.
    auto grownBy = [&](int m) {
      return Span{std::max(0, kept->row0 - m), std::min(rows, kept->row0 + kept->rows + m),
                  std::max(0, kept->col0 - m), std::min(cols, kept->col0 + kept->cols + m)};
    };
    t.settled = grownBy(0);
    t.flooded = grownBy(params.radiusPx + params.markerMaxCost);
  }
  int count = labelFloors(t, extent, valid);
  Flood flood;  // source: pixel indices, a window holds < 2^31 (labels are int32 too)
  floodRidges(t, flood);
  count = settleOrphans(t, flood, count);
  // Floods of two floors that meet deep inside a field are one field (mergeDeepMeetings).
  if (distance && params.mergeDistanceQ > 0 && !t.markerMode) mergeDeepMeetings(t, count);
  settleCrests(t);
  return count;
}

}  // namespace fieldseg::post
