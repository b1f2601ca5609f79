#include "fields_pass.hpp"

#include <malloc.h>  // mallopt: glibc (Debian 12)
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "fieldseg/tile_plan.hpp"
#include "seam_merge.hpp"

namespace fieldseg {

namespace {

// A probability (k = 255) or a byte value (k = 1) as the 8-bit level the instances work on.
std::uint8_t quantizeProbability(float v, float k) {
  if (!(v > 0)) return 0;
  return static_cast<std::uint8_t>(std::min(255.0f, std::round(v * k)));
}

}  // namespace

void ProbReader::read(const PixelWindow& w, std::vector<std::uint8_t>& ext,
                      std::vector<std::uint8_t>& bnd, std::vector<std::uint8_t>& dst,
                      std::vector<std::uint8_t>& valid,
                      std::vector<std::uint8_t>* nonFinite) const {
  std::vector<std::vector<std::uint8_t>> raw;
  if (src->bands().size() >= 3 && src->readBytes(w, raw, valid)) {
    // The bytes read() would give after its float round trip: a table over the 256 stored
    // values of each band, the same arithmetic (raw * scale + offset in double, then float).
    if (nonFinite) nonFinite->clear();  // bytes are always finite
    const float k = bytes ? 1.0f : 255.0f;
    std::vector<std::uint8_t>* out[3] = {&ext, &bnd, &dst};
    for (int b = 0; b < 3; ++b) {
      const BandInfo& info = src->bands()[static_cast<size_t>(b)];
      std::uint8_t table[256];
      for (int v = 0; v < 256; ++v)
        table[v] = quantizeProbability(static_cast<float>(v * info.scale + info.offset), k);
      auto& o = *out[b];
      o.resize(raw[static_cast<size_t>(b)].size());
      const std::uint8_t* in = raw[static_cast<size_t>(b)].data();
      // readBytes leaves invalid pixels 0: the table gives them 0 when it maps 0 to 0.
      if (table[0] == 0)
        for (size_t i = 0; i < o.size(); ++i) o[i] = table[in[i]];
      else
        for (size_t i = 0; i < o.size(); ++i) o[i] = valid[i] ? table[in[i]] : 0;
    }
    return;
  }
  Raster<float> r = src->read(w);
  if (nonFinite) *nonFinite = std::move(r.nonFinite);
  const size_t n = r.plane();
  ext.resize(n);
  bnd.resize(n);
  dst.resize(n);
  valid.assign(r.valid.begin(), r.valid.end());
  const float k = bytes ? 1.0f : 255.0f;
  auto q = [k](float v) { return quantizeProbability(v, k); };
  const float* e = r.band(0);
  const float* b = r.band(1);
  const float* d = r.band(2);
  for (size_t i = 0; i < n; ++i) {
    ext[i] = q(e[i]);
    bnd[i] = q(b[i]);
    dst[i] = q(d[i]);
  }
}

namespace {

struct TileOut {
  int row = 0;  // the tile's row in the plan
  long long corePixels = 0;
  long long nonFinite = 0;  // core pixels the reader masked for NaN/Inf
  std::vector<post::BuiltField> fields;
  post::TilePieces pieces;  // its closed pieces are already in `fields`
};

TileOut processTile(const FieldsContext& ctx, const TileSpec& tile,
                    const post::FieldBuilder& builder) {
  TileOut out;
  out.row = tile.row;
  out.corePixels = tile.core.area();
  const PixelWindow core{ctx.area.x + tile.core.x, ctx.area.y + tile.core.y, tile.core.width,
                         tile.core.height};
  const PixelWindow win{core.x - ctx.haloPx, core.y - ctx.haloPx, core.width + 2 * ctx.haloPx,
                        core.height + 2 * ctx.haloPx};
  std::vector<std::uint8_t> ext, bnd, dst, valid, nonFinite;
  ctx.reader.read(win, ext, bnd, dst, valid, &nonFinite);
  if (!nonFinite.empty())
    for (int r = ctx.haloPx; r < ctx.haloPx + core.height; ++r)
      for (int c = ctx.haloPx; c < ctx.haloPx + core.width; ++c)
        out.nonFinite += nonFinite[static_cast<size_t>(r) * win.width + c];
  std::vector<std::int32_t> labels;
  // Only the core and the pixels next to it (cutTilePieces' edges and links) are kept.
  const post::KeptBox kept{ctx.haloPx - 1, ctx.haloPx - 1, core.height + 2, core.width + 2};
  const int count = post::labelInstances(ext.data(), bnd.data(), dst.data(), valid.data(),
                                         win.height, win.width, ctx.params, labels, &kept);
  if (count == 0) return out;
  out.pieces =
      post::cutTilePieces(labels, ext, bnd, {win, core, ctx.area, ctx.grid.width(), tile.id});
  for (auto& p : out.pieces.closed)
    if (auto f = builder.build({&p})) out.fields.push_back(std::move(*f));
  out.pieces.closed.clear();
  return out;
}

// Each tile of the pass allocates and frees buffers of 10-60 MB (planes, labels, pieces). glibc
// serves such sizes with mmap and returns them with munmap, so every tile paid fresh page faults
// again: a third of a one-thread fields pass was the kernel's page-fault path (perf). Keeping freed
// blocks up to 256 MB in the heap lets the next tile reuse them. Set at the fields pass, after the
// predict pass, so the network's buffers are not what gets retained; what the pass freed is handed
// back to the system when it ends (releaseFreedTileBuffers), before the fields are written.
void keepFreedTileBuffers() {
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return true;
  }();
  (void)once;
}

void releaseFreedTileBuffers() { malloc_trim(0); }

}  // namespace

