// delineate(): the two streamed passes (see include/fieldseg/delineate.hpp and tiles/README.md).
#include "fieldseg/delineate.hpp"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "field_builder.hpp"
#include "fieldseg/error.hpp"
#include "fieldseg/geometry.hpp"
#include "fieldseg/normalisation.hpp"
#include "fieldseg/raster_source.hpp"
#include "fieldseg/temp_files.hpp"
#include "fieldseg/tile_plan.hpp"
#include "instances.hpp"

namespace fieldseg {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Context the fields pass reads around each tile core: the instance rules' reach plus one pixel
// (so a core's labels never see the window edge), rounded up to a multiple of 8.
int fieldsHaloFor(const post::InstanceParams& params) {
  return (post::instanceMarginPx(params) + 1 + 7) / 8 * 8;
}

post::InstanceParams instanceParamsFor(const DelineateOptions& o) {
  post::InstanceParams p;
  p.extentQ = post::quantizeThreshold(o.tExt);
  p.boundaryQ = std::max<std::uint8_t>(1, post::quantizeThreshold(o.tBound));
  p.markerQ = o.tDist > 0 ? std::max<std::uint8_t>(1, post::quantizeThreshold(o.tDist)) : 0;
  p.markerHeightQ = std::max<std::uint8_t>(1, post::quantizeThreshold(o.markerH));
  return p;
}

std::string joinPaths(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

PixelWindow grow(const PixelWindow& w, int by) {
  return {w.x - by, w.y - by, w.width + 2 * by, w.height + 2 * by};
}

bool sameGrid(const GridSpec& a, const GridSpec& b) {
  if (a.width() != b.width() || a.height() != b.height()) return false;
  const double tol = 1e-6 * std::max(std::abs(a.geoTransform()[1]), 1e-12);
  for (int i = 0; i < 6; ++i)
    if (std::abs(a.geoTransform()[i] - b.geoTransform()[i]) > std::max(tol, 1e-9)) return false;
  return true;
}

// Temp mosaic file removed on scope exit (also when an exception unwinds).
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }
};

std::string tempMosaicPath(const std::string& dir) {
  std::string base = dir;
  if (base.empty()) {
    std::error_code ec;
    base = std::filesystem::temp_directory_path(ec).string();
    if (ec) base = "/tmp";
  }
  return tempSibling(base + "/mosaic.tif");
}

void normalise(Raster<float>& r, const std::vector<BandStats>& stats) {
  for (int b = 0; b < r.bands; ++b)
    normalisePlane(r.band(b), r.valid.empty() ? nullptr : r.valid.data(), r.plane(), stats[b].p2,
                   stats[b].p98);
}

// ---- pass 1: imagery -> 8-bit probability mosaic ----------------------------------------------

struct PredictBatch {
  std::vector<int> tiles;
  std::vector<std::vector<Raster<float>>> inputs;  // [tile][date]
  std::vector<bool> skip;                          // no valid pixel in any date
  std::vector<Raster<float>> cores;                // [tile] 3 bands, 0..255
};

struct MosaicStats {
  long long tiles = 0, nodataTiles = 0;
};

