// Border tracing on the pixel-corner lattice. The mask is framed by one empty pixel, so every
// border vertex has its four pixels in the buffer. A border edge separates a region pixel (on the
// left of the walking direction, as seen on screen with y down) from a background pixel; at each
// vertex the walk turns left when the pixel ahead-left is background (also at a corner where the
// pixel ahead-right belongs to the region: pixels touching only at a corner are not 4-connected),
// right when both pixels ahead belong to the region, and goes straight otherwise. Each edge has
// exactly one successor and one predecessor under this rule, so the walks are closed loops that
// use every border edge once; a loop that passes a corner twice is split there.
#include "trace_outlines.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace fieldseg::post {

namespace {

// Directions E, S, W, N (x right, y down).
constexpr int kDx[4] = {1, 0, -1, 0};
constexpr int kDy[4] = {0, 1, 0, -1};
int leftOf(int d) { return (d + 3) & 3; }
int rightOf(int d) { return (d + 1) & 3; }

struct Corner {
  int x, y;
  bool operator==(const Corner& o) const { return x == o.x && y == o.y; }
  bool operator<(const Corner& o) const { return y < o.y || (y == o.y && x < o.x); }
};

// Twice the signed area (shoelace, y down): negative for the region's outer border as walked.
long long twiceArea(const std::vector<Corner>& ring) {
  long long s = 0;
  const size_t n = ring.size();
  for (size_t i = 0; i < n; ++i) {
    const Corner& a = ring[i];
    const Corner& b = ring[(i + 1) % n];
    s += static_cast<long long>(a.x) * b.y - static_cast<long long>(b.x) * a.y;
  }
  return s;
}

// Splits a closed walk at the corners it passes twice into loops that pass no corner twice.
void splitAtRepeats(const std::vector<Corner>& walk, std::vector<std::vector<Corner>>& loops) {
  std::vector<Corner> stack;
  std::unordered_map<std::uint64_t, size_t> at;  // corner -> its place in the stack
  auto key = [](const Corner& c) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.x)) << 32) |
           static_cast<std::uint32_t>(c.y);
  };
  for (const Corner& c : walk) {
    const auto it = at.find(key(c));
    if (it == at.end()) {
      at.emplace(key(c), stack.size());
      stack.push_back(c);
      continue;
    }
    const size_t from = it->second;
    loops.emplace_back(stack.begin() + static_cast<std::ptrdiff_t>(from), stack.end());
    for (size_t k = from + 1; k < stack.size(); ++k) at.erase(key(stack[k]));
    stack.resize(from + 1);  // the repeated corner stays, closing the loop just cut off
  }
  loops.push_back(std::move(stack));
}

// The region of each walked loop's start pixel, as the index of its polygon: 4-connected regions
// by union-find over the labels of the pixel above and to the left. A root is the smallest label of
// its region, so roots in increasing order are regions in the order of their first pixel.
std::vector<int> regionsOf(const std::vector<std::uint8_t>& fg, int pitch,
                           const std::vector<size_t>& pixels, int& regions) {
  const size_t n = fg.size();
  std::vector<std::int32_t> label(n, 0);
  std::vector<std::int32_t> parent(1, 0);
  auto find = [&parent](std::int32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  for (size_t i = static_cast<size_t>(pitch); i + pitch < n; ++i) {
    if (!fg[i]) continue;
    const std::int32_t up = label[i - pitch], left = label[i - 1];
    if (up == 0 && left == 0) {
      label[i] = static_cast<std::int32_t>(parent.size());
      parent.push_back(label[i]);
    } else if (up != 0 && left != 0) {
      const std::int32_t a = find(up), b = find(left);
      label[i] = std::min(a, b);
      parent[std::max(a, b)] = std::min(a, b);
    } else {
      label[i] = up != 0 ? up : left;
    }
  }
  std::vector<int> polygonOf(parent.size(), -1);
  regions = 0;
  for (size_t k = 1; k < parent.size(); ++k)
    if (find(static_cast<std::int32_t>(k)) == static_cast<std::int32_t>(k))
      polygonOf[k] = regions++;
  std::vector<int> out;
  out.reserve(pixels.size());
  for (size_t i : pixels) out.push_back(polygonOf[static_cast<size_t>(find(label[i]))]);
  return out;
}

}  // namespace

