// The seam merge of tiled instances (tiles/README.md, "Pass 2"): each tile core's instances
// are cut into pieces; pieces that touch a neighbouring core are "open" and are joined across core
// edges by union-find over the pixels they share, so every instance becomes one field however the
// raster was tiled.
//
// Thread safety: cutTilePieces is a pure function; groupOpenPieces works on its arguments only.
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

/// Groups the open pieces of all tiles into instances: pieces that share a linked pixel are one
/// instance. Sorts `open` by key; returns groups of pointers into it, in order of their smallest
/// member's key. `border` and `links` are consumed (cleared). `merged` counts groups of more than
/// one piece.
std::vector<std::vector<const Piece*>> groupOpenPieces(std::vector<Piece>& open,
                                                       std::vector<PixelKey>& border,
                                                       std::vector<PixelKey>& links,
                                                       long long* merged);

}  // namespace fieldseg::post
