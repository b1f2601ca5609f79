#!/usr/bin/python3
"""Markdown tables from score_runs.sh's evaluate JSON files (one per run, named after the run).

Usage: label_efficiency_table.py EVAL_DIR [MODELS_DIR]
With MODELS_DIR, the epochs each run completed (read from its model card) are shown: a run stopped
by its time budget has fewer than its config asked for.
Runs are named le_<rw|syn>_<ft|scratch>_<k> (k labelled fields) or <model>_gpu. The label-saving
factor: for each from-scratch point (k, IoU), the smallest number of labels at which the
fine-tuned curve (linear in log k between measured points) reaches the same median field IoU;
factor = k / that number. Reported only where the fine-tuned curve reaches it.
"""
import glob
import json
import math
import os
import re
import sys


def load(d):
    runs = {}
    for f in glob.glob(os.path.join(d, "*.json")):
        if f.endswith(".run.json"):  # delineate's run record, not a score
            continue
        runs[os.path.basename(f)[:-5]] = json.load(open(f))
    return runs


def epochs_run(models, name):
    """Epochs completed, from the card in MODELS_DIR/name.fsm (src/model/README.md, model file)."""
    if not models:
        return ""
    path = os.path.join(models, name + ".fsm")
    if not os.path.exists(path):
        return "?"
    with open(path, "rb") as f:
        head = f.read(20)
        n = int.from_bytes(head[12:20], "little")
        card = json.loads(f.read(n))
    t = card.get("training", {})
    done, asked = t.get("epochs"), t.get("config", {}).get("epochs")
    return f"{done}" if asked in (None, done) else f"{done} of {asked}"


def row(j):
    return (j["field_iou"]["median"], j["field_iou"]["mean"], j["field_iou"]["frac_above_0_5"],
            j["objects"]["f1"], j["pixel"]["iou"], j["scored_fields"], j["pred_fields"])


def labels_needed(curve, target):
    """Smallest k (log-linear between points) where the curve reaches target, or None."""
    pts = sorted(curve)
    if pts and pts[0][1] >= target:
        return pts[0][0]
    for (k0, v0), (k1, v1) in zip(pts, pts[1:]):
        if v1 >= target > v0:
            t = (target - v0) / (v1 - v0)
            return math.exp(math.log(k0) + t * (math.log(k1) - math.log(k0)))
    return None


def main():
    runs = load(sys.argv[1])
    models = sys.argv[2] if len(sys.argv) > 2 else None
    print("| run | median field IoU | mean | frac > 0.5 | object F1 | pixel IoU | fields scored | predicted fields | epochs run |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in sorted(n for n in runs if not n.startswith("le_")):
        print(f"| {name} | " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v)
                                          for v in row(runs[name])) + f" | {epochs_run(models, name)} |")
    for what, title in (("rw", "Rwanda east half (held out), west-half fields as labels"),
                        ("syn", "held-out synthetic smallholder scene, fields of a training scene as labels")):
        pts = {}
        for name, j in runs.items():
            m = re.fullmatch(rf"le_{what}_(ft|scratch)_(\d+)", name)
            if m:
                pts.setdefault(int(m.group(2)), {})[m.group(1)] = j
        if not pts:
            continue
        print(f"\n**{title}**\n")
        print("| labelled fields | fine-tuned median IoU | from-scratch median IoU | fine-tuned mean | "
              "from-scratch mean | fine-tuned object F1 | from-scratch object F1 | fields scored | "
              "labels the fine-tuned model needs for the from-scratch IoU | epochs run (ft / scratch) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        ft = [(k, p["ft"]["field_iou"]["median"]) for k, p in pts.items() if "ft" in p]
        for k in sorted(pts):
            p = pts[k]
            cells = []
            for key in ("median", "mean"):
                for kind in ("ft", "scratch"):
                    cells.append(f'{p[kind]["field_iou"][key]:.3f}' if kind in p else "")
            for kind in ("ft", "scratch"):
                cells.append(f'{p[kind]["objects"]["f1"]:.3f}' if kind in p else "")
            scored = next(iter(p.values()))["scored_fields"]
            need = ""
            if "scratch" in p:
                target = p["scratch"]["field_iou"]["median"]
                n = labels_needed(ft, target)
                if n is None:
                    need = "not reached"
                elif n == min(ft)[0] and min(ft)[1] >= target:
                    need = f"<= {n} (>= {k / n:.1f}x fewer)"
                else:
                    need = f"{n:.1f} ({k / n:.1f}x fewer)"
            ep = " / ".join(epochs_run(models, f"le_{what}_{kind}_{k}") for kind in ("ft", "scratch"))
            print(f"| {k} | " + " | ".join(cells) + f" | {scored} | {need} | {ep} |")


if __name__ == "__main__":
    main()
