// CoverageSweep: the areas inside an axis-aligned box covered by up to three polygon layers (e.g.
// truth, prediction, evaluation region) and by their overlap, without building any union or
// overlay. The rings are clipped to the box (Sutherland-Hodgman against a convex box keeps every
// winding number inside it), and the box is swept in vertical slabs between consecutive vertex x
// coordinates: inside a slab no edge starts, ends or (after splitting the slab where two cross)
// crosses another, so the edges sorted by height cut it into trapezoids, each covered by the
// layers whose winding count is positive there. Overlapping polygons of one layer count once
// (coverage is count > 0), holes subtract, shared edges cancel. Exact up to rounding, like the
// GEOS overlays it replaces: coordinates are taken relative to the box's corner.
//
// Internal to src/eval. One object per box and thread; no shared state.
#pragma once

#include <array>
#include <vector>

#include "fieldseg/fields.hpp"
#include "fieldseg/geo.hpp"

namespace fieldseg::eval {

class CoverageSweep {
 public:
  static constexpr int kLayers = 3;

  /// Integrates over `box` (finite, non-empty).
  explicit CoverageSweep(const WorldBox& box);

  /// Adds the rings of `polygon` (a valid polygon: holes inside the exterior, not overlapping)
  /// to `layer` (0 .. kLayers - 1), clipped to the box. Ring orientation does not matter.
  /// `owner` names the shape it belongs to (ownerAreas); a shape may have several polygons.
  void add(int layer, const Polygon& polygon, std::size_t owner = 0);

  struct Areas {
    double first = 0;   ///< area covered by layer 0
    double second = 0;  ///< area covered by layer 1
    double both = 0;    ///< area covered by layers 0 and 1
  };
  /// The areas inside the box; with `insideLayer2` only where layer 2 covers too.
  Areas areas(bool insideLayer2) const;

  struct Owned {
    std::size_t owner;
    double area;
  };
  struct Overlap {
    std::size_t first, second;  ///< owners in layers 0 and 1
    double area;
  };
  struct OwnerAreas {
    std::vector<Owned> first, second;  ///< each owner's area in the box, layers 0 and 1
    std::vector<Overlap> overlaps;     ///< every pair of owners whose covers meet in a strip
  };
  /// Per owner of layers 0 and 1 its area inside the box, and per pair of a layer-0 and a
  /// layer-1 owner the area both cover (layer 2 ignored). An owner's area and a pair's area add
  /// the same strips in the same order, so identical shapes give equal figures to the bit.
  OwnerAreas ownerAreas() const;

 private:
  struct Edge {
    double xl, yl, xr, yr;  // left and right end (xl < xr), relative to the box corner
    int layer;
    int sign;  // +1: the covered side is above the edge, -1: below
    std::size_t owner;
  };
  // sweep() calls strip(edge, area) for the edges of each slab from the bottom up: `area` is
  // that of the strip between the edge and the next one above (0 for the top edge).
  void addRing(int layer, const Ring& ring, bool hole, std::size_t owner);
  template <class Strip>
  void sweep(Strip&& strip) const;
  template <class Strip>
  void slab(double xa, double xb, const std::vector<const Edge*>& active, bool splitCrossings,
            Strip& strip) const;

  double x0_, y0_, w_, h_;
  std::vector<Edge> edges_;
};

}  // namespace fieldseg::eval