std::vector<Polygon> traceOutlines(const std::uint8_t* mask, int rows, int cols, long long originX,
                                   long long originY) {
  std::vector<Polygon> out;
  if (rows <= 0 || cols <= 0) return out;
  const int pitch = cols + 2;
  const size_t n = static_cast<size_t>(rows + 2) * pitch;
  std::vector<std::uint8_t> fg(n, 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      fg[static_cast<size_t>(r + 1) * pitch + c + 1] = mask[static_cast<size_t>(r) * cols + c] != 0;

  // Offsets from vertex (x, y), index y * pitch + x, to the pixels left and right of the edge that
  // leaves it in direction d; the vertex where the border edge on a pixel's side d starts.
  const std::ptrdiff_t P = pitch;
  const std::ptrdiff_t offLeft[4] = {-P, 0, -1, -P - 1};
  const std::ptrdiff_t offRight[4] = {0, -1, -P - 1, -P};
  const int startDx[4] = {0, 0, 1, 1}, startDy[4] = {1, 0, 0, 1};

  struct Loop {
    size_t pixel;  // a pixel of its region (the walk's first edge's)
    bool exterior;
    std::vector<Corner> corners;
  };
  std::vector<Loop> loops;
  std::vector<std::uint8_t> seen(n, 0);  // bit d: the border edge on the pixel's side d is walked
  std::vector<Corner> walk;
  std::vector<std::vector<Corner>> parts;
  int exteriors = 0;
  // Pixels in row-major order; a pixel's sides with a border (bit d: the pixel across side d,
  // below / left / above / right, is background) in one mask, walked in the order of d.
  for (int r = 1; r <= rows; ++r)
    for (int c = 1; c <= cols; ++c) {
      const size_t i = static_cast<size_t>(r) * pitch + c;
      if (!fg[i]) continue;
      unsigned sides = (fg[i + pitch] ? 0u : 1u) | (fg[i - 1] ? 0u : 2u) |
                       (fg[i - pitch] ? 0u : 4u) | (fg[i + 1] ? 0u : 8u);
      for (sides &= ~unsigned{seen[i]}; sides != 0; sides &= ~unsigned{seen[i]}) {
        const int d0 = __builtin_ctz(sides);
        const int x0 = c + startDx[d0], y0 = r + startDy[d0];
        const size_t v0 = static_cast<size_t>(y0) * pitch + x0;
        walk.clear();
        bool touching = false;  // passed a corner where two region pixels meet diagonally
        int x = x0, y = y0, d = d0;
        size_t v = v0;
        do {
          seen[v + offLeft[d]] |= static_cast<std::uint8_t>(1 << d);
          x += kDx[d];
          y += kDy[d];
          v = static_cast<size_t>(y) * pitch + x;
          int next = d;
          if (!fg[v + offLeft[d]]) {
            next = leftOf(d);
            touching = touching || fg[v + offRight[d]];
          } else if (fg[v + offRight[d]]) {
            next = rightOf(d);
          }
          if (next != d) walk.push_back({x, y});
          d = next;
        } while (x != x0 || y != y0 || d != d0);
        parts.clear();
        if (touching)
          splitAtRepeats(walk, parts);
        else
          parts.push_back(walk);
        for (auto& part : parts) {
          const bool exterior = twiceArea(part) < 0;
          // Holes run the exterior's way (the header's promise).
          if (!exterior) std::reverse(part.begin(), part.end());
          exteriors += exterior ? 1 : 0;
          loops.push_back({i, exterior, std::move(part)});
        }
      }
    }

  // A non-empty mask's outer border is always an exterior walk; should none be found, no
  // polygon is made rather than holes without a region (defensive: never seen).
  if (exteriors == 0) return out;
  // One region (the usual case for a field) needs no labels: every hole is its own.
  int regions = exteriors;
  std::vector<int> regionOf(loops.size(), 0);
  if (exteriors > 1) {
    std::vector<size_t> pixels;
    for (const Loop& l : loops) pixels.push_back(l.pixel);
    regionOf = regionsOf(fg, pitch, pixels, regions);
  }
  auto toRing = [&](const std::vector<Corner>& loop) {
    Ring ring;
    ring.reserve(loop.size());
    for (const Corner& k : loop)
      ring.push_back(
          {static_cast<double>(originX + k.x - 1), static_cast<double>(originY + k.y - 1)});
    return canonicalRing(ring);
  };
  std::vector<Polygon> polygons(static_cast<size_t>(regions));
  for (size_t k = 0; k < loops.size(); ++k) {
    Polygon& p = polygons[static_cast<size_t>(regionOf[k])];
    if (loops[k].exterior)
      p.exterior = toRing(loops[k].corners);
    else
      p.holes.push_back(toRing(loops[k].corners));
  }
  out.reserve(polygons.size());
  for (Polygon& p : polygons) {
    std::sort(p.holes.begin(), p.holes.end(), [](const Ring& a, const Ring& b) {
      return a[0].y < b[0].y || (a[0].y == b[0].y && a[0].x < b[0].x);
    });
    if (p.exterior.size() >= 4) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace fieldseg::post
