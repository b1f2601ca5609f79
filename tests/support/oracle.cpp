#include "oracle.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "fieldseg/geometry.hpp"
#include "fieldseg/raster_source.hpp"

namespace fieldseg::test {

InstanceLayout makeLayout(int rows, int cols, double gsdM, std::uint64_t seed, int bigPx) {
  InstanceLayout L;
  L.grid = GridSpec(cols, rows, {500000.0, gsdM, 0, 9000000.0, 0, -gsdM}, Crs::fromEpsg(32636));
  L.ids.assign(static_cast<size_t>(rows) * cols, 0);
  std::mt19937_64 rng(seed);
  auto uni = [&](int a, int b) { return std::uniform_int_distribution<int>(a, b)(rng); };
  auto set = [&](int r, int c, std::int32_t id) {
    if (r >= 0 && r < rows && c >= 0 && c < cols) L.ids[static_cast<size_t>(r) * cols + c] = id;
  };
  std::int32_t next = 1;
  int bigRow = -1;
  if (bigPx > 0) bigRow = std::min(rows - 1, 40);
  // Blocks of 60..110 px between 3-px roads, split into 2..4 x 1..3 parcels that touch.
  for (int y = 3; y < rows - 8;) {
    const int bh = uni(60, 110);
    for (int x = 3; x < cols - 8;) {
      const int bw = uni(60, 110);
      const int y1 = std::min(rows, y + bh), x1 = std::min(cols, x + bw);
      if (bigPx > 0 && y <= bigRow && bigRow < y1 && x < 3 + bigPx) {
        x = x1 + 3;
        continue;  // the big field goes there
      }
      const int nx = uni(1, 3), ny = uni(1, 2);
      const int kind = uni(0, 9);
      for (int j = 0; j < ny; ++j)
        for (int i = 0; i < nx; ++i) {
          const int py0 = y + (y1 - y) * j / ny, py1 = y + (y1 - y) * (j + 1) / ny;
          const int px0 = x + (x1 - x) * i / nx, px1 = x + (x1 - x) * (i + 1) / nx;
          const std::int32_t id = next++;
          // Diagonal cuts only where the triangles' angles stay >= ~34 degrees: thinner slivers
          // are all outline, so no oracle (extent without the outline ring) can recover them.
          const double aspect = double(px1 - px0) / double(py1 - py0);
          const int k = (kind == 0 && (aspect < 0.67 || aspect > 1.5)) ? 3 : kind;
          for (int r = py0; r < py1; ++r)
            for (int c = px0; c < px1; ++c) {
              // kind 0: a diagonal cut makes two triangles; kind 1: a farmstead hole.
              if (k == 0 && (c - px0) * (py1 - py0) > (r - py0) * (px1 - px0)) {
                set(r, c, -id);
                continue;
              }
              if (k == 1 && i == 0 && j == 0 && r > py0 + 10 && r < py0 + 20 && c > px0 + 10 &&
                  c < px0 + 22)
                continue;
              // kind 2: L shape (top-right quarter missing).
              if (k == 2 && r < (py0 + py1) / 2 && c > (px0 + px1) / 2) continue;
              set(r, c, id);
            }
        }
      x = x1 + 3;
    }
    y += bh + 3;
  }
  // Diagonal halves got provisional negative ids: number them now.
  std::vector<std::int32_t> remap;
  for (auto& v : L.ids)
    if (v < 0) {
      const std::int32_t k = -v;
      if (remap.size() <= static_cast<size_t>(k)) remap.resize(k + 1, 0);
      if (!remap[k]) remap[k] = next++;
      v = remap[k];
    }
  if (bigPx > 0) {
    const std::int32_t id = next++;
    for (int r = bigRow; r < std::min(rows, bigRow + 50); ++r)
      for (int c = 3; c < std::min(cols, 3 + bigPx); ++c) set(r, c, id);
    for (int r = bigRow; r < std::min(rows, bigRow + bigPx / 2); ++r)
      for (int c = 3; c < 53; ++c) set(r, c, id);
  }
  L.maxId = next - 1;
  return L;
}

Raster<float> oracleProbabilities(const InstanceLayout& L) {
  const int rows = L.grid.height(), cols = L.grid.width();
  Raster<float> out(3, rows, cols, 0.0f);
  out.grid = L.grid;
  out.bandNames = {"extent", "boundary", "distance"};
  auto id = [&](int r, int c) -> std::int32_t {
    if (r < 0 || r >= rows || c < 0 || c >= cols) return -1;  // unknown beyond the grid
    return L.ids[static_cast<size_t>(r) * cols + c];
  };
  std::vector<std::uint8_t> outline(static_cast<size_t>(rows) * cols, 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const std::int32_t v = id(r, c);
      if (v <= 0) continue;
      auto other = [&](int rr, int cc) {
        const std::int32_t w = id(rr, cc);
        return w >= 0 && w != v;
      };
      const bool edge = other(r - 1, c) || other(r + 1, c) || other(r, c - 1) || other(r, c + 1);
      outline[static_cast<size_t>(r) * cols + c] = edge;
      out.at(0, r, c) = edge ? 0.0f : 1.0f;
      out.at(2, r, c) = edge ? 0.0f : 0.5f;
    }
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      bool near = false;
      for (int dr = -1; dr <= 1 && !near; ++dr)
        for (int dc = -1; dc <= 1; ++dc) {
          const int rr = r + dr, cc = c + dc;
          if (rr >= 0 && rr < rows && cc >= 0 && cc < cols &&
              outline[static_cast<size_t>(rr) * cols + cc]) {
            near = true;
            break;
          }
        }
      out.at(1, r, c) = near ? 1.0f : 0.0f;
    }
  return out;
}