MosaicStats predictMosaic(const std::vector<std::unique_ptr<RasterSource>>& dates,
                          const std::vector<std::vector<BandStats>>& stats, Predictor& predictor,
                          const PixelWindow& area, const DelineateOptions& o,
                          GeoTiffWriter& writer) {
  const TilePlan plan(area.width, area.height, o.tilePx, 0);
  const auto& tiles = plan.tiles();
  const int side = o.tilePx + 2 * o.haloPx;
  const int nDates = static_cast<int>(dates.size());
  MosaicStats ms;
  ms.tiles = static_cast<long long>(tiles.size());
  size_t nextTile = 0;
  long long done = 0, pixelsDone = 0;
  const bool parallelPredict = predictor.maxConcurrency() > 1;
  const int threads = o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();

  auto source = [&](tbb::flow_control& fc) -> std::shared_ptr<PredictBatch> {
    if (nextTile >= tiles.size()) {
      fc.stop();
      return nullptr;
    }
    auto b = std::make_shared<PredictBatch>();
    for (int i = 0; i < o.batch && nextTile < tiles.size(); ++i)
      b->tiles.push_back(static_cast<int>(nextTile++));
    return b;
  };
  auto read = [&](std::shared_ptr<PredictBatch> b) {
    b->inputs.resize(b->tiles.size());
    b->skip.assign(b->tiles.size(), true);
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      const PixelWindow core = tiles[b->tiles[t]].core;
      const PixelWindow win{area.x + core.x - o.haloPx, area.y + core.y - o.haloPx, side, side};
      for (int d = 0; d < nDates; ++d) {
        Raster<float> r = dates[d]->read(win);
        for (int rr = o.haloPx; rr < o.haloPx + core.height && b->skip[t]; ++rr)
          for (int cc = o.haloPx; cc < o.haloPx + core.width; ++cc)
            if (r.isValid(rr, cc)) {
              b->skip[t] = false;
              break;
            }
        normalise(r, stats[d]);
        b->inputs[t].push_back(std::move(r));
      }
    }
    return b;
  };
  auto predict = [&](std::shared_ptr<PredictBatch> b) {
    std::vector<Raster<float>> in;
    std::vector<std::pair<size_t, int>> where;
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      if (b->skip[t]) continue;
      for (int d = 0; d < nDates; ++d) {
        in.push_back(std::move(b->inputs[t][d]));
        where.push_back({t, d});
      }
    }
    std::vector<Raster<float>> out;
    if (!in.empty()) out = predictor.predict(in);
    if (out.size() != in.size())
      throw DataError("tiles: the predictor returned " + std::to_string(out.size()) +
                      " outputs for " + std::to_string(in.size()) +
                      " tiles. The model file is broken; re-export it.");
    b->cores.resize(b->tiles.size());
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      const PixelWindow core = tiles[b->tiles[t]].core;
      b->cores[t] = Raster<float>(3, core.height, core.width, 0.0f);
    }
    // Average the dates that are valid at each pixel (temporal consensus).
    std::vector<std::vector<int>> counts(b->tiles.size());
    for (size_t k = 0; k < out.size(); ++k) {
      const auto [t, d] = where[k];
      (void)d;
      const Raster<float>& p = out[k];
      const Raster<float>& src = in[k];
      if (p.bands < 3 || p.rows != side || p.cols != side)
        throw DataError("tiles: the predictor returned a " + std::to_string(p.bands) + "x" +
                        std::to_string(p.rows) + "x" + std::to_string(p.cols) + " tile for a 3x" +
                        std::to_string(side) + "x" + std::to_string(side) +
                        " request. The model does not follow the Predictor contract.");
      Raster<float>& c = b->cores[t];
      auto& cnt = counts[t];
      if (cnt.empty()) cnt.assign(c.plane(), 0);
      for (int r = 0; r < c.rows; ++r)
        for (int col = 0; col < c.cols; ++col) {
          const int sr = r + o.haloPx, sc = col + o.haloPx;
          if (!src.isValid(sr, sc)) continue;
          ++cnt[static_cast<size_t>(r) * c.cols + col];
          for (int band = 0; band < 3; ++band) c.at(band, r, col) += p.at(band, sr, sc);
        }
    }
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      Raster<float>& c = b->cores[t];
      const auto& cnt = counts[t];
      for (int band = 0; band < 3; ++band) {
        float* v = c.band(band);
        for (size_t i = 0; i < c.plane(); ++i) {
          const int n = cnt.empty() ? 0 : cnt[i];
          v[i] = n ? std::round(std::clamp(v[i] / n, 0.0f, 1.0f) * 255.0f) : 0.0f;
        }
      }
      b->inputs[t].clear();
    }
    return b;
  };
  auto write = [&](std::shared_ptr<PredictBatch> b) {
    for (size_t t = 0; t < b->tiles.size(); ++t) {
      const PixelWindow core = tiles[b->tiles[t]].core;
      writer.write(core.x, core.y, b->cores[t]);
      if (b->skip[t]) ++ms.nodataTiles;
      ++done;
      pixelsDone += core.area();
    }
    if (o.progress) o.progress("predict", done, ms.tiles, pixelsDone);
  };
  tbb::parallel_pipeline(
      static_cast<size_t>(2 * threads + 1),
      tbb::make_filter<void, std::shared_ptr<PredictBatch>>(tbb::filter_mode::serial_in_order,
                                                            source) &
          tbb::make_filter<std::shared_ptr<PredictBatch>, std::shared_ptr<PredictBatch>>(
              tbb::filter_mode::parallel, read) &
          tbb::make_filter<std::shared_ptr<PredictBatch>, std::shared_ptr<PredictBatch>>(
              parallelPredict ? tbb::filter_mode::parallel : tbb::filter_mode::serial_out_of_order,
              predict) &
          tbb::make_filter<std::shared_ptr<PredictBatch>, void>(
              tbb::filter_mode::serial_out_of_order, write));
  return ms;
}

// ---- pass 2: probability mosaic -> fields -----------------------------------------------------

struct ProbReader {
  const RasterSource* src = nullptr;
  bool bytes = false;  // values already 0..255

