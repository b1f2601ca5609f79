#!/usr/bin/env python3
"""Fails when a third-party header is included outside the folders that own it (../shared/STYLE.md,
"Layout"), so a dependency cannot leak across the architecture unnoticed.

    GDAL/OGR/CPL  src/io, src/geo          (the raster and vector I/O, the CRS objects)
    OSR/PROJ      src/geo                  (ogr_spatialref.h, ogr_srs_api.h, proj.h)
    LibTorch      src/model
    OpenCV        src/post
    TBB           tiles
    public API    include/fieldseg: none of them

Tests may include what the component they test may (tests/unit/<component>/ for the component in
that folder), and tests/support and tests/integration what src/io may (they build fixtures with
GDAL). Usage: check_layout.py [ROOT]; prints each offending include and exits 1, or exits 0.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))

# library -> (header pattern, folders allowed to include it)
RULES = {
    "OSR/PROJ": (re.compile(r"^(ogr_spatialref\.h|ogr_srs_api\.h|proj\.h|proj/)"), ["src/geo"]),
    "GDAL/OGR": (re.compile(r"^(gdal[a-z_]*\.h|ogr[a-z_]*\.h|cpl_[a-z_]*\.h|gdalwarper\.h|vrtdataset\.h)"),
                 ["src/io", "src/geo"]),
    "LibTorch": (re.compile(r"^(torch/|ATen/|c10/)"), ["src/model"]),
    "OpenCV": (re.compile(r"^opencv2/"), ["src/post"]),
    "TBB": (re.compile(r"^(tbb/|oneapi/tbb)"), ["tiles"]),
}
# A test folder may include what the folder it tests may.
TEST_FOLDERS = {
    "tests/unit/io": "src/io", "tests/unit/geo": "src/geo", "tests/unit/model": "src/model",
    "tests/unit/post": "src/post", "tests/unit/tiles": "tiles", "tests/support": "src/io",
    "tests/integration": "src/io",
}
SCANNED = ["include", "src", "tiles", "weak_labels", "tools", "tests"]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')


def owner(rel):
    for t, comp in TEST_FOLDERS.items():
        if rel.startswith(t + "/"):
            return comp
    return rel


def allowed(rel, folders):
    where = owner(rel)
    return any(where == f or where.startswith(f + "/") for f in folders)


def main():
    bad = []
    for top in SCANNED:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith((".cpp", ".hpp", ".h", ".cc")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        header = m.group(1)
                        for lib, (pattern, folders) in RULES.items():
                            if pattern.match(header):
                                if not allowed(rel, folders):
                                    bad.append(f"{rel}:{n}: includes <{header}> ({lib} belongs in "
                                               f"{' or '.join(folders)})")
                                break
    for b in bad:
        print("check_layout: " + b, file=sys.stderr)
    if bad:
        print(f"check_layout: {len(bad)} include(s) outside their folder (../shared/STYLE.md, Layout)",
              file=sys.stderr)
        return 1
    print("check_layout: every third-party header is included in its own folder", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