void writeRaster(const std::string& path, const Raster<float>& r,
                 const std::vector<std::string>& names) {
  GeoTiffWriter w(path, r.grid, r.bands, GeoTiffWriter::Type::Float32, names);
  w.write(0, 0, r);
  w.close();
}

FieldSet truthPolygons(const InstanceLayout& L) {
  FieldSet fs;
  fs.crs = L.grid.crs();
  const int rows = L.grid.height(), cols = L.grid.width();
  std::vector<std::uint8_t> mask(static_cast<size_t>(rows) * cols);
  for (std::int32_t id = 1; id <= L.maxId; ++id) {
    bool any = false;
    for (size_t i = 0; i < mask.size(); ++i) {
      mask[i] = L.ids[i] == id;
      any = any || mask[i];
    }
    if (!any) continue;
    auto parts = polygonizeMask(mask.data(), rows, cols);
    size_t best = 0;
    for (size_t i = 1; i < parts.size(); ++i)
      if (areaOf(parts[i]) > areaOf(parts[best])) best = i;
    Polygon p;
    for (const auto& q : parts[best].exterior) p.exterior.push_back(L.grid.pixelToWorld(q.x, q.y));
    for (const auto& h : parts[best].holes) {
      Ring hr;
      for (const auto& q : h) hr.push_back(L.grid.pixelToWorld(q.x, q.y));
      p.holes.push_back(hr);
    }
    Field f;
    f.id = id;
    f.polygon = oriented(p, true);
    fs.fields.push_back(std::move(f));
  }
  return fs;
}

std::vector<Raster<float>> IdentityPredictor::predict(const std::vector<Raster<float>>& tiles) {
  std::vector<Raster<float>> out;
  for (const auto& t : tiles) {
    Raster<float> o(3, t.rows, t.cols, 0.0f);
    o.grid = t.grid;
    for (int b = 0; b < 3 && b < t.bands; ++b)
      for (size_t i = 0; i < t.plane(); ++i) o.band(b)[i] = std::clamp(t.band(b)[i], 0.0f, 1.0f);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace fieldseg::test