  void read(const PixelWindow& w, std::vector<std::uint8_t>& ext, std::vector<std::uint8_t>& bnd,
            std::vector<std::uint8_t>& dst, std::vector<std::uint8_t>& valid) const {
    Raster<float> r = src->read(w);
    const size_t n = r.plane();
    ext.resize(n);
    bnd.resize(n);
    dst.resize(n);
    valid.assign(r.valid.begin(), r.valid.end());
    const float k = bytes ? 1.0f : 255.0f;
    auto q = [k](float v) {
      if (!(v > 0)) return std::uint8_t{0};
      return static_cast<std::uint8_t>(std::min(255.0f, std::round(v * k)));
    };
    const float* e = r.band(0);
    const float* b = r.band(1);
    const float* d = r.band(2);
    for (size_t i = 0; i < n; ++i) {
      ext[i] = q(e[i]);
      bnd[i] = q(b[i]);
      dst[i] = q(d[i]);
    }
  }
};

struct TileOut {
  long long corePixels = 0;
  std::vector<post::BuiltField> fields;
  std::vector<post::Piece> open;
  std::vector<std::pair<std::int64_t, std::int64_t>> border;  // global pixel -> piece key
  std::vector<std::pair<std::int64_t, std::int64_t>> links;   // piece key -> global pixel
};

struct FieldsContext {
  ProbReader reader;
  GridSpec grid;     // grid the pixel coordinates refer to (the mosaic's)
  PixelWindow area;  // processed pixels, in that grid
  post::InstanceParams params;
  int haloPx = 0;  // fieldsHaloFor(params)
  post::BuildParams build;
};

TileOut processTile(const FieldsContext& ctx, const TileSpec& tile,
                    const post::FieldBuilder& builder) {
  TileOut out;
  out.corePixels = tile.core.area();
  const PixelWindow core{ctx.area.x + tile.core.x, ctx.area.y + tile.core.y, tile.core.width,
                         tile.core.height};
  const PixelWindow win = grow(core, ctx.haloPx);
  std::vector<std::uint8_t> ext, bnd, dst, valid;
  ctx.reader.read(win, ext, bnd, dst, valid);
  std::vector<std::int32_t> labels;
  const int count = post::labelInstances(ext.data(), bnd.data(), dst.data(), valid.data(),
                                         win.height, win.width, ctx.params, labels);
  if (count == 0) return out;
  const std::int64_t W = ctx.grid.width();
  auto at = [&](int r, int c) { return labels[static_cast<size_t>(r) * win.width + c]; };
  std::vector<int> pieceOf(static_cast<size_t>(count) + 1, -1);
  std::vector<post::Piece> pieces;
  std::vector<bool> isOpen;
  const int h = ctx.haloPx;
  for (int r = h; r < h + core.height; ++r) {
    const std::int64_t gRow = win.y + r;
    for (int c = h; c < h + core.width;) {
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
        pieces.back().key = (static_cast<std::int64_t>(tile.id) << 32) | l;
        pieces.back().firstPixel = gRow * W + (win.x + c);
      }
      post::Piece& p = pieces[pi];
      const int c0 = c;
      for (; c < h + core.width && at(r, c) == l; ++c) {
        const size_t i = static_cast<size_t>(r) * win.width + c;
        p.sumExtent += ext[i];
        const bool edge =
            at(r - 1, c) != l || at(r + 1, c) != l || at(r, c - 1) != l || at(r, c + 1) != l;
        if (edge) {
          ++p.edgePixels;
          p.sumEdgeBoundary += bnd[i];
        }
        // Pixels on the core's rim whose neighbours in other cores are processed too.
        const bool rim = r == h || c == h || r == h + core.height - 1 || c == h + core.width - 1;
        if (!rim) continue;
        bool registered = false;
        for (int dr = -1; dr <= 1; ++dr)
          for (int dc = -1; dc <= 1; ++dc) {
            const int nr = r + dr, nc = c + dc;
            const int gr = win.y + nr, gc = win.x + nc;
            if (core.contains(gc, gr) || !ctx.area.contains(gc, gr)) continue;
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
      p.runs.push_back({gRow, win.x + c0, win.x + c});
      p.pixels += c - c0;
    }
  }
  // The same (piece, pixel) link is found from up to three rim pixels: keep one.
  std::sort(out.links.begin(), out.links.end());
  out.links.erase(std::unique(out.links.begin(), out.links.end()), out.links.end());
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (isOpen[i]) {
      out.open.push_back(std::move(pieces[i]));
    } else if (auto f = builder.build({&pieces[i]})) {
      out.fields.push_back(std::move(*f));
    }
  }
  return out;
}

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

