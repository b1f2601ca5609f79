#!/usr/bin/env python3
"""Concatenates GeoJSON FeatureCollections (same CRS) into one, numbering features 1..n in `id`.

Usage: merge_geojson.py OUT.geojson IN.geojson... [--keep-properties] [--tag-chip]
  --keep-properties  keep each feature's properties (default: only the new id)
  --tag-chip         add property `chip` = the last two characters of the input's stem
"""
import json
import os
import sys

args = [a for a in sys.argv[1:] if not a.startswith("--")]
keep, tag = "--keep-properties" in sys.argv, "--tag-chip" in sys.argv
feats = []
for path in args[1:]:
    stem = os.path.splitext(os.path.basename(path))[0]
    with open(path) as f:
        for ft in json.load(f)["features"]:
            props = dict(ft.get("properties") or {}) if keep else {}
            props["id"] = len(feats) + 1
            if tag:
                props["chip"] = stem[-2:]
            ft["properties"] = props
            feats.append(ft)
with open(args[0], "w") as f:
    json.dump({"type": "FeatureCollection", "name": "fields", "features": feats}, f)
