// FieldBuilder on hand-made pixel runs whose polygon is known: exact pixel edges with no collinear
// vertices, holes, the largest 4-connected part, the attributes from the integer sums, and the
// same field whichever pieces (tiles) the pixels came in.
#include "field_builder.hpp"

#include <gtest/gtest.h>

#include <variant>

namespace fieldseg::post {
namespace {

// 3 m pixels in UTM 36N: a pixel is 9 m2.
GridSpec grid() { return GridSpec(40, 40, {600000, 3, 0, 110000, 0, -3}, Crs::fromEpsg(32636)); }

// A piece of the pixels where `inside(row, col)` holds within rows [r0, r1) and cols [c0, c1), with
// extent 200 everywhere and boundary 100 on the edge pixels (4-neighbour outside).
template <typename F>
Piece piece(int r0, int r1, int c0, int c1, F inside, std::int64_t key = 1) {
  Piece p;
  p.key = key;
  p.firstPixel = std::numeric_limits<std::int64_t>::max();
  for (int r = r0; r < r1; ++r) {
    int start = -1;
    for (int c = c0; c <= c1; ++c) {
      const bool in = c < c1 && inside(r, c);
      if (in && start < 0) start = c;
      if (!in && start >= 0) {
        p.runs.push_back({r, start, c});
        start = -1;
      }
      if (in) {
        p.firstPixel = std::min<std::int64_t>(p.firstPixel, static_cast<std::int64_t>(r) * 40 + c);
        ++p.pixels;
        p.sumExtent += 200;
        const bool edge =
            !inside(r - 1, c) || !inside(r + 1, c) || !inside(r, c - 1) || !inside(r, c + 1);
        if (edge) {
          ++p.edgePixels;
          p.sumEdgeBoundary += 100;
        }
      }
    }
  }
  return p;
}

double attr(const BuiltField& f, const char* key) {
  return std::get<double>(f.field.attrs.at(key));
}

BuildParams noMinimum() {
  BuildParams bp;
  bp.minAreaM2 = 0;
  return bp;
}

TEST(FieldBuilder, RectangleIsFourCornersWithExactAreaPerimeterAndScores) {
  auto rect = [](int r, int c) { return r >= 5 && r < 11 && c >= 3 && c < 13; };  // 6 x 10 px
  const Piece p = piece(0, 40, 0, 40, rect);
  const FieldBuilder b(grid(), noMinimum());
  const auto f = b.build({&p});
  ASSERT_TRUE(f.has_value());
  // Exact pixel edges and no collinear vertex: 4 corners (+ the closing one, if stored).
  const Ring& ring = f->field.polygon.exterior;
  const size_t corners = ring.front().x == ring.back().x && ring.front().y == ring.back().y
                             ? ring.size() - 1
                             : ring.size();
  EXPECT_EQ(corners, 4u);
  EXPECT_TRUE(f->field.polygon.holes.empty());
  double minX = 1e18, maxX = -1e18, minY = 1e18, maxY = -1e18;
  for (const auto& v : ring) {
    minX = std::min(minX, v.x);
    maxX = std::max(maxX, v.x);
    minY = std::min(minY, v.y);
    maxY = std::max(maxY, v.y);
  }
  EXPECT_DOUBLE_EQ(minX, 600000 + 3 * 3);  // column 3's left edge
  EXPECT_DOUBLE_EQ(maxX, 600000 + 13 * 3);
  EXPECT_DOUBLE_EQ(maxY, 110000 - 5 * 3);  // row 5's top edge
  EXPECT_DOUBLE_EQ(minY, 110000 - 11 * 3);
  EXPECT_NEAR(attr(*f, "area"), 60 * 9 / 1e4, 2e-4);       // hectares, on the ellipsoid
  EXPECT_NEAR(attr(*f, "perimeter"), 2 * (18 + 30), 0.1);  // metres
  EXPECT_NEAR(attr(*f, "confidence"), 200 / 255.0, 1e-4);
  EXPECT_NEAR(attr(*f, "boundary_strength"), 100 / 255.0, 1e-4);
  EXPECT_EQ(f->firstPixel, 5 * 40 + 3);
  EXPECT_EQ(f->minRow, 5);
  EXPECT_EQ(f->maxRow, 10);
  EXPECT_EQ(f->minCol, 3);
  EXPECT_EQ(f->maxCol, 12);
}

TEST(FieldBuilder, HoleIsKept) {
  auto ring = [](int r, int c) {
    const bool outer = r >= 2 && r < 12 && c >= 2 && c < 12;
    const bool hole = r >= 5 && r < 8 && c >= 5 && c < 8;
    return outer && !hole;
  };
  const Piece p = piece(0, 40, 0, 40, ring);
  const auto f = FieldBuilder(grid(), noMinimum()).build({&p});
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->field.polygon.holes.size(), 1u);
  EXPECT_NEAR(attr(*f, "area"), (100 - 9) * 9 / 1e4, 2e-4);
}

TEST(FieldBuilder, LargestFourConnectedPartIsKept) {
  // A 5 x 5 block and a 2 x 2 block touching it only at a corner (8- but not 4-connected).
  auto parts = [](int r, int c) {
    const bool big = r >= 2 && r < 7 && c >= 2 && c < 7;
    const bool small = r >= 7 && r < 9 && c >= 7 && c < 9;
    return big || small;
  };
  const Piece p = piece(0, 40, 0, 40, parts);
  const auto f = FieldBuilder(grid(), noMinimum()).build({&p});
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(attr(*f, "area"), 25 * 9 / 1e4, 2e-4);
  EXPECT_TRUE(f->field.polygon.holes.empty());
}

// Rings that share a pixel corner (a hole touching the outline or another hole at one point) are
// what the builder's fast validity test sends to GEOS; rings that share none skip GEOS. Either way
// the field comes out valid with all its pixels.
TEST(FieldBuilder, RingsTouchingAtACornerGiveAValidPolygonWithAllItsPixels) {
  struct Case {
    const char* what;
    bool (*inside)(int, int);
  };
  const Case cases[] = {
      {"hole touching the outline",
       [](int r, int c) {
         const bool outer = r >= 2 && r < 12 && c >= 2 && c < 12;
         const bool hole = r >= 5 && r < 8 && c >= 5 && c < 8;
         const bool notch = c == 4 && (r == 2 || r == 3 || r == 4);  // its corner meets the hole
         return outer && !hole && !notch;
       }},
      {"two holes touching",
       [](int r, int c) {
         const bool outer = r >= 2 && r < 14 && c >= 2 && c < 14;
         const bool hole1 = r >= 4 && r < 6 && c >= 4 && c < 6;
         const bool hole2 = r >= 6 && r < 9 && c >= 6 && c < 9;  // meets hole1 at one corner
         return outer && !hole1 && !hole2;
       }},
      {"no shared corner",
       [](int r, int c) {
         const bool outer = r >= 2 && r < 14 && c >= 2 && c < 14;
         const bool hole = r >= 6 && r < 9 && c >= 6 && c < 9;
         return outer && !hole;
       }},
  };
  for (const Case& k : cases) {
    const Piece p = piece(0, 40, 0, 40, k.inside);
    const auto f = FieldBuilder(grid(), noMinimum()).build({&p});
    ASSERT_TRUE(f.has_value()) << k.what;
    EXPECT_TRUE(isValid(f->field.polygon)) << k.what;
    EXPECT_NEAR(attr(*f, "area"), p.pixels * 9 / 1e4, 2e-4) << k.what;
  }
}

TEST(FieldBuilder, SameFieldWhicheverPiecesThePixelsCameIn) {
  auto blob = [](int r, int c) {
    const int dr = r - 15, dc = c - 14;
    return dr * dr + 2 * dc * dc <= 90;
  };
  const Piece whole = piece(0, 40, 0, 40, blob);
  // Three tiles' worth: rows above 12, rows 12-17 left of column 14, the rest.
  const Piece top = piece(0, 12, 0, 40, blob, 1);
  const Piece midLeft = piece(12, 18, 0, 14, blob, 2);
  const Piece rest1 = piece(12, 18, 14, 40, blob, 3);
  const Piece rest2 = piece(18, 40, 0, 40, blob, 4);
  const FieldBuilder b(grid(), noMinimum());
  const auto one = b.build({&whole});
  const auto four = b.build({&rest2, &top, &rest1, &midLeft});  // any order
  ASSERT_TRUE(one && four);
  EXPECT_EQ(one->firstPixel, four->firstPixel);
  ASSERT_EQ(one->field.polygon.exterior.size(), four->field.polygon.exterior.size());
  for (size_t i = 0; i < one->field.polygon.exterior.size(); ++i) {
    EXPECT_EQ(one->field.polygon.exterior[i].x, four->field.polygon.exterior[i].x);
    EXPECT_EQ(one->field.polygon.exterior[i].y, four->field.polygon.exterior[i].y);
  }
  EXPECT_EQ(attr(*one, "area"), attr(*four, "area"));
  EXPECT_EQ(attr(*one, "perimeter"), attr(*four, "perimeter"));
  // The scores come from the pieces' integer sums, which add up to the whole's.
  EXPECT_EQ(attr(*one, "confidence"), attr(*four, "confidence"));
  EXPECT_EQ(attr(*one, "boundary_strength"), attr(*four, "boundary_strength"));
}

TEST(FieldBuilder, BelowTheMinimumAreaIsDroppedAndCounted) {
  auto tiny = [](int r, int c) { return r >= 1 && r < 4 && c >= 1 && c < 4; };  // 81 m2
  const Piece p = piece(0, 40, 0, 40, tiny);
  BuildParams bp;
  bp.minAreaM2 = 100;
  const FieldBuilder b(grid(), bp);
  EXPECT_FALSE(b.build({&p}).has_value());
  EXPECT_EQ(b.droppedSmall(), 1);
  EXPECT_FALSE(b.build({}).has_value());  // no pieces: nothing, not counted
  EXPECT_EQ(b.droppedSmall(), 1);
}

TEST(FieldBuilder, SimplificationKeepsAValidPolygonWithFewerVertices) {
  auto disc = [](int r, int c) {
    const int dr = r - 20, dc = c - 20;
    return dr * dr + dc * dc <= 150;
  };
  const Piece p = piece(0, 40, 0, 40, disc);
  const auto exact = FieldBuilder(grid(), noMinimum()).build({&p});
  BuildParams bp = noMinimum();
  bp.simplifyM = 6;  // two pixels
  const auto simple = FieldBuilder(grid(), bp).build({&p});
  ASSERT_TRUE(exact && simple);
  EXPECT_LT(simple->field.polygon.exterior.size(), exact->field.polygon.exterior.size());
  EXPECT_TRUE(isValid(simple->field.polygon));
  EXPECT_NEAR(attr(*simple, "area"), attr(*exact, "area"), 0.1 * attr(*exact, "area"));
}

}  // namespace
}  // namespace fieldseg::post