// Built fields, kept in memory or spilled to a temp file, handed back sorted by first pixel. The
// spill keeps memory bounded by the tiles in flight: only (first pixel, offset) stays in RAM.
class FieldStore {
 public:
  explicit FieldStore(std::string spillPath) : path_(std::move(spillPath)) {
    if (path_.empty()) return;
    file_ = std::fopen(path_.c_str(), "w+b");
    if (!file_)
      throw IoError("delineate: cannot create the temporary field store '" + path_ +
                    "'. Check that the output folder is writable.");
  }
  ~FieldStore() {
    if (file_) {
      std::fclose(file_);
      std::remove(path_.c_str());
    }
  }
  FieldStore(const FieldStore&) = delete;
  FieldStore& operator=(const FieldStore&) = delete;

  void add(post::BuiltField&& f) {
    if (!file_) {
      mem_.push_back(std::move(f));
      return;
    }
    index_.push_back({f.firstPixel, offset_});
    buf_.clear();
    put(f.firstPixel);
    for (std::int64_t v : {f.minRow, f.minCol, f.maxRow, f.maxCol}) put(v);
    putRing(f.field.polygon.exterior);
    put(static_cast<std::uint32_t>(f.field.polygon.holes.size()));
    for (const auto& h : f.field.polygon.holes) putRing(h);
    put(static_cast<std::uint32_t>(f.field.attrs.size()));
    for (const auto& [k, v] : f.field.attrs) {
      putString(k);
      put(static_cast<std::uint8_t>(v.index()));
      if (v.index() == 0) put(std::get<std::int64_t>(v));
      if (v.index() == 1) put(std::get<double>(v));
      if (v.index() == 2) putString(std::get<std::string>(v));
    }
    const std::uint64_t n = buf_.size();
    if (std::fwrite(&n, sizeof n, 1, file_) != 1 ||
        std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size())
      throw IoError("delineate: cannot write the temporary field store '" + path_ +
                    "' (disk full?). Free space in the output folder.");
    offset_ += static_cast<std::int64_t>(sizeof n + buf_.size());
  }
  size_t size() const { return file_ ? index_.size() : mem_.size(); }

  /// Calls fn on every field in increasing first-pixel order.
  void forEachSorted(const std::function<void(post::BuiltField&&)>& fn) {
    if (!file_) {
      std::sort(mem_.begin(), mem_.end(),
                [](const auto& a, const auto& b) { return a.firstPixel < b.firstPixel; });
      for (auto& f : mem_) fn(std::move(f));
      mem_.clear();
      return;
    }
    std::sort(index_.begin(), index_.end());
    std::fflush(file_);
    for (const auto& [first, off] : index_) {
      (void)first;
      std::uint64_t n = 0;
      if (std::fseek(file_, static_cast<long>(off), SEEK_SET) != 0 ||
          std::fread(&n, sizeof n, 1, file_) != 1)
        throw IoError("delineate: cannot read back the temporary field store '" + path_ + "'.");
      buf_.resize(n);
      if (std::fread(buf_.data(), 1, n, file_) != n)
        throw IoError("delineate: cannot read back the temporary field store '" + path_ + "'.");
      pos_ = 0;
      post::BuiltField f;
      get(f.firstPixel);
      get(f.minRow);
      get(f.minCol);
      get(f.maxRow);
      get(f.maxCol);
      getRing(f.field.polygon.exterior);
      std::uint32_t holes = 0;
      get(holes);
      f.field.polygon.holes.resize(holes);
      for (auto& h : f.field.polygon.holes) getRing(h);
      std::uint32_t attrs = 0;
      get(attrs);
      for (std::uint32_t k = 0; k < attrs; ++k) {
        std::string key;
        getString(key);
        std::uint8_t type = 0;
        get(type);
        if (type == 0) {
          std::int64_t v = 0;
          get(v);
          f.field.attrs[key] = v;
        } else if (type == 1) {
          double v = 0;
          get(v);
          f.field.attrs[key] = v;
        } else {
          std::string v;
          getString(v);
          f.field.attrs[key] = v;
        }
      }
      fn(std::move(f));
    }
  }

 private:
  template <typename T>
  void put(T v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buf_.insert(buf_.end(), p, p + sizeof v);
  }
  void putString(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    buf_.insert(buf_.end(), s.begin(), s.end());
  }
  void putRing(const Ring& r) {
    put(static_cast<std::uint32_t>(r.size()));
    for (const auto& p : r) {
      put(p.x);
      put(p.y);
    }
  }
  template <typename T>
  void get(T& v) {
    std::memcpy(&v, buf_.data() + pos_, sizeof v);
    pos_ += sizeof v;
  }
  void getString(std::string& s) {
    std::uint32_t n = 0;
    get(n);
    s.assign(buf_.data() + pos_, n);
    pos_ += n;
  }
  void getRing(Ring& r) {
    std::uint32_t n = 0;
    get(n);
    r.resize(n);
    for (auto& p : r) {
      get(p.x);
      get(p.y);
    }
  }

