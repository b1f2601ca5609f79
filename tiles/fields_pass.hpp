// Pass 2 of delineate (tiles/README.md): the probability mosaic -> fields, tile by tile in a TBB
// pipeline. Each tile reads its core plus the fields halo, labels instances (src/post), cuts them
// into pieces; closed pieces become fields at once, open ones are joined across core edges after
// the pipeline (src/post/seam_merge.hpp) and built in parallel chunks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "field_builder.hpp"
#include "field_store.hpp"
#include "fieldseg/delineate.hpp"
#include "fieldseg/raster_source.hpp"
#include "instances.hpp"

namespace fieldseg {

/// Reads windows of a probability raster (bands extent, boundary, distance) as 8-bit planes.
struct ProbReader {
  const RasterSource* src = nullptr;
  bool bytes = false;  ///< values already 0..255 (else floats in [0, 1])

  /// `nonFinite` (optional) receives the reader's NaN/Inf flags of the window (empty when none).
  void read(const PixelWindow& w, std::vector<std::uint8_t>& ext, std::vector<std::uint8_t>& bnd,
            std::vector<std::uint8_t>& dst, std::vector<std::uint8_t>& valid,
            std::vector<std::uint8_t>* nonFinite = nullptr) const;
};

struct FieldsContext {
  ProbReader reader;
  GridSpec grid;     ///< grid the pixel coordinates refer to (the mosaic's)
  PixelWindow area;  ///< processed pixels, in that grid
  post::InstanceParams params;
  int haloPx = 0;  ///< context read around each core (fieldsHaloMarginPx)
  post::BuildParams build;
};

struct FieldsResult {
  std::unique_ptr<FieldStore> store;
  long long tiles = 0, merged = 0, droppedSmall = 0;
  long long nonFinitePixels = 0;  ///< core pixels whose probabilities held NaN/Inf (masked)
};

/// The fields pass's tile length for `area`: kFieldsTilePx when the area holds at least 2 x 2 such
/// tiles, else `tilePx`. Larger than the network's tile because the fields halo (about 40 px) is
/// then a smaller share of what each tile reads (1.17x at 1024 px against 1.34x at 512: 25 %
/// faster on a 4096^2 scene). The fields do not depend on it (tests: tile sizes and threads give
/// byte-identical output), and it depends on the area only, not on the thread count. In marker
/// mode (192 px halo) larger tiles did not pay (session 17, 4096^2 probabilities, card thresholds,
/// 2 threads, user CPU of two runs each): 768 px 5.56-5.65 s, 896 px 5.41-5.44 s, 1024 px
/// 5.37-5.45 s, 1536 px 5.70-5.83 s, 2048 px 5.92-6.00 s with peak RSS 432 MiB against 213-249:
/// the flood walks its window at random, so a larger window misses the cache more often than
/// its smaller halo share saves.
constexpr int kFieldsTilePx = 1024;
int fieldsTilePx(const PixelWindow& area, int tilePx);

/// Runs the fields pass over ctx.area in tiles of fieldsTilePx (o.threads, o.progress); spillPath
/// as FieldStore takes it.
FieldsResult buildFields(const FieldsContext& ctx, const DelineateOptions& o,
                         const std::string& spillPath);

}  // namespace fieldseg
