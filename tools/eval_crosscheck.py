#!/usr/bin/python3
"""Independent re-implementation of `fieldseg evaluate` (GDAL/OGR for reading and reprojection,
shapely for geometry), used by tests/integration/evaluate_crosscheck_test.cpp to check the C++ numbers
to 1e-6. It follows the written definitions (include/fieldseg/eval.hpp, `fieldseg evaluate --help`),
not the C++ code: brute-force pairs instead of a spatial index, shapely's unary_union for dissolving.

usage: eval_crosscheck.py --pred PRED --truth TRUTH [--partial] [--aoi AOI]
                          [--match-iou 0.5] [--boundary-tol 5] [--label-buffer 5]
                          [--fp-min-fraction 0.5]
prints one JSON object with the same keys as `fieldseg evaluate --json`.
"""
import argparse
import json
import math
import statistics
import sys

import numpy
from osgeo import ogr, osr
from shapely.geometry import Polygon, MultiPolygon
from shapely.ops import unary_union
from shapely.validation import make_valid

ogr.UseExceptions()
osr.UseExceptions()
QUAD_SEGS = 8


def segments_of(geom):
    """The straight segments of a (multi)line geometry, as ((x0, y0), (x1, y1))."""
    parts = getattr(geom, "geoms", [geom])
    out = []
    for part in parts:
        if part.is_empty:
            continue
        if hasattr(part, "geoms"):
            out.extend(segments_of(part))
            continue
        c = list(part.coords)
        out.extend(zip(c[:-1], c[1:]))
    return out