  std::string path_;
  std::FILE* file_ = nullptr;
  std::vector<post::BuiltField> mem_;
  std::vector<std::pair<std::int64_t, std::int64_t>> index_;
  std::int64_t offset_ = 0;
  std::vector<char> buf_;
  size_t pos_ = 0;
};

struct FieldsResult {
  std::unique_ptr<FieldStore> store;
  long long tiles = 0, merged = 0, droppedSmall = 0;
};

FieldsResult buildFields(const FieldsContext& ctx, const DelineateOptions& o,
                         const std::string& spillPath) {
  const TilePlan plan(ctx.area.width, ctx.area.height, o.tilePx, 0);
  const auto& tiles = plan.tiles();
  tbb::enumerable_thread_specific<post::FieldBuilder> builders(
      [&] { return post::FieldBuilder(ctx.grid, ctx.build); });
  FieldsResult res;
  res.store = std::make_unique<FieldStore>(spillPath);
  res.tiles = static_cast<long long>(tiles.size());
  std::vector<post::Piece> open;
  std::vector<std::pair<std::int64_t, std::int64_t>> border, links;
  size_t next = 0;
  long long done = 0, pixels = 0;
  const int threads = o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();
  tbb::parallel_pipeline(
      static_cast<size_t>(2 * threads + 1),
      tbb::make_filter<void, int>(tbb::filter_mode::serial_in_order,
                                  [&](tbb::flow_control& fc) -> int {
                                    if (next >= tiles.size()) {
                                      fc.stop();
                                      return -1;
                                    }
                                    return static_cast<int>(next++);
                                  }) &
          tbb::make_filter<int, std::shared_ptr<TileOut>>(
              tbb::filter_mode::parallel,
              [&](int t) {
                return std::make_shared<TileOut>(processTile(ctx, tiles[t], builders.local()));
              }) &
          tbb::make_filter<std::shared_ptr<TileOut>, void>(
              tbb::filter_mode::serial_out_of_order, [&](std::shared_ptr<TileOut> t) {
                for (auto& f : t->fields) res.store->add(std::move(f));
                for (auto& p : t->open) open.push_back(std::move(p));
                border.insert(border.end(), t->border.begin(), t->border.end());
                links.insert(links.end(), t->links.begin(), t->links.end());
                ++done;
                pixels += t->corePixels;
                if (o.progress) o.progress("fields", done, res.tiles, pixels);
              }));
  // Merge pieces that share pixels across core edges (union-find over piece keys). Sorted vectors
  // and binary search keep this at 16 bytes per rim pixel and link.
  std::sort(open.begin(), open.end(),
            [](const post::Piece& a, const post::Piece& b) { return a.key < b.key; });
  auto indexOfKey = [&](std::int64_t key) {
    return static_cast<size_t>(
        std::lower_bound(open.begin(), open.end(), key,
                         [](const post::Piece& p, std::int64_t k) { return p.key < k; }) -
        open.begin());
  };
  std::sort(border.begin(), border.end());
  Dsu dsu(open.size());
  for (const auto& [key, px] : links) {
    auto it = std::lower_bound(border.begin(), border.end(),
                               std::pair<std::int64_t, std::int64_t>{px, 0});
    if (it == border.end() || it->first != px) continue;
    dsu.unite(indexOfKey(key), indexOfKey(it->second));
  }
  decltype(border)().swap(border);
  decltype(links)().swap(links);
  std::vector<std::pair<size_t, size_t>> byRoot(open.size());
  for (size_t i = 0; i < open.size(); ++i) byRoot[i] = {dsu.find(i), i};
  std::sort(byRoot.begin(), byRoot.end());
  std::vector<std::vector<const post::Piece*>> groupList;
  for (size_t i = 0; i < byRoot.size();) {
    std::vector<const post::Piece*> g;
    size_t j = i;
    for (; j < byRoot.size() && byRoot[j].first == byRoot[i].first; ++j)
      g.push_back(&open[byRoot[j].second]);
    if (g.size() > 1) ++res.merged;
    groupList.push_back(std::move(g));
    i = j;
  }
  // Build in chunks so only a chunk of polygons is in memory before it goes to the store.
  constexpr size_t kChunk = 2048;
  for (size_t start = 0; start < groupList.size(); start += kChunk) {
    const size_t end = std::min(groupList.size(), start + kChunk);
    std::vector<std::optional<post::BuiltField>> built(end - start);
    tbb::parallel_for(start, end,
                      [&](size_t i) { built[i - start] = builders.local().build(groupList[i]); });
    for (auto& f : built)
      if (f) res.store->add(std::move(*f));
  }
  for (auto& b : builders) res.droppedSmall += b.droppedSmall();
  return res;
}

