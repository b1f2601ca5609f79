#!/usr/bin/env python3
"""Fails when a third-party header is included outside the folders that own it (../shared/STYLE.md,
"Layout"), so a dependency cannot leak across the architecture unnoticed.

    GDAL/OGR/CPL  src/io, src/geo          (the raster and vector I/O, the CRS objects)
    OSR/PROJ      src/geo                  (ogr_spatialref.h, ogr_srs_api.h, proj.h)
    LibTorch      src/model
    oneDNN        src/model                (the fused inference network)
    OpenCV        src/post
    TBB           tiles
    public API    include/fieldseg: none of them

Tests may include what the component they test may (tests/unit/<component>/ for the component in
that folder), and tests/support and tests/integration what src/io may (they build fixtures with
GDAL).

It also keeps files and functions small (the [architecture] rule): no C++ or Python file over
500 lines, no C++ function (free, member or in-class, lambdas counted in the function that holds
them) over 120 lines from its signature to its closing brace.

Usage: check_layout.py [ROOT]; prints each offence and exits 1, or exits 0.
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
    "oneDNN": (re.compile(r"^(oneapi/dnnl/|dnnl)"), ["src/model"]),
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


MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 120


def code_only(text):
    """`text` with comments, string and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            k = text.find("(", i + 2)
            delim = ")" + text[i + 2:k] + '"'
            j = text.find(delim, k)
            j = n if j < 0 else j + len(delim)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def long_functions(text):
    """(first line, lines, signature) of each function body longer than MAX_FUNCTION_LINES."""
    code = code_only(text)
    found, stack = [], []  # stack entries: (kind, start line, signature)
    stmt, stmt_line, line = "", 1, 1
    for c in code:
        if c == "\n":
            line += 1
        if c == "{":
            inside_fn = any(entry[0] == "fn" for entry in stack)
            head = " ".join(stmt.split())
            if inside_fn:
                kind = "block"
            elif re.match(r"^(namespace\b|extern\s*\"?)", head) or head.startswith('extern ""'):
                kind = "ns"
            elif re.search(r"\b(struct|class|enum|union)\b[^()]*$", head) or head.endswith("="):
                kind = "type"
            elif "(" in head:
                kind = "fn"
            else:
                kind = "block"
            stack.append((kind, stmt_line, head))
            stmt, stmt_line = "", line
        elif c == "}":
            if stack:
                kind, start, head = stack.pop()
                if kind == "fn" and line - start + 1 > MAX_FUNCTION_LINES:
                    found.append((start, line - start + 1, head[:70]))
            stmt, stmt_line = "", line
        elif c == ";":
            stmt, stmt_line = "", line
        else:
            if not stmt.strip() and not c.isspace():
                stmt_line = line
            stmt += c
    return found


def size_offences(rel, text):
    out = []
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > MAX_FILE_LINES:
        out.append(f"{rel}: {lines} lines (at most {MAX_FILE_LINES}: split it by concern)")
    if rel.endswith((".cpp", ".hpp", ".h", ".cc")):
        for start, n, head in long_functions(text):
            out.append(f"{rel}:{start}: function of {n} lines (at most {MAX_FUNCTION_LINES}): {head}")
    return out


def main():
    bad = []
    for top in SCANNED:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if not name.endswith((".cpp", ".hpp", ".h", ".cc", ".py")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT).replace(os.sep, "/")
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                bad.extend(size_offences(rel, text))
                if name.endswith(".py"):
                    continue
                if True:
                    for n, line in enumerate(text.splitlines(), 1):
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
        print(f"check_layout: {len(bad)} offence(s): includes outside their folder (../shared/STYLE.md,"
              f" Layout) or files / functions too long", file=sys.stderr)
        return 1
    print("check_layout: every third-party header is included in its own folder; no file over "
          f"{MAX_FILE_LINES} lines, no function over {MAX_FUNCTION_LINES}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