int fieldsTilePx(const PixelWindow& area, int tilePx) {
  if (tilePx >= kFieldsTilePx) return tilePx;
  return std::min(area.width, area.height) >= 2 * kFieldsTilePx ? kFieldsTilePx : tilePx;
}

FieldsResult buildFields(const FieldsContext& ctx, const DelineateOptions& o,
                         const std::string& spillPath) {
  keepFreedTileBuffers();
  const TilePlan plan(ctx.area.width, ctx.area.height, fieldsTilePx(ctx.area, o.tilePx), 0);
  const auto& tiles = plan.tiles();
  tbb::enumerable_thread_specific<post::FieldBuilder> builders(
      [&] { return post::FieldBuilder(ctx.grid, ctx.build); });
  FieldsResult res;
  res.store = std::make_unique<FieldStore>(spillPath);
  res.tiles = static_cast<long long>(tiles.size());
  post::SeamMerger seams(plan.tilesX(), plan.tilesY());
  // Fields cut by core edges are built as soon as all their pieces are in (SeamMerger), in chunks
  // on the worker threads, so only the open pieces of about two rows of tiles are held.
  auto buildGroups = [&](const std::vector<std::vector<post::Piece>>& groups) {
    constexpr size_t kChunk = 2048;
    for (size_t start = 0; start < groups.size(); start += kChunk) {
      const size_t end = std::min(groups.size(), start + kChunk);
      std::vector<std::optional<post::BuiltField>> built(end - start);
      tbb::parallel_for(start, end, [&](size_t i) {
        std::vector<const post::Piece*> members;
        for (const post::Piece& p : groups[i]) members.push_back(&p);
        built[i - start] = builders.local().build(members);
      });
      for (auto& f : built)
        if (f) res.store->add(std::move(*f));
    }
  };
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
                seams.add(t->pieces, t->row);
                ++done;
                pixels += t->corePixels;
                res.nonFinitePixels += t->nonFinite;
                t.reset();
                buildGroups(seams.takeFinished());
                if (o.progress) o.progress("fields", done, res.tiles, pixels);
              }));
  buildGroups(seams.takeFinished());  // what is left after the last tile
  res.merged = seams.merged();
  for (auto& b : builders) res.droppedSmall += b.droppedSmall();
  releaseFreedTileBuffers();
  return res;
}

}  // namespace fieldseg