// ---- the whole run ----------------------------------------------------------------------------

void checkOptions(const DelineateOptions& o) {
  auto bad = [](const std::string& what) { throw UsageError("delineate: " + what); };
  if (o.tilePx < 64)
    bad("tile_px " + std::to_string(o.tilePx) + " must be >= 64. Raise --tile-px.");
  if (o.haloPx < 0 || o.haloPx > o.tilePx)
    bad("halo_px " + std::to_string(o.haloPx) +
        " must be in [0, tile_px=" + std::to_string(o.tilePx) + "]. Fix --halo-px.");
  if (o.batch < 1) bad("batch " + std::to_string(o.batch) + " must be >= 1. Fix --batch.");
  if (o.threads < 0) bad("threads must be >= 0 (0 = all cores). Fix --threads.");
  if (!(o.tExt >= 0 && o.tExt <= 1)) bad("t_ext must be in [0, 1]. Fix --t-ext.");
  if (!(o.tBound > 0 && o.tBound <= 1)) bad("t_bound must be in (0, 1]. Fix --t-bound.");
  if (!(o.minAreaM2 >= 0)) bad("min_area_m2 must be >= 0. Fix --min-area-m2.");
  if (!(o.tDist >= 0 && o.tDist < 1)) bad("t_dist must be in [0, 1). Fix --t-dist.");
  if (!(o.markerH > 0 && o.markerH < 1)) bad("marker_h must be in (0, 1). Fix --marker-h.");
  if (!(o.simplifyM >= 0)) bad("simplify_m must be >= 0. Fix --simplify-m.");
}

struct Run {
  FieldsResult fields;
  DelineateReport report;
  GridSpec mosaicGrid;
  PixelWindow mosaicOffset;  // x, y: global pixel of the mosaic's (0, 0)
};

