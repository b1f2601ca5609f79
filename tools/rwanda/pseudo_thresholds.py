#!/usr/bin/env python3
"""How sure a model's fields must be to serve as pseudo-labels: for the predicted fields of some
*training* chips (fieldseg delineate output, PRED_DIR/<chip>.geojson) that lie mostly (> 50 % of
their area) inside labelled fields, the share with IoU > 0.5 against the labels and their median
IoU, for a grid of `fieldseg pseudo-label` thresholds (--min-confidence, --min-boundary-strength).

Usage: pseudo_thresholds.py PRED_DIR FIELDS_DIR CHIP...
  FIELDS_DIR holds chip_<chip>.geojson (tools/rwanda/make_chips.sh OUTDIR/fields).
"""
import json
import sys

import numpy as np
from shapely.geometry import shape

pred_dir, fields_dir, chips = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for c in chips:
    pred = json.load(open(f"{pred_dir}/{c}.geojson"))["features"]
    truth = [shape(f["geometry"]) for f in json.load(open(f"{fields_dir}/chip_{c}.geojson"))["features"]]
    for f in pred:
        g, p = shape(f["geometry"]), f["properties"]
        best = cov = 0.0
        for t in truth:
            if g.intersects(t):
                i = g.intersection(t).area
                cov += i
                best = max(best, i / g.union(t).area)
        rows.append((p["confidence"], p["boundary_strength"], best, cov / g.area))
a = np.array(rows)
lab = a[a[:, 3] > 0.5]
print(f"{len(a)} predicted fields, {len(lab)} mostly inside labelled fields")
print("min_confidence,min_boundary_strength,kept,share_iou_gt_0.5,median_iou")
for c in (0.0, 0.7, 0.75, 0.8, 0.85):
    for b in (0.0, 0.3, 0.5, 0.6):
        k = lab[(lab[:, 0] >= c) & (lab[:, 1] >= b)]
        if len(k):
            print(f"{c},{b},{len(k)},{np.mean(k[:, 2] > 0.5):.2f},{np.median(k[:, 2]):.2f}")
