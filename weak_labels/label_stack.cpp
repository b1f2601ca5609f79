// LabelStack construction: rasterise on a padded work grid, per-field distance transforms
// (src/post), then crop to the target grid. Definitions are in include/fieldseg/weak_labels.hpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "fieldseg/error.hpp"
#include "fieldseg/rasterize.hpp"
#include "fieldseg/weak_labels.hpp"
#include "raster_ops.hpp"

namespace fieldseg {
namespace {

const std::vector<std::string> kBandNames = {"extent", "boundary", "distance", "mask"};

struct PixBox {
  double minX = std::numeric_limits<double>::infinity();
  double minY = std::numeric_limits<double>::infinity();
  double maxX = -std::numeric_limits<double>::infinity();
  double maxY = -std::numeric_limits<double>::infinity();
};

// Bounding box of a polygon in fractional pixel coordinates of `grid`.
PixBox pixelBox(const Polygon& p, const GridSpec& grid) {
  PixBox b;
  for (const Point& q : p.exterior) {
    const Point c = grid.worldToPixel(q.x, q.y);
    b.minX = std::min(b.minX, c.x);
    b.minY = std::min(b.minY, c.y);
    b.maxX = std::max(b.maxX, c.x);
    b.maxY = std::max(b.maxY, c.y);
  }
  return b;
}

}  // namespace

double LabelStack::labelledFraction() const {
  if (raster.plane() == 0) return 0;
  const float* m = raster.band(kMask);
  long long n = 0;
  for (size_t i = 0; i < raster.plane(); ++i) n += m[i] > 0.5f;
  return static_cast<double>(n) / static_cast<double>(raster.plane());
}

double LabelStack::labelledFraction(const PixelWindow& w) const {
  if (w.empty()) return 0;
  const PixelWindow in = w.intersect({0, 0, raster.cols, raster.rows});
  long long n = 0;
  const float* m = raster.band(kMask);
  for (int r = in.y; r < in.y + in.height; ++r)
    for (int c = in.x; c < in.x + in.width; ++c)
      n += m[static_cast<size_t>(r) * raster.cols + c] > 0.5f;
  return static_cast<double>(n) / static_cast<double>(w.area());
}

Raster<float> LabelStack::window(const PixelWindow& w) const {
  Raster<float> out(4, w.height, w.width, 0.0f);
  out.grid = raster.grid.subGrid(w);
  out.bandNames = kBandNames;
  for (int r = 0; r < w.height; ++r) {
    const int sr = w.y + r;
    for (int c = 0; c < w.width; ++c) {
      const int sc = w.x + c;
      const bool inside = sr >= 0 && sr < raster.rows && sc >= 0 && sc < raster.cols;
      out.valid[static_cast<size_t>(r) * w.width + c] = inside ? 1 : 0;
      if (!inside) continue;
      for (int b = 0; b < 4; ++b) out.at(b, r, c) = raster.at(b, sr, sc);
    }
  }
  return out;
}

// The extent, outline and normalised-distance targets on the work grid, painted field by field.
struct WorkTargets {
  int WW, WH;
  std::vector<float> dist;  // normalised distance
  std::vector<std::uint8_t> extent, outline;
  std::vector<std::uint8_t> binPlane;  // scratch
  std::vector<float> dPlane;           // scratch

  WorkTargets(int w, int h)
      : WW(w),
        WH(h),
        dist(static_cast<size_t>(w) * h, 0.0f),
        extent(static_cast<size_t>(w) * h, 0),
        outline(static_cast<size_t>(w) * h, 0) {}

