#!/usr/bin/env python3
"""Markdown table of tools/rwanda/self_training.sh results: one row per number of labelled chips,
median field IoU (object F1) of each variant and seed, and the variant means.

Usage: self_training_table.py OUTDIR/results.csv
"""
import csv
import statistics
import sys

rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by[(r["variant"], int(r["seed"]), int(r["chips"]))] = r
sizes = sorted({int(r["chips"]) for r in rows if r["variant"] != "ft" or
                any(x["variant"] != "ft" and x["chips"] == r["chips"] for x in rows)})
seeds = sorted({int(r["seed"]) for r in rows})
variants = [("ft", "fine-tuned"), ("self", "+ self-training"), ("suggest", "chips chosen by suggest")]
head = ["labelled chips", "human fields (seeds)"]
for _, name in variants:
    head.append(name + ", " + " / ".join(f"seed {s}" for s in seeds))
head += [name + ", mean" for _, name in variants]
print("| " + " | ".join(head) + " |")
print("|" + "---|" * len(head))
for n in sizes:
    cells = [str(n), " / ".join(by[("ft", s, n)]["human_fields"] if ("ft", s, n) in by else "-"
                                for s in seeds)]
    means = []
    for v, _ in variants:
        vals, txt = [], []
        for s in seeds:
            r = by.get((v, s, n))
            if r:
                vals.append(float(r["median_iou"]))
                txt.append(f"{float(r['median_iou']):.3f} ({float(r['object_f1']):.3f})")
            else:
                txt.append("-")
        cells.append(" / ".join(txt))
        means.append(f"{statistics.mean(vals):.3f}" if len(vals) == len(seeds) else "-")
    print("| " + " | ".join(cells + means) + " |")
