#!/usr/bin/env python3
"""How predicted fields miss their labels (diagnostic, not part of the product): for each scored
truth field, its best-matching prediction's cover (share of the truth it covers) and precision
(share of it inside the truth), and the median field IoU if every prediction were grown or shrunk
by a buffer.

Usage: match_bias.py EVAL.json PRED.geojson TRUTH.geojson [EPSG]
  EVAL.json   `fieldseg evaluate --partial --json --json-fields` of PRED against TRUTH
  EPSG        metric CRS for areas and buffers (default 32736, UTM 36S: Rwanda)
"""
import json
import sys

import numpy as np
from osgeo import ogr, osr
from shapely import wkb


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    ev, pred, truth = (json.load(open(p)) for p in sys.argv[1:4])
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(int(sys.argv[4]) if len(sys.argv) == 5 else 32736)
    for s in (wgs, utm):
        s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(wgs, utm)

    def geom(f):
        g = ogr.CreateGeometryFromJson(json.dumps(f["geometry"]))
        g.Transform(ct)
        return wkb.loads(bytes(g.ExportToWkb()))

    preds = {f["properties"].get("id"): geom(f) for f in pred["features"]}
    truths = [geom(f) for f in truth["features"]]
    rows, buffered, missed = [], {}, 0
    for pf in ev["per_field"]:
        t, pid = truths[pf["truth_index"]], pf["best_pred_id"]
        if pid not in preds:
            missed += 1
            continue
        p = preds[pid]
        inter = t.intersection(p).area
        rows.append((p.area / t.area, inter / t.area, inter / p.area))
        for d in (-4.78, -2.4, 0.0, 2.4, 4.78):
            pb = p.buffer(d, join_style=2)
            u = t.union(pb).area
            buffered.setdefault(d, []).append(t.intersection(pb).area / u if u > 0 else 0.0)
    r = np.array(rows)
    print(f"fields {len(ev['per_field'])}, no prediction {missed}")
    print(f"median area ratio pred/truth {np.median(r[:, 0]):.3f}, median cover "
          f"{np.median(r[:, 1]):.3f}, median precision {np.median(r[:, 2]):.3f}")
    print(f"truth under half covered (split or missed) {np.mean(r[:, 1] < 0.5):.3f}; prediction "
          f"under half inside the truth (merged or spilling) {np.mean(r[:, 2] < 0.5):.3f}")
    for d, v in sorted(buffered.items()):
        print(f"buffer {d:+.2f} m: median field IoU {np.median(v):.3f}")


if __name__ == "__main__":
    main()
