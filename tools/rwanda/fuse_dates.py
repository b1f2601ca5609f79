#!/usr/bin/env python3
"""Date-fusion experiment (not part of the product): fuse per-month probability maps of one split
by a rule and write one map per chip, for `score.sh ... probs:OUTDIR`.

Usage: fuse_dates.py RULE PREFIX OUTDIR
  PREFIX   score.sh output folders per month, PREFIX<yyyy_mm>/prob/<chip>.tif (e.g. out/score/m_
           after `MONTHS=2021_08 score.sh out/rw out/score/m_2021_08 MODEL`, one per month)
  RULE     mean (what delineate does) | median | conf (per-pixel weights |extent-0.5| +
           |boundary-0.5| + 0.05) | bmax (boundary = max over dates, the rest the mean) |
           top3 (the three dates whose maps are sharpest on average) | chipq (dates weighted by
           exp of their standardised mean sharpness)
Probabilities are the stored levels 0..254 (scale 1/254), nodata 255 where any date has none.
"""
import os
import sys

import numpy as np
from osgeo import gdal

MONTHS = ["2021_03", "2021_04", "2021_08", "2021_10", "2021_11", "2021_12"]


def fuse(rule, p):
    sharp = lambda: (np.abs(p[:, 0] - 0.5) + np.abs(p[:, 1] - 0.5)).mean(axis=(1, 2))
    if rule == "mean":
        return p.mean(0)
    if rule == "median":
        return np.median(p, 0)
    if rule == "conf":
        w = np.abs(p[:, 0] - 0.5) + np.abs(p[:, 1] - 0.5) + 0.05
        return (p * w[:, None]).sum(0) / w.sum(0)[None]
    if rule == "bmax":
        f = p.mean(0)
        f[1] = p[:, 1].max(0)
        return f
    if rule == "top3":
        return p[np.argsort(-sharp())[:3]].mean(0)
    if rule == "chipq":
        q = sharp()
        w = np.exp((q - q.max()) / max(q.std(), 1e-6))
        return (p * w[:, None, None, None]).sum(0) / w.sum()
    sys.exit(f"fuse_dates: unknown rule '{rule}'")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rule, prefix, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    for chip in sorted(os.listdir(f"{prefix}{MONTHS[0]}/prob")):
        p = np.stack([gdal.Open(f"{prefix}{m}/prob/{chip}").ReadAsArray().astype(float)
                      for m in MONTHS])
        nodata = (p == 255).any(axis=(0, 1))
        f = np.round(fuse(rule, p / 254.0) * 254).astype(np.uint8)
        f[:, nodata] = 255
        tmpl = gdal.Open(f"{prefix}{MONTHS[0]}/prob/{chip}")
        out = gdal.GetDriverByName("GTiff").CreateCopy(f"{outdir}/{chip}", tmpl)
        for b in range(3):
            out.GetRasterBand(b + 1).WriteArray(f[b])
        out = None


if __name__ == "__main__":
    main()
