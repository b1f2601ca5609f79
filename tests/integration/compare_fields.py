#!/usr/bin/env python3
"""Independent cross-check for the batch tests: two vector files hold the same fields with the same
coordinates (bit-exact) and the same attributes except `id`, each field exactly once, ids unique.
Usage: compare_fields.py A B [GRID.json]  -> exit 0 when equal, 1 with a reason otherwise. With a
grid manifest (same CRS as B), also prints how many fields of B straddle a cell edge (whole fields
that cells had to share: the ones stitching is about)."""
import sys
from osgeo import ogr  # Debian python3-gdal: run with /usr/bin/python3

ogr.UseExceptions()


def canon_ring(ring):
    pts = [ring.GetPoint_2D(i) for i in range(ring.GetPointCount())]
    if len(pts) > 1 and pts[0] == pts[-1]:
        pts = pts[:-1]
    k = pts.index(min(pts))
    return tuple(pts[k:] + pts[:k])


def load(path):
    ds = ogr.Open(path)
    if ds is None or ds.GetLayerCount() != 1:
        sys.exit(f"{path}: expected exactly one layer")
    layer = ds.GetLayer(0)
    feats, ids, boxes = [], [], []
    for f in layer:
        g = f.GetGeometryRef()
        polys = [g] if g.GetGeometryType() in (ogr.wkbPolygon, ogr.wkbPolygon25D) else \
            [g.GetGeometryRef(i) for i in range(g.GetGeometryCount())]
        key = tuple(sorted(tuple(canon_ring(p.GetGeometryRef(i)) for i in range(p.GetGeometryCount()))
                           for p in polys))
        boxes.append(g.GetEnvelope())  # minx, maxx, miny, maxy
        # A null attribute and an absent column mean the same (a single run writes the full schema,
        # merged cells only the columns they have values for).
        attrs = tuple(sorted((k, v) for k, v in f.items().items() if k != "id" and v is not None))
        feats.append((key, attrs))
        ids.append(f.GetFID() if "id" not in f.keys() else f.GetField("id"))
    return feats, ids, boxes


a, ida, _ = load(sys.argv[1])
b, idb, boxes = load(sys.argv[2])
for name, ids in ((sys.argv[1], ida), (sys.argv[2], idb)):
    if len(set(ids)) != len(ids):
        sys.exit(f"{name}: ids are not unique")
for name, feats in ((sys.argv[1], a), (sys.argv[2], b)):
    if len(set(f[0] for f in feats)) != len(feats):
        sys.exit(f"{name}: a geometry appears twice")
sa, sb = set(a), set(b)
if sa != sb:
    sys.exit(f"differ: {len(a)} vs {len(b)} fields, {len(sa - sb)} only in {sys.argv[1]}, "
             f"{len(sb - sa)} only in {sys.argv[2]}")
straddle = ""
if len(sys.argv) > 3:
    import json
    cells = json.load(open(sys.argv[3]))["cells"]
    xs = sorted({c["bounds"][0] for c in cells} | {c["bounds"][2] for c in cells})[1:-1]
    ys = sorted({c["bounds"][1] for c in cells} | {c["bounds"][3] for c in cells})[1:-1]
    n = sum(1 for (x0, x1, y0, y1) in boxes
            if any(x0 < x < x1 for x in xs) or any(y0 < y < y1 for y in ys))
    straddle = f", {n} straddling a cell edge"
print(f"equal: {len(a)} fields, same coordinates and attributes{straddle}")