  // Field `label` of `inst` inside `box` (work-grid pixels): its outline, its extent beyond
  // `borderPx` and its distance. True when some extent pixel lies in `grid` (x, y: the work grid's
  // pad; width, height: the label grid's size).
  bool paintField(const Raster<std::int32_t>& inst, int label, const PixelWindow& box,
                  double borderPx, const PixelWindow& grid) {
    // Crop with a 1-pixel margin; beyond the work grid, replicate (unknown is not "outside").
    const int cx = box.x - 1, cy = box.y - 1;
    const int cw = box.width + 2, ch = box.height + 2;
    binPlane.assign(static_cast<size_t>(ch) * cw, 0);
    auto bin = [&](int r, int c) -> std::uint8_t& {
      return binPlane[static_cast<size_t>(r) * cw + c];
    };
    for (int r = 0; r < ch; ++r) {
      const int wr = std::clamp(cy + r, 0, WH - 1);
      for (int c = 0; c < cw; ++c) {
        const int wc = std::clamp(cx + c, 0, WW - 1);
        bin(r, c) = inst.data[static_cast<size_t>(wr) * WW + wc] == label ? 255 : 0;
      }
    }
    post::distanceToZero(binPlane.data(), ch, cw, dPlane);
    auto d = [&](int r, int c) { return dPlane[static_cast<size_t>(r) * cw + c]; };
    float dmax = 0;
    for (int r = 1; r < ch - 1; ++r)
      for (int c = 1; c < cw - 1; ++c)
        if (bin(r, c)) dmax = std::max(dmax, d(r, c));
    bool anyExtent = false;
    for (int r = 1; r < ch - 1; ++r)
      for (int c = 1; c < cw - 1; ++c) {
        if (!bin(r, c)) continue;
        const int wr = cy + r, wc = cx + c;
        const float v = d(r, c);
        // Exact Euclidean transform: 4-neighbour edge pixels get exactly 1.
        const size_t wi = static_cast<size_t>(wr) * WW + wc;
        if (v < 1.5f && std::fabs(v - 1.0f) < 1e-4f) outline[wi] = 1;
        if (v > borderPx + 1e-6) {
          extent[wi] = 1;
          const int gr = wr - grid.y, gc = wc - grid.x;
          if (gr >= 0 && gr < grid.height && gc >= 0 && gc < grid.width) anyExtent = true;
        }
        dist[wi] = dmax > 1.0f + 1e-6f ? std::clamp((v - 1.0f) / (dmax - 1.0f), 0.0f, 1.0f) : 0.0f;
      }
    return anyExtent;
  }
};

// The label stack on `grid` from the work-grid targets (`pad`: where the grid starts in the work
// grid); `labelled` counts the unmasked pixels.
LabelStack assemble(const GridSpec& grid, const Raster<std::int32_t>& inst,
                    const Raster<std::int32_t>& bg, const WorkTargets& t,
                    const std::vector<std::uint8_t>& boundaryPlane,
                    const std::vector<int>& inFieldIndex, const PixelWindow& pad,
                    const std::vector<std::uint8_t>* valid, long long& labelled) {
  const int W = grid.width(), H = grid.height();

  LabelStack out;
  out.raster = Raster<float>(4, H, W, 0.0f);
  out.raster.grid = grid;
  out.raster.bandNames = kBandNames;
  out.instance = Raster<std::int32_t>(1, H, W, 0);
  out.instance.grid = grid;
  out.instance.bandNames = {"instance"};
  for (int r = 0; r < H; ++r)
    for (int c = 0; c < W; ++c) {
      const int wr = r + pad.y, wc = c + pad.x;
      const size_t wi = static_cast<size_t>(wr) * t.WW + wc;
      const size_t gi = static_cast<size_t>(r) * W + c;
      const bool inField = inst.data[wi] > 0;
      out.instance.data[gi] = inField ? inFieldIndex[inst.data[wi] - 1] + 1 : 0;
      bool m = inField || boundaryPlane[wi] || bg.data[wi] > 0;
      if (valid && !(*valid)[gi]) m = false;
      out.raster.valid[gi] = valid ? (*valid)[gi] : 1;
      if (!m) continue;
      ++labelled;
      out.raster.at(LabelStack::kMask, r, c) = 1.0f;
      out.raster.at(LabelStack::kExtent, r, c) = t.extent[wi] ? 1.0f : 0.0f;
      out.raster.at(LabelStack::kBoundary, r, c) = boundaryPlane[wi] ? 1.0f : 0.0f;
      out.raster.at(LabelStack::kDistance, r, c) = t.dist[wi];
    }
  return out;
}

LabelStack buildLabelStack(const std::vector<Polygon>& fields, const std::vector<Polygon>& noncrop,
                           const GridSpec& grid, const LabelOptions& options,
                           const std::vector<std::uint8_t>* valid, LabelStats* statsOut) {
  if (options.boundaryPx < 1)
    throw UsageError("weak_labels: boundary_px " + std::to_string(options.boundaryPx) +
                     " must be >= 1. Use --boundary-px 1 for a one-pixel outline.");
  if (options.maxPadPx < 0) throw UsageError("weak_labels: max_pad_px must be >= 0.");
  const int W = grid.width();
  const int H = grid.height();
  if (W <= 0 || H <= 0) throw UsageError("weak_labels: cannot build labels on an empty grid.");
  if (valid && valid->size() != static_cast<size_t>(W) * H)
    throw UsageError("weak_labels: validity mask size does not match the grid.");

  LabelStats st;
  st.fieldsGiven = static_cast<int>(fields.size());
  const double gsd = grid.gsdMeters();
  st.borderPx = options.borderM < 0 ? 1.0 : options.borderM / gsd;

  // Keep the polygons whose box meets the grid; grow the work grid to hold them whole (capped).
  std::vector<Polygon> inFields;
  std::vector<int> inFieldIndex;  // index in `fields` of each kept polygon
  int padL = 0, padT = 0, padR = 0, padB = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].exterior.size() < 3) {
      ++st.fieldsOutside;
      continue;
    }
    const PixBox b = pixelBox(fields[i], grid);
    if (b.maxX <= 0 || b.maxY <= 0 || b.minX >= W || b.minY >= H) {
      ++st.fieldsOutside;
      continue;
    }
    inFields.push_back(fields[i]);
    inFieldIndex.push_back(static_cast<int>(i));
    // +2: room for the 1-pixel outside ring and the boundary dilation.
    const int extra = options.boundaryPx + 2;
    padL = std::max(padL, static_cast<int>(std::ceil(-b.minX)) + extra);
    padT = std::max(padT, static_cast<int>(std::ceil(-b.minY)) + extra);
    padR = std::max(padR, static_cast<int>(std::ceil(b.maxX - W)) + extra);
    padB = std::max(padB, static_cast<int>(std::ceil(b.maxY - H)) + extra);
  }
  const int minPad = options.boundaryPx + 2;
  padL = std::clamp(padL, minPad, std::max(minPad, options.maxPadPx));
  padT = std::clamp(padT, minPad, std::max(minPad, options.maxPadPx));
  padR = std::clamp(padR, minPad, std::max(minPad, options.maxPadPx));
  padB = std::clamp(padB, minPad, std::max(minPad, options.maxPadPx));
  const PixelWindow workWin{-padL, -padT, W + padL + padR, H + padT + padB};
  const GridSpec work = grid.subGrid(workWin);
  const int WW = workWin.width;
  const int WH = workWin.height;

  const Raster<std::int32_t> inst = rasterizePolygons(inFields, work);
  std::vector<Polygon> inNoncrop;
  for (const Polygon& p : noncrop) {
    if (p.exterior.size() < 3) continue;
    const PixBox b = pixelBox(p, grid);
    if (b.maxX <= 0 || b.maxY <= 0 || b.minX >= W || b.minY >= H) continue;
    inNoncrop.push_back(p);
  }
  st.noncropUsed = static_cast<int>(inNoncrop.size());
  const Raster<std::int32_t> bg = rasterizePolygons(inNoncrop, work);

  // Per-field bounding boxes on the work grid.
  const int nf = static_cast<int>(inFields.size());
  std::vector<int> x0(nf, WW), y0(nf, WH), x1(nf, -1), y1(nf, -1);
  std::vector<long long> inGridPx(nf, 0);
  for (int r = 0; r < WH; ++r)
    for (int c = 0; c < WW; ++c) {
      const int v = inst.data[static_cast<size_t>(r) * WW + c];
      if (v <= 0) continue;
      const int k = v - 1;
      x0[k] = std::min(x0[k], c);
      y0[k] = std::min(y0[k], r);
      x1[k] = std::max(x1[k], c);
      y1[k] = std::max(y1[k], r);
      const int gr = r - padT, gc = c - padL;
      if (gr >= 0 && gr < H && gc >= 0 && gc < W) ++inGridPx[k];
    }

  // Work-grid targets.
  WorkTargets t(WW, WH);
  for (int k = 0; k < nf; ++k) {
    if (x1[k] < 0) continue;
    const bool anyExtent =
        t.paintField(inst, k + 1, {x0[k], y0[k], x1[k] - x0[k] + 1, y1[k] - y0[k] + 1}, st.borderPx,
                     {padL, padT, W, H});
    if (inGridPx[k] > 0) {
      ++st.fieldsUsed;
      if (!anyExtent) ++st.fieldsWithoutExtent;
    } else {
      ++st.fieldsNoPixel;
    }
  }
  for (int k = 0; k < nf; ++k)
    if (x1[k] < 0) ++st.fieldsNoPixel;

  std::vector<std::uint8_t> boundaryPlane;
  post::dilateSquare(t.outline.data(), WH, WW, 2 * (options.boundaryPx - 1) + 1, boundaryPlane);
  long long labelled = 0;
  LabelStack out =
      assemble(grid, inst, bg, t, boundaryPlane, inFieldIndex, {padL, padT, 0, 0}, valid, labelled);
  st.labelledPx = labelled;
  st.labelledFraction = static_cast<double>(labelled) / (static_cast<double>(W) * H);
  if (statsOut) *statsOut = st;
  return out;
}

}  // namespace fieldseg