Run runPasses(const DelineateInput& in, const DelineateOptions& o,
              const std::optional<PixelWindow>& forcedWindow) {
  checkOptions(o);
  Run run;
  DelineateReport& rep = run.report;
  // Open the dates (imagery) and/or the given probabilities.
  std::vector<std::unique_ptr<RasterSource>> dates;
  std::vector<std::string> bands = o.bands;
  if (bands.empty() && in.predictor) bands = in.predictor->inputBands();
  for (const auto& files : in.dates) {
    OpenOptions oo;
    oo.bands = bands;
    oo.gsdM = o.gsdM;
    dates.push_back(openRaster(files, oo));
    const auto& got = dates.back()->bands();
    if (in.predictor && got.size() != in.predictor->inputBands().size()) {
      std::vector<std::string> names;
      for (const auto& b : got) names.push_back(b.name);
      throw UsageError("delineate: image bands '" + joinPaths(names, ",") + "' of '" +
                       joinPaths(files, ",") + "' do not match the model's '" +
                       joinPaths(in.predictor->inputBands(), ",") +
                       "'. Select matching bands with --bands (names or 1-based indices).");
    }
    if (dates.size() > 1 && !sameGrid(dates[0]->grid(), dates.back()->grid()))
      throw DataError("delineate: date '" + joinPaths(files, ",") +
                      "' is not on the grid of the first date. Co-register the dates first "
                      "(gdalwarp -tr/-te to one grid).");
  }
  std::unique_ptr<RasterSource> probs;
  bool probsAreBytes = false;
  if (!in.probabilitiesIn.empty()) {
    OpenOptions po;
    po.bands = {"1", "2", "3"};
    try {
      probs = openRaster({in.probabilitiesIn}, po);
    } catch (const UsageError& e) {
      throw DataError("delineate: probabilities '" + in.probabilitiesIn +
                      "' need 3 bands (extent, boundary, distance): " + e.what());
    }
    probsAreBytes = probs->bands()[0].dataType == "Byte";
    if (!dates.empty() && !sameGrid(dates[0]->grid(), probs->grid()))
      throw DataError("delineate: probabilities '" + in.probabilitiesIn +
                      "' are not on the image grid. Compute them on the image's grid.");
  } else if (!in.predictor) {
    throw UsageError(
        "delineate: no model and no probabilities given. Pass --model or "
        "--probabilities-in.");
  }
  if (dates.empty() && !probs)
    throw UsageError("delineate: no image given. Pass at least one IMAGE.");
  const GridSpec grid = probs ? probs->grid() : dates[0]->grid();
  rep.grid = grid;
  if (!dates.empty()) {
    for (const auto& b : dates[0]->bands()) rep.bands.push_back(b.name);
    rep.datetime = dates[0]->datetime();
  }
  // Window to process.
  PixelWindow area = grid.fullWindow();
  if (forcedWindow) area = forcedWindow->intersect(grid.fullWindow());
  if (o.aoi) {
    const FieldSet aoi = reproject(*o.aoi, grid.crs());
    WorldBox box{std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                 -std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                 grid.crs()};
    for (const auto& f : aoi.fields) {
      const WorldBox b = boundsOf(f.polygon);
      box.minX = std::min(box.minX, b.minX);
      box.minY = std::min(box.minY, b.minY);
      box.maxX = std::max(box.maxX, b.maxX);
      box.maxY = std::max(box.maxY, b.maxY);
    }
    area = area.intersect(grid.windowOf(box));
  }
  rep.window = area;
  if (area.empty()) return run;
  if (o.maxMpx > 0 && static_cast<double>(area.area()) > o.maxMpx * 1e6)
    throw UsageError("delineate: the processed window is " + std::to_string(area.width) + " x " +
                     std::to_string(area.height) + " px (" +
                     std::to_string(static_cast<long long>(area.area() / 1000000)) +
                     " Mpx), above the budget of " +
                     std::to_string(static_cast<long long>(o.maxMpx)) +
                     " Mpx. Check the input's size and --gsd, process a part (--aoi, fieldseg "
                     "grid), or raise --max-mpx.");

  FieldsContext ctx;
  ctx.params = instanceParamsFor(o);
  ctx.haloPx = fieldsHaloFor(ctx.params);
  ctx.build.minAreaM2 = o.minAreaM2;
  ctx.build.simplifyM = o.simplifyM;

  std::optional<tbb::task_arena> arena;
  if (o.threads > 0) arena.emplace(o.threads);
  auto inArena = [&](auto&& fn) {
    if (arena)
      arena->execute(fn);
    else
      fn();
  };

  TempFile temp;
  std::unique_ptr<RasterSource> mosaic;
  if (!probs) {
    // Pass 1.
    auto t0 = Clock::now();
    std::vector<std::vector<BandStats>> stats;
    bool anyValid = false;
    for (auto& d : dates) {
      stats.push_back(computeStats(*d));
      std::vector<double> pp;
      for (const auto& s : stats.back()) {
        pp.push_back(s.p2);
        pp.push_back(s.p98);
        if (s.validCount > 0) anyValid = true;
      }
      rep.bandP2P98.push_back(pp);
    }
    rep.statsSeconds = since(t0);
    if (!anyValid) {
      rep.allNodata = true;
      return run;
    }
    const PixelWindow predArea = grow(area, ctx.haloPx).intersect(grid.fullWindow());
    const GridSpec mosaicGrid = grid.subGrid(predArea);
    std::string path = o.probabilitiesOut;
    if (path.empty()) {
      path = tempMosaicPath(o.tempDir);
      temp.path = path;
    } else if (!o.overwrite && std::filesystem::exists(path)) {
      throw UsageError("delineate: probabilities output '" + path +
                       "' exists. Pass --overwrite to replace it.");
    }
    auto t1 = Clock::now();
    {
      GeoTiffWriter writer(path, mosaicGrid, 3, GeoTiffWriter::Type::Byte,
                           {"extent", "boundary", "distance"});
      writer.setMetadata("FIELDSEG_PROBABILITY_SCALE", "value / 255");
      MosaicStats ms;
      inArena([&] {
        ms = predictMosaic(dates, stats, *in.predictor,
                           PixelWindow{predArea.x, predArea.y, predArea.width, predArea.height}, o,
                           writer);
      });
      writer.close();
      rep.predictTiles = ms.tiles;
      rep.nodataTiles = ms.nodataTiles;
    }
    rep.predictSeconds = since(t1);
    mosaic = openRaster({path}, OpenOptions{});
    probsAreBytes = true;
    run.mosaicOffset = PixelWindow{predArea.x, predArea.y, 0, 0};
    ctx.reader.src = mosaic.get();
    ctx.grid = mosaicGrid;
    ctx.area = PixelWindow{area.x - predArea.x, area.y - predArea.y, area.width, area.height};
  } else {
    // An image given beside the probabilities still says where there is data at all.
    if (!dates.empty()) {
      bool anyValid = false;
      for (const auto& st : computeStats(*dates[0]))
        if (st.validCount > 0) anyValid = true;
      if (!anyValid) {
        rep.allNodata = true;
        return run;
      }
    }
    ctx.reader.src = probs.get();
    ctx.grid = grid;
    ctx.area = area;
    run.mosaicOffset = PixelWindow{0, 0, 0, 0};
  }
  ctx.reader.bytes = probsAreBytes;
  run.mosaicGrid = ctx.grid;
  // Pass 2.
  auto t2 = Clock::now();
  const std::string spill = o.sink ? tempMosaicPath(o.tempDir) + ".fields" : std::string();
  inArena([&] { run.fields = buildFields(ctx, o, spill); });
  rep.fieldsSeconds = since(t2);
  rep.tiles = run.fields.tiles;
  rep.piecesMerged = run.fields.merged;
  rep.droppedSmall = run.fields.droppedSmall;
  return run;
}

