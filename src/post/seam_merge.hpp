// The seam merge of tiled instances (tiles/README.md, "Pass 2"): each tile core's instances
// are cut into pieces; pieces that touch a neighbouring core are "open" and are joined across core
// edges by union-find over the pixels they share, so every instance becomes one field however the
// raster was tiled.
//
// Thread safety: cutTilePieces is a pure function; a SeamMerger serves one thread at a time.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "field_builder.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg::post {

/// (global pixel, piece key) or (piece key, global pixel); global pixel = row * width + col.
using PixelKey = std::pair<std::int64_t, std::int64_t>;

/// One tile core's instances: closed pieces are whole instances, open ones continue in a
/// neighbouring core.
struct TilePieces {
  std::vector<Piece> closed;
  std::vector<Piece> open;
  std::vector<PixelKey> border;  ///< open pieces' rim pixels: global pixel -> piece key
  std::vector<PixelKey> links;   ///< piece key -> a neighbouring core's pixel of the same instance
};

/// Where a tile's label window lies.
struct TileWindow {
  PixelWindow window;  ///< the labelled window (core plus halo), in the grid's pixels
  PixelWindow core;    ///< the core, in the same pixels
  PixelWindow area;    ///< every processed pixel (cores of all tiles), in the same pixels
  std::int64_t gridWidth = 0;
  int tileId = 0;  ///< unique per tile: piece keys are (tileId << 32) | label
};

/// Cuts the core of a label window (labels from labelInstances; extent and boundary the 8-bit
/// bands it was computed from, same size) into pieces with their integer statistics.
TilePieces cutTilePieces(const std::vector<std::int32_t>& labels,
                         const std::vector<std::uint8_t>& extent,
                         const std::vector<std::uint8_t>& boundary, const TileWindow& where);

/// Groups the open pieces of a tiled pass into instances (pieces that share a linked pixel are one
/// instance) while the tiles come in, in any order. A group is handed out as soon as every tile
/// that could still add to it is in: all tiles of the rows up to one below its lowest piece. So
/// only the pieces, rim pixels and links of about two rows of tiles are held, and memory grows with
/// the raster's width, not its area.
class SeamMerger {
 public:
  /// `tilesX` x `tilesY` tiles (TilePlan).
  SeamMerger(int tilesX, int tilesY);
  /// Takes one tile's open pieces, rim pixels and links (moved out of `tile`); `row` = its row.
  void add(TilePieces& tile, int row);
  /// The groups that can no longer grow (after the last tile: all that are left), each sorted by
  /// piece key, the groups in order of their smallest key; their rim pixels and links are dropped.
  std::vector<std::vector<Piece>> takeFinished();
  /// Groups of more than one piece handed out so far.
  long long merged() const { return merged_; }
  /// Pieces held now (for tests and memory figures).
  size_t heldPieces() const { return open_.size(); }

 private:
  int tilesX_, tilesY_;
  std::vector<int> added_;  // tiles in per row
  int completeRows_ = 0;    // rows 0 .. completeRows_ - 1 are all in
  int groupedRows_ = -1;    // completeRows_ at the last takeFinished()
  std::vector<Piece> open_;
  std::vector<int> openRow_;
  std::vector<PixelKey> border_;
  std::vector<PixelKey> links_;
  long long merged_ = 0;
};

}  // namespace fieldseg::post
