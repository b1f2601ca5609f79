#!/usr/bin/env python3
"""Median field IoU by field-size tercile, from `fieldseg evaluate --json --json-fields` output.

Usage: iou_by_size.py EVAL_FIELDS.json [GSD_M]
Prints one markdown row per tercile of the scored truth fields' areas: the area range in ha, the
same in pixels at GSD_M (default 4.78, the Rwanda PlanetScope mosaics), the count, the median field
IoU and the share with IoU > 0.5.
"""
import json
import statistics
import sys


def main():
    j = json.load(open(sys.argv[1]))
    gsd = float(sys.argv[2]) if len(sys.argv) > 2 else 4.78
    rows = sorted((f["area_m2"], f["iou"]) for f in j["per_field"] if f.get("scored", True))
    n = len(rows)
    print("| field area (ha) | pixels at %.2f m | fields | median field IoU | IoU > 0.5 |" % gsd)
    print("|---|---|---|---|---|")
    for t in range(3):
        part = rows[t * n // 3:(t + 1) * n // 3]
        lo, hi = part[0][0], part[-1][0]
        ious = [i for _, i in part]
        print("| %.2f-%.2f | %d-%d | %d | %.3f | %.2f |" % (
            lo / 1e4, hi / 1e4, lo / gsd ** 2, hi / gsd ** 2, len(part), statistics.median(ious),
            sum(i > 0.5 for i in ious) / len(ious)))


if __name__ == "__main__":
    main()
