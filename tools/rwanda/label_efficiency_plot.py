#!/usr/bin/env python3
"""Plot of tools/rwanda/label_efficiency.sh's results.csv: median field IoU on the Rwanda validation
blocks against the number of labelled training fields, fine-tuned from `source` vs from scratch,
one point per run and the mean per size; prints the factor of labels saved at equal median IoU
(for each scratch mean, the fewest fields at which the fine-tuned mean reaches it).

Usage: label_efficiency_plot.py RESULTS.csv OUT.png
"""
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    runs = defaultdict(list)
    fields = defaultdict(list)
    for r in rows:
        runs[(r["start"], int(r["chips"]))].append(float(r["median_iou"]))
        fields[(r["start"], int(r["chips"]))].append(int(r["fields"]))
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    means = {}
    for start, colour in (("ft", "tab:blue"), ("scratch", "tab:orange")):
        keys = sorted(k for k in runs if k[0] == start)
        xs = [sum(fields[k]) / len(fields[k]) for k in keys]
        ys = [sum(runs[k]) / len(runs[k]) for k in keys]
        means[start] = list(zip(xs, ys))
        for k in keys:
            ax.scatter(fields[k], runs[k], color=colour, s=12, alpha=0.5)
        label = "fine-tuned from source" if start == "ft" else "from scratch"
        ax.plot(xs, ys, "-o", color=colour, label=f"{label} (mean of seeds)")
    ax.set_xscale("log")
    ax.set_xlabel("labelled training fields (log)")
    ax.set_ylabel("median field IoU, validation (181 fields)")
    ax.set_title("Rwanda label efficiency (same 200-step budget)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(sys.argv[2])
    for fx, fy in means.get("scratch", []):
        reach = [x for x, y in means.get("ft", []) if y >= fy]
        if reach:
            print(f"scratch {fy:.3f} at {fx:.0f} fields; fine-tuned reaches it at {min(reach):.0f} "
                  f"fields: factor {fx / min(reach):.2f}")
        else:
            print(f"scratch {fy:.3f} at {fx:.0f} fields; fine-tuned never reaches it")


if __name__ == "__main__":
    main()
