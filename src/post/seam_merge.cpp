#include "seam_merge.hpp"

#include <algorithm>
#include <numeric>

namespace fieldseg::post {

namespace {

struct Dsu {
  std::vector<size_t> parent;
  explicit Dsu(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), size_t{0}); }
  size_t find(size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(size_t a, size_t b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

TilePieces cutTilePieces(const std::vector<std::int32_t>& labels,
                         const std::vector<std::uint8_t>& extent,
                         const std::vector<std::uint8_t>& boundary, const TileWindow& where) {
  TilePieces out;
  const PixelWindow& win = where.window;
  const PixelWindow& core = where.core;
  const std::int64_t W = where.gridWidth;
  auto at = [&](int r, int c) { return labels[static_cast<size_t>(r) * win.width + c]; };
  std::int32_t count = 0;
  for (std::int32_t l : labels) count = std::max(count, l);
  std::vector<int> pieceOf(static_cast<size_t>(count) + 1, -1);
  std::vector<Piece> pieces;
  std::vector<bool> isOpen;
  const int r0 = core.y - win.y, c0core = core.x - win.x;
  for (int r = r0; r < r0 + core.height; ++r) {
    const std::int64_t gRow = win.y + r;
    for (int c = c0core; c < c0core + core.width;) {
      const std::int32_t l = at(r, c);
      if (l == 0) {
        ++c;
        continue;
      }
      int& pi = pieceOf[l];
      if (pi < 0) {
        pi = static_cast<int>(pieces.size());
        pieces.emplace_back();
        isOpen.push_back(false);
        pieces.back().key = (static_cast<std::int64_t>(where.tileId) << 32) | l;
        pieces.back().firstPixel = gRow * W + (win.x + c);
      }
      Piece& p = pieces[pi];
      const int runStart = c;
      for (; c < c0core + core.width && at(r, c) == l; ++c) {
        const size_t i = static_cast<size_t>(r) * win.width + c;
        p.sumExtent += extent[i];
        const bool edge =
            at(r - 1, c) != l || at(r + 1, c) != l || at(r, c - 1) != l || at(r, c + 1) != l;
        if (edge) {
          ++p.edgePixels;
          p.sumEdgeBoundary += boundary[i];
        }
        // Pixels on the core's rim whose neighbours in other cores are processed too.
        const bool rim =
            r == r0 || c == c0core || r == r0 + core.height - 1 || c == c0core + core.width - 1;
        if (!rim) continue;
        bool registered = false;
        for (int dr = -1; dr <= 1; ++dr)
          for (int dc = -1; dc <= 1; ++dc) {
            const int nr = r + dr, nc = c + dc;
            const int gr = win.y + nr, gc = win.x + nc;
            if (core.contains(gc, gr) || !where.area.contains(gc, gr)) continue;
            const std::int64_t gIdx = gRow * W + (win.x + c);
            if (!registered) {
              out.border.push_back({gIdx, p.key});
              registered = true;
              isOpen[pi] = true;
            }
            if (at(nr, nc) == l)
              out.links.push_back({p.key, static_cast<std::int64_t>(gr) * W + gc});
          }
      }
      p.runs.push_back({gRow, win.x + runStart, win.x + c});
      p.pixels += c - runStart;
    }
  }
  // The same (piece, pixel) link is found from up to three rim pixels: keep one.
  std::sort(out.links.begin(), out.links.end());
  out.links.erase(std::unique(out.links.begin(), out.links.end()), out.links.end());
  for (size_t i = 0; i < pieces.size(); ++i)
    (isOpen[i] ? out.open : out.closed).push_back(std::move(pieces[i]));
  return out;
}

std::vector<std::vector<const Piece*>> groupOpenPieces(std::vector<Piece>& open,
                                                       std::vector<PixelKey>& border,
                                                       std::vector<PixelKey>& links,
                                                       long long* merged) {
  // Sorted vectors and binary search keep this at 16 bytes per rim pixel and link.
  std::sort(open.begin(), open.end(), [](const Piece& a, const Piece& b) { return a.key < b.key; });
  auto indexOfKey = [&](std::int64_t key) {
    return static_cast<size_t>(
        std::lower_bound(open.begin(), open.end(), key,
                         [](const Piece& p, std::int64_t k) { return p.key < k; }) -
        open.begin());
  };
  std::sort(border.begin(), border.end());
  Dsu dsu(open.size());
  for (const auto& [key, px] : links) {
    auto it = std::lower_bound(border.begin(), border.end(), PixelKey{px, 0});
    if (it == border.end() || it->first != px) continue;
    dsu.unite(indexOfKey(key), indexOfKey(it->second));
  }
  std::vector<PixelKey>().swap(border);
  std::vector<PixelKey>().swap(links);
  std::vector<std::pair<size_t, size_t>> byRoot(open.size());
  for (size_t i = 0; i < open.size(); ++i) byRoot[i] = {dsu.find(i), i};
  std::sort(byRoot.begin(), byRoot.end());
  std::vector<std::vector<const Piece*>> groups;
  long long joined = 0;
  for (size_t i = 0; i < byRoot.size();) {
    std::vector<const Piece*> g;
    size_t j = i;
    for (; j < byRoot.size() && byRoot[j].first == byRoot[i].first; ++j)
      g.push_back(&open[byRoot[j].second]);
    if (g.size() > 1) ++joined;
    groups.push_back(std::move(g));
    i = j;
  }
  if (merged) *merged = joined;
  return groups;
}

}  // namespace fieldseg::post