DelineateResult finish(const DelineateInput& in, const DelineateOptions& o, Run& run,
                       const std::function<bool(const post::BuiltField&)>& keep) {
  DelineateResult res;
  res.report = run.report;
  res.fields.crs = run.report.grid.crs();
  std::vector<Polygon> aoiPolys;
  if (o.aoi)
    for (auto& f : reproject(*o.aoi, res.fields.crs).fields) aoiPolys.push_back(f.polygon);
  std::vector<std::string> sources;
  for (const auto& d : in.dates) sources.push_back(joinPaths(d, "+"));
  const std::string source = sources.empty() ? in.probabilitiesIn : joinPaths(sources, ";");
  std::string model = in.modelName;
  if (model.empty() && !in.probabilitiesIn.empty())
    model = "probabilities:" + std::filesystem::path(in.probabilitiesIn).filename().string();
  std::int64_t id = 0;
  if (!run.fields.store) return res;  // nothing was processed (empty window, all nodata)
  run.fields.store->forEachSorted([&](post::BuiltField&& bf) {
    if (keep && !keep(bf)) return;
    if (!aoiPolys.empty()) {
      bool hit = false;
      for (const auto& a : aoiPolys)
        if (intersects(a, bf.field.polygon)) {
          hit = true;
          break;
        }
      if (!hit) return;
    }
    Field f = std::move(bf.field);
    f.id = ++id;
    f.attrs["id"] = f.id;
    f.attrs["determination_method"] = std::string("auto-imagery");
    if (!run.report.datetime.empty()) f.attrs["determination_datetime"] = run.report.datetime;
    f.attrs["model"] = model;
    f.attrs["source"] = source;
    if (o.sink)
      o.sink(std::move(f));
    else
      res.fields.fields.push_back(std::move(f));
  });
  res.report.fieldCount = id;
  return res;
}

}  // namespace

int fieldsHaloMarginPx(const DelineateOptions& options) {
  return fieldsHaloFor(instanceParamsFor(options));
}

DelineateResult delineate(const DelineateInput& input, const DelineateOptions& options) {
  Run run = runPasses(input, options, std::nullopt);
  return finish(input, options, run, {});
}

DelineateResult delineateOwned(const DelineateInput& input, const PixelWindow& core, int haloPx,
                               const DelineateOptions& options, long long* droppedIncomplete) {
  if (haloPx < 0) throw UsageError("delineate: halo_px must be >= 0 for a grid cell.");
  Run run = runPasses(input, options, grow(core, haloPx));
  const PixelWindow area = run.report.window;
  const GridSpec& full = run.report.grid;
  const std::int64_t W = run.mosaicGrid.width();
  const int ox = run.mosaicOffset.x, oy = run.mosaicOffset.y;
  long long dropped = 0;
  auto keep = [&](const post::BuiltField& f) {
    const std::int64_t gRow = f.firstPixel / W + oy, gCol = f.firstPixel % W + ox;
    if (!core.contains(static_cast<int>(gCol), static_cast<int>(gRow))) return false;
    // Complete: no pixel on a side of the read window that is not the raster edge.
    const std::int64_t minR = f.minRow + oy, maxR = f.maxRow + oy;
    const std::int64_t minC = f.minCol + ox, maxC = f.maxCol + ox;
    const bool cut = (area.y > 0 && minR <= area.y) || (area.x > 0 && minC <= area.x) ||
                     (area.y + area.height < full.height() && maxR >= area.y + area.height - 1) ||
                     (area.x + area.width < full.width() && maxC >= area.x + area.width - 1);
    if (cut) ++dropped;
    return !cut;
  };
  DelineateResult res = finish(input, options, run, keep);
  if (droppedIncomplete) *droppedIncomplete = dropped;
  return res;
}

}  // namespace fieldseg
