// Planar helpers of the synthetic cadastre (internal to src/synth), in pixel units: areas, clipping
// a convex polygon by half-planes, splitting it with a gap, chords, rotation. Pure functions.
#pragma once

#include "layout.hpp"

namespace fieldseg::synth {

constexpr double kPi = 3.14159265358979323846;

/// Shoelace area, positive for counter-clockwise rings.
double signedArea(const Poly& p);
/// Keeps the part of a convex polygon where nx*x + ny*y <= c (Sutherland-Hodgman, one plane).
Poly clipHalf(const Poly& in, double nx, double ny, double c);
/// Clips to the scene rectangle [0, w] x [0, h].
Poly clipToScene(Poly p, double w, double h);
/// The range [lo, hi] of dx*x + dy*y over the vertices.
void extent(const Poly& p, double dx, double dy, double& lo, double& hi);
/// Splits `p` by the line n.x = lo + f*(hi-lo) (n unit), leaving a gap of `gap` pixels; returns
/// the line's offset c.
double splitPoly(const Poly& p, double nx, double ny, double f, double gap, Poly& a, Poly& b);
/// The chord of convex polygon `p` along the line n.x = c; false when they do not cross.
bool chord(const Poly& p, double nx, double ny, double c, V2& a, V2& b);
V2 rotate(V2 d, double angle);

}  // namespace fieldseg::synth