def point_segment_distance(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    dd = dx * dx + dy * dy
    t = 0.0 if dd == 0 else min(1.0, max(0.0, ((px - ax) * dx + (py - ay) * dy) / dd))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def near_length(lines, linework, tol):
    """Length of `lines` within distance `tol` (closed) of the segments of `linework`: for each
    line segment AB and each segment PQ near it, the distance from A + t (B - A) to PQ is convex
    in t, so the part within tol is one interval, found from the nearest point (where they cross,
    or an end of one of them) and bisection for the two crossings of tol; the intervals of all PQ
    are united. Coordinates relative to A, so a distance of exactly tol is computed exactly."""
    refs = segments_of(linework)
    if not refs:
        return 0.0
    r = numpy.array([(p[0], p[1], q[0], q[1]) for p, q in refs])
    rminx, rmaxx = numpy.minimum(r[:, 0], r[:, 2]), numpy.maximum(r[:, 0], r[:, 2])
    rminy, rmaxy = numpy.minimum(r[:, 1], r[:, 3]), numpy.maximum(r[:, 1], r[:, 3])
    total = 0.0
    for (ax0, ay0), (bx0, by0) in segments_of(lines):
        lo_x, hi_x = min(ax0, bx0) - tol, max(ax0, bx0) + tol
        lo_y, hi_y = min(ay0, by0) - tol, max(ay0, by0) + tol
        bx, by = bx0 - ax0, by0 - ay0
        dd = bx * bx + by * by
        if dd == 0:
            continue
        spans = []
        near = numpy.nonzero((rmaxx >= lo_x) & (rminx <= hi_x) & (rmaxy >= lo_y) & (rminy <= hi_y))[0]
        for k in near:
            (px0, py0), (qx0, qy0) = refs[k]
            px, py, qx, qy = px0 - ax0, py0 - ay0, qx0 - ax0, qy0 - ay0

            def f(t):
                return point_segment_distance(t * bx, t * by, px, py, qx, qy)

            cands = [0.0, 1.0] + [min(1.0, max(0.0, (vx * bx + vy * by) / dd))
                                  for vx, vy in ((px, py), (qx, qy))]
            ex, ey = qx - px, qy - py
            den = bx * ey - by * ex
            if den != 0:
                t = (px * ey - py * ex) / den
                u = (px * by - py * bx) / den
                if 0 <= t <= 1 and 0 <= u <= 1:
                    cands.append(t)
            tm = min(cands, key=f)
            if f(tm) > tol:
                continue

            def crossing(inside, outside):
                if f(outside) <= tol:
                    return outside
                for _ in range(200):
                    mid = 0.5 * (inside + outside)
                    if f(mid) <= tol:
                        inside = mid
                    else:
                        outside = mid
                return inside

            spans.append((crossing(tm, 0.0), crossing(tm, 1.0)))
        spans.sort()
        covered, start, end = 0.0, None, None
        for lo, hi in spans:
            if start is None or lo > end:
                if start is not None:
                    covered += end - start
                start, end = lo, hi
            else:
                end = max(end, hi)
        if start is not None:
            covered += end - start
        total += covered * math.sqrt(dd)
    return total


def srs_of(layer):
    s = layer.GetSpatialRef()
    if s is None:
        sys.exit("layer has no CRS")
    s = s.Clone()
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def read(path):
    """[(id, [exterior, holes...] as lists of (x, y))], srs. Multipolygons are split into parts."""
    ds = ogr.Open(path)
    out, srs = [], None
    for li in range(ds.GetLayerCount()):
        layer = ds.GetLayer(li)
        srs = srs_of(layer)
        order = 0
        for feat in layer:
            order += 1
            g = feat.GetGeometryRef()
            if g is None:
                continue
            fid = order
            idx = feat.GetFieldIndex("id")
            if idx >= 0 and feat.IsFieldSet(idx):
                ftype = feat.GetFieldDefnRef(idx).GetType()
                if ftype in (ogr.OFTInteger, ogr.OFTInteger64):
                    fid = feat.GetFieldAsInteger64(idx)
            polys = [g] if g.GetGeometryType() in (ogr.wkbPolygon, ogr.wkbPolygon25D) else [
                g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]
            for p in polys:
                rings = []
                for ri in range(p.GetGeometryCount()):
                    r = p.GetGeometryRef(ri)
                    rings.append([(r.GetX(k), r.GetY(k)) for k in range(r.GetPointCount())])
                out.append((fid, rings))
    return out, srs


def to_metric(items, srs, metric):
    ct = osr.CoordinateTransformation(srs, metric)
    res = []
    for fid, rings in items:
        rr = [[tuple(ct.TransformPoint(x, y)[:2]) for (x, y) in ring] for ring in rings]
        res.append((fid, rr))
    return res


def shape(rings):
    p = Polygon(rings[0], rings[1:])
    if not p.is_valid:
        fixed = make_valid(p)
        parts = []
        stack = [fixed]
        while stack:
            g = stack.pop()
            if g.geom_type == "Polygon":
                parts.append(g)
            elif hasattr(g, "geoms"):
                stack.extend(g.geoms)
        p = MultiPolygon(parts) if parts else Polygon()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pred", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--aoi")
    ap.add_argument("--partial", action="store_true")
    ap.add_argument("--match-iou", type=float, default=0.5)
    ap.add_argument("--boundary-tol", type=float, default=5.0)
    ap.add_argument("--label-buffer", type=float, default=5.0)
    ap.add_argument("--fp-min-fraction", type=float, default=0.5)
    a = ap.parse_args()

    truth_items, truth_srs = read(a.truth)
    pred_items, pred_srs = read(a.pred)
    # Metric CRS: UTM zone of the centre of the truth's exterior-vertex bounds, in lon/lat.
    xs = [x for _, r in truth_items for (x, _y) in r[0]]
    ys = [y for _, r in truth_items for (_x, y) in r[0]]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    lon, lat = osr.CoordinateTransformation(truth_srs, wgs).TransformPoint(cx, cy)[:2]
    zone = min(60, max(1, int((lon + 180) // 6) + 1))
    metric = osr.SpatialReference()
    metric.ImportFromEPSG((32600 if lat >= 0 else 32700) + zone)
    metric.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)

    T = [(fid, shape(r)) for fid, r in to_metric(truth_items, truth_srs, metric)]
    P = [(fid, shape(r)) for fid, r in to_metric(pred_items, pred_srs, metric)]
    T = [(fid, s if s.area > 0 else Polygon()) for fid, s in T]
    P = [(fid, s if s.area > 0 else Polygon()) for fid, s in P]

    aoi = None
    if a.aoi:
        aitems, asrs = read(a.aoi)
        aoi = unary_union([shape(r) for _, r in to_metric(aitems, asrs, metric)])
    region = aoi
    if a.partial:
        lab = unary_union([s for _, s in T if not s.is_empty])
        if a.label_buffer > 0:
            lab = lab.buffer(a.label_buffer, QUAD_SEGS)
        region = lab.intersection(aoi) if aoi is not None else lab

    scored = [not s.is_empty and (aoi is None or aoi.intersects(s.representative_point()))
              for _, s in T]
    best = [0.0] * len(T)
    pairs = []
    for i, (_, t) in enumerate(T):
        if t.is_empty:
            continue
        for j, (_, p) in enumerate(P):
            if p.is_empty:
                continue
            inter = t.intersection(p).area
            if inter > 0:
                iou = inter / (t.area + p.area - inter)
                pairs.append((iou, i, j))
                best[i] = max(best[i], iou)
    ious = [best[i] for i in range(len(T)) if scored[i]]

    pairs = sorted([q for q in pairs if q[0] > a.match_iou], key=lambda q: (-q[0], q[1], q[2]))
    tu, pu = set(), set()
    tp = fp = fn = ignored = 0
    matched = []  # (iou, truth index, prediction index)
    for _iou, i, j in pairs:
        if i in tu or j in pu:
            continue
        tu.add(i)
        pu.add(j)
        matched.append((_iou, i, j))
        if scored[i]:
            tp += 1
        else:
            ignored += 1
    fn = sum(1 for i in range(len(T)) if scored[i] and i not in tu)
    for j, (_, p) in enumerate(P):
        if j in pu or p.is_empty:
            continue
        if region is None or p.intersection(region).area >= a.fp_min_fraction * p.area:
            fp += 1
        else:
            ignored += 1

    def div(x, y):
        return x / y if y > 0 else 0.0

    def is_fp(p):
        return region is None or p.intersection(region).area >= a.fp_min_fraction * p.area

    # Panoptic quality, F1 at IoU 0.50..0.95 (each threshold matched afresh), boundary error.
    pq = div(sum(q[0] for q in matched if scored[q[1]]), tp + 0.5 * fp + 0.5 * fn)
    all_pairs = sorted(pairs, key=lambda q: (-q[0], q[1], q[2]))
    f1s = []
    for k in range(10):
        thr = 0.5 + 0.05 * k
        tu2, pu2, tp2, ign2 = set(), set(), 0, 0
        for iou, i, j in all_pairs:
            if iou <= thr or i in tu2 or j in pu2:
                continue
            tu2.add(i)
            pu2.add(j)
            tp2 += 1 if scored[i] else 0
        fn2 = sum(1 for i in range(len(T)) if scored[i] and i not in tu2)
        fp2 = sum(1 for j, (_, p) in enumerate(P) if j not in pu2 and not p.is_empty and is_fp(p))
        f1s.append(div(2 * tp2, 2 * tp2 + fp2 + fn2))
    errs = []
    for iou, i, j in matched:
        if not scored[i]:
            continue
        t, p = T[i][1], P[j][1]
        per = 0.5 * (t.length + p.length)
        if per > 0:
            errs.append(t.symmetric_difference(p).area / per)

    ut = unary_union([s for _, s in T if not s.is_empty])
    up = unary_union([s for _, s in P if not s.is_empty])
    if region is not None:
        ut, up = ut.intersection(region), up.intersection(region)
    ta, pa = ut.area, up.area
    inter = ut.intersection(up).area
    pixel = {"iou": div(inter, pa + ta - inter), "f1": div(2 * inter, pa + ta),
             "precision": div(inter, pa), "recall": div(inter, ta), "tp_m2": inter}

    tb = [s.boundary for _, s in T if not s.is_empty]
    pb = [s.boundary for _, s in P if not s.is_empty]
    bt, bp = unary_union(tb), unary_union(pb)
    btr = bt.intersection(region) if region is not None else bt
    bpr = bp.intersection(region) if region is not None else bp
    tol = a.boundary_tol
    if tol > 0:
        # Exact distance (evaluate's definition since session 20), not buffer polygons.
        pnear = near_length(bpr, unary_union(tb), tol)
        tnear = near_length(btr, unary_union(pb), tol)
    else:
        pnear, tnear = bpr.intersection(bt).length, btr.intersection(bp).length
    bprec, brec = div(pnear, bpr.length), div(tnear, btr.length)

    out = {
        "metric_crs": "EPSG:%s" % metric.GetAuthorityCode(None),
        "scored_fields": len(ious),
        "field_iou": {
            "median": statistics.median(ious) if ious else 0.0,
            "mean": sum(ious) / len(ious) if ious else 0.0,
            "frac_above_0_5": div(sum(1 for v in ious if v > 0.5), len(ious)),
            "frac_above_0_8": div(sum(1 for v in ious if v > 0.8), len(ious)),
        },
        "objects": {"tp": tp, "fp": fp, "fn": fn, "pred_ignored": ignored,
                    "precision": div(tp, tp + fp), "recall": div(tp, tp + fn),
                    "f1": div(2 * tp, 2 * tp + fp + fn), "panoptic_quality": pq,
                    "f1_mean_iou_50_95": sum(f1s) / 10.0,
                    "boundary_error_mean_m": sum(errs) / len(errs) if errs else 0.0,
                    "boundary_error_median_m": statistics.median(errs) if errs else 0.0},
        "pixel": pixel,
        "boundary": {"pred_length_m": bpr.length, "truth_length_m": btr.length,
                     "precision": bprec, "recall": brec, "f1": div(2 * bprec * brec, bprec + brec)},
        "per_field_iou": [best[i] for i in range(len(T))],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
