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

SeamMerger::SeamMerger(int tilesX, int tilesY)
    : tilesX_(tilesX), tilesY_(tilesY), added_(static_cast<size_t>(std::max(0, tilesY)), 0) {}

void SeamMerger::add(TilePieces& tile, int row) {
  for (auto& p : tile.open) {
    open_.push_back(std::move(p));
    openRow_.push_back(row);
  }
  border_.insert(border_.end(), tile.border.begin(), tile.border.end());
  links_.insert(links_.end(), tile.links.begin(), tile.links.end());
  tile.open.clear();
  std::vector<PixelKey>().swap(tile.border);
  std::vector<PixelKey>().swap(tile.links);
  ++added_[static_cast<size_t>(row)];
  while (completeRows_ < tilesY_ && added_[static_cast<size_t>(completeRows_)] == tilesX_)
    ++completeRows_;
}

std::vector<std::vector<Piece>> SeamMerger::takeFinished() {
  std::vector<std::vector<Piece>> done;
  if (completeRows_ == groupedRows_ || open_.empty()) return done;
  groupedRows_ = completeRows_;
  // A piece's neighbours lie in its own row and the rows next to it: a group whose lowest piece is
  // in row r is final once rows 0 .. r + 1 are all in.
  const bool all = completeRows_ == tilesY_;
  const size_t n = open_.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return open_[a].key < open_[b].key; });
  std::vector<std::int64_t> keys(n);
  for (size_t i = 0; i < n; ++i) keys[i] = open_[order[i]].key;
  auto indexOfKey = [&](std::int64_t key) {
    return static_cast<size_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
  };
  std::sort(border_.begin(), border_.end());
  Dsu dsu(n);  // over positions in key order
  for (const auto& [key, px] : links_) {
    auto it = std::lower_bound(border_.begin(), border_.end(), PixelKey{px, 0});
    if (it == border_.end() || it->first != px) continue;
    dsu.unite(indexOfKey(key), indexOfKey(it->second));
  }
  std::vector<int> lowest(n, -1);  // per root: the group's largest tile row
  for (size_t i = 0; i < n; ++i) {
    int& r = lowest[dsu.find(i)];
    r = std::max(r, openRow_[order[i]]);
  }
  std::vector<std::pair<size_t, size_t>> byRoot(n);  // (root, position): groups in key order
  for (size_t i = 0; i < n; ++i) byRoot[i] = {dsu.find(i), i};
  std::sort(byRoot.begin(), byRoot.end());
  std::vector<Piece> keep;
  std::vector<int> keepRow;
  std::vector<bool> kept(n, false);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && byRoot[j].first == byRoot[i].first) ++j;
    if (all || lowest[byRoot[i].first] + 2 <= completeRows_) {
      std::vector<Piece> g;
      for (size_t k = i; k < j; ++k) g.push_back(std::move(open_[order[byRoot[k].second]]));
      if (g.size() > 1) ++merged_;
      done.push_back(std::move(g));
    } else {
      for (size_t k = i; k < j; ++k) {
        const size_t at = order[byRoot[k].second];
        kept[byRoot[k].second] = true;
        keep.push_back(std::move(open_[at]));
        keepRow.push_back(openRow_[at]);
      }
    }
    i = j;
  }
  open_ = std::move(keep);
  openRow_ = std::move(keepRow);
  // Rim pixels and links of the pieces handed out are no longer needed by any tile.
  auto held = [&](std::int64_t key) {
    const size_t i = indexOfKey(key);
    return i < n && keys[i] == key && kept[i];
  };
  border_.erase(std::remove_if(border_.begin(), border_.end(),
                               [&](const PixelKey& b) { return !held(b.second); }),
                border_.end());
  links_.erase(std::remove_if(links_.begin(), links_.end(),
                              [&](const PixelKey& l) { return !held(l.first); }),
               links_.end());
  if (open_.empty()) {
    std::vector<PixelKey>().swap(border_);
    std::vector<PixelKey>().swap(links_);
  }
  return done;
}

}  // namespace fieldseg::post
