#!/usr/bin/python3
"""Packs a chip folder written by `fieldseg labels --chips` into .fsc raw chips.

Usage: pack_chips.py SRC_DIR DST_DIR [--max-scale N] [--png-crops]
       pack_chips.py --materialise DST_DIR

--png-crops: image chips cut 1:1 from a VRT over one PNG (the NAIP scenes) are not written;
the PNG is copied to DST_DIR/png (PNG compresses these scenes ~3x better than xz compresses raw
chips, which matters when the folder travels) and the crop is listed in DST_DIR/crops.jsonl.
--materialise then writes those image chips from the PNGs (with GDAL, or Pillow where GDAL is
missing, e.g. on a GPU machine) and checks nothing is left to write.

The .fsc format (src/model/torch/chip_file.hpp) needs no GDAL to read, so fieldseg-train (this folder's
CMake project) can train on a machine that has LibTorch only. The packing is lossless for integer
rasters (u8 / u16) and for 0/1 label bands; other bands in [0, 1] (the distance target) are
quantised to 1/65535; anything else is stored as float32. Invalid pixels become 0 in every band,
as in the GeoTIFF chips. Needs Debian's python3-gdal and python3-numpy.
"""
import argparse
import json
import os
import struct
import sys

import shutil
import xml.etree.ElementTree as ET

import numpy as np

try:
    from osgeo import gdal
    gdal.UseExceptions()
except ImportError:  # a GPU machine: only --materialise, with Pillow
    gdal = None


def read(path):
    ds = gdal.Open(path)
    a = ds.ReadAsArray().astype(np.float64)
    if a.ndim == 2:
        a = a[None]
    valid = np.ones(a.shape[1:], bool)
    for i in range(ds.RasterCount):
        valid &= ds.GetRasterBand(i + 1).GetMaskBand().ReadAsArray() > 0
    a[:, ~valid] = 0
    names = []
    for i in range(ds.RasterCount):
        b = ds.GetRasterBand(i + 1)
        names.append((b.GetDescription() or f"band{i + 1}").lower())
    return a, names


def pack(a, names, dst):
    integral = bool(np.all(a == np.round(a)))
    if integral and a.min() >= 0 and a.max() <= 255:
        dtype, data, scale = "u8", a.astype("<u1"), [1.0] * len(names)
    else:
        scale, planes, ok = [], [], True
        for band in a:
            if np.all(band == np.round(band)) and band.min() >= 0 and band.max() <= 65535:
                scale.append(1.0)
                planes.append(band)
            elif band.min() >= 0 and band.max() <= 1:
                scale.append(1.0 / 65535)
                planes.append(np.round(band * 65535))
            else:
                ok = False
                break
        if ok:
            dtype, data = "u16", np.stack(planes).astype("<u2")
        else:
            dtype, data, scale = "f32", a.astype("<f4"), [1.0] * len(names)
    head = json.dumps({"rows": a.shape[1], "cols": a.shape[2], "dtype": dtype, "bands": names,
                       "scale": scale}).encode()
    with open(dst, "wb") as f:
        f.write(b"FSGCHIP1" + struct.pack("<I", len(head)) + head + data.tobytes())


def png_source(vrt_path, window):
    """The PNG behind a 1:1 single-source VRT, or None if the chip is not a plain crop of one."""
    if not vrt_path.endswith(".vrt") or window is None:
        return None
    root = ET.parse(vrt_path).getroot()
    files = set()
    for band in root.iter("VRTRasterBand"):
        srcs = list(band.iter("SimpleSource")) + list(band.iter("ComplexSource"))
        if len(srcs) != 1 or band.find("NoDataValue") is not None:
            return None
        src = srcs[0]
        for tag in ("SrcRect", "DstRect"):
            r = src.find(tag)
            if r is not None and (float(r.get("xOff", 0)) != 0 or float(r.get("yOff", 0)) != 0 or
                                  int(float(r.get("xSize"))) != int(root.get("rasterXSize")) or
                                  int(float(r.get("ySize"))) != int(root.get("rasterYSize"))):
                return None
        fn = src.find("SourceFilename")
        path = fn.text
        if fn.get("relativeToVRT") == "1":
            path = os.path.join(os.path.dirname(vrt_path), path)
        if int(src.find("SourceBand").text) != int(band.get("band")):
            return None
        files.add(os.path.normpath(path))
    if len(files) != 1:
        return None
    path = files.pop()
    return path if path.lower().endswith(".png") else None


def materialise(dst):
    crops = os.path.join(dst, "crops.jsonl")
    n = 0
    for line in open(crops):
        c = json.loads(line)
        path = os.path.join(dst, c["png"])
        if gdal is not None:
            a = gdal.Open(path).ReadAsArray()
        else:
            from PIL import Image
            a = np.asarray(Image.open(path)).transpose(2, 0, 1)
        x, y, w, h = c["window"]
        a = a[: len(c["bands"]), y:y + h, x:x + w].astype(np.float64)
        pack(a, c["bands"], os.path.join(dst, c["dst"]))
        n += 1
    print(f"pack_chips: {n} image chips written from PNG crops in {dst}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("src", nargs="?")
    p.add_argument("dst")
    p.add_argument("--max-scale", type=int, default=0, help="skip chips with a larger 'scale'")
    p.add_argument("--png-crops", action="store_true", help="list PNG crops instead of image chips")
    p.add_argument("--materialise", action="store_true", help="write the listed PNG crops")
    o = p.parse_args()
    if o.materialise:
        return materialise(o.dst)
    if gdal is None:
        sys.exit("pack_chips: needs python3-gdal (apt-get install python3-gdal)")
    man = os.path.join(o.src, "manifest.jsonl")
    if not os.path.exists(man):
        sys.exit(f"pack_chips: {man} not found: pass a folder written by `fieldseg labels --chips`")
    os.makedirs(os.path.join(o.dst, "img"), exist_ok=True)
    os.makedirs(os.path.join(o.dst, "lbl"), exist_ok=True)
    n = 0
    crops = open(os.path.join(o.dst, "crops.jsonl"), "w") if o.png_crops else None
    with open(man) as f, open(os.path.join(o.dst, "manifest.jsonl"), "w") as out:
        for line in f:
            if not line.strip():
                continue
            j = json.loads(line)
            if o.max_scale and j.get("scale", 1) > o.max_scale:
                continue
            for key in ("image", "labels"):
                rel = os.path.splitext(j[key])[0] + ".fsc"
                png = None
                if key == "image" and crops and j.get("scale", 1) == 1:
                    png = png_source(os.path.join(o.src, j["source_image"])
                                     if not os.path.isabs(j["source_image"]) and
                                     not os.path.exists(j["source_image"]) else j["source_image"],
                                     j.get("window"))
                if png:
                    os.makedirs(os.path.join(o.dst, "png"), exist_ok=True)
                    local = os.path.join("png", os.path.basename(png))
                    if not os.path.exists(os.path.join(o.dst, local)):
                        shutil.copyfile(png, os.path.join(o.dst, local))
                    crops.write(json.dumps({"png": local, "window": j["window"], "dst": rel,
                                            "bands": [b.lower() for b in j["bands"]]}) + "\n")
                    j[key] = rel
                    continue
                a, names = read(os.path.join(o.src, j[key]))
                pack(a, names, os.path.join(o.dst, rel))
                j[key] = rel
            out.write(json.dumps(j) + "\n")
            n += 1
    print(f"pack_chips: {n} chips -> {o.dst}")


if __name__ == "__main__":
    main()
