#!/usr/bin/env python3
"""One Markdown table row from a `fieldseg evaluate --json` result (tools/rwanda/score.sh's eval.json).

Usage: table_row.py EVAL.json "row label"
Columns: label | fields | median field IoU | mean | IoU > 0.5 | object F1 | PQ | F1 IoU 0.5-0.95 |
boundary error (median, m) | predicted fields
"""
import json
import sys

j = json.load(open(sys.argv[1]))
f, o = j["field_iou"], j["objects"]
print(f"| {sys.argv[2]} | {j['scored_fields']} | {f['median']:.3f} | {f['mean']:.3f} | "
      f"{f['frac_above_0_5']:.3f} | {o['f1']:.3f} | {o.get('panoptic_quality', 0):.3f} | "
      f"{o.get('f1_mean_iou_50_95', 0):.3f} | {o.get('boundary_error_median_m', 0):.1f} | "
      f"{j['pred_fields']} |")
