#!/usr/bin/env python3
"""The Python research pipeline fieldseg is compared with (tools/bench_e2e.sh), timed per stage.

PyTorch + rasterio + scikit-image, the way a research notebook runs the same method: rasterio reads
the bands, per-band 2-98 % percentile scaling (fieldseg's scene_p2_p98 rule), the same residual
U-Net with the weights of a fieldseg model file (a PyTorch replica of src/model/torch/network.cpp,
eval mode) over 512 px tiles with a 64 px halo, probabilities mosaicked in memory, then the
marker-controlled watershed of tools/rwanda/skimage_instances.py (h-maxima of the smoothed distance
flooding the boundary inside extent > t_ext), GDAL polygonize and one GeoJSON file.

Usage: bench_python_pipeline.py IMAGE MODEL.fsm OUT.geojson [--threads 2] [--tile 512] [--halo 64]
Prints one JSON line: seconds per stage, total, megapixels, fields.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import rasterio
import torch
from osgeo import gdal, ogr, osr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "rwanda"))
from skimage_instances import instances  # noqa: E402

gdal.UseExceptions()
F = torch.nn.functional


def read_model(path):
    """(card dict, {name: tensor}) from a fieldseg model file (format version 2)."""
    with open(path, "rb") as f:
        blob = f.read()
    assert blob[:8] == b"FSGMODEL", "not a fieldseg model file"
    version, = struct.unpack_from("<I", blob, 8)
    assert version == 2, "model file format %d: only version 2 is read here" % version
    n, = struct.unpack_from("<Q", blob, 12)
    card = json.loads(blob[20:20 + n])
    pos = 20 + n + 8
    assert blob[pos:pos + 8] == b"FSGTENS1"
    count, = struct.unpack_from("<Q", blob, pos + 8)
    pos += 16
    tensors = {}
    for _ in range(count):
        ln, = struct.unpack_from("<Q", blob, pos)
        name = blob[pos + 8:pos + 8 + ln].decode()
        pos += 8 + ln
        dtype = blob[pos]
        rank, = struct.unpack_from("<Q", blob, pos + 1)
        pos += 9
        shape = struct.unpack_from("<%dq" % rank, blob, pos)
        pos += 8 * rank
        npdt = np.int64 if dtype == 1 else np.float32
        size = int(np.prod(shape)) if rank else 1
        arr = np.frombuffer(blob, dtype=npdt, count=size, offset=pos).reshape(shape)
        pos += size * 8 if dtype == 1 else size * 4
        tensors[name] = torch.from_numpy(arr.copy())
    return card, tensors


class ResBlock(torch.nn.Module):
    def __init__(self, cin, cout, project=False):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.skip = None
        if cin != cout or project:
            self.skip = torch.nn.Conv2d(cin, cout, 1, bias=False)
            self.skip_bn = torch.nn.BatchNorm2d(cout)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = self.skip_bn(self.skip(x)) if self.skip is not None else x
        return F.relu(y + s)


class ResUNet(torch.nn.Module):
    def __init__(self, bands, width, depth):
        super().__init__()
        self.depth = depth
        setattr(self, "enc0", ResBlock(bands, width, True))
        for i in range(1, depth + 1):
            setattr(self, "enc%d" % i, ResBlock(width << (i - 1), width << i))
        for i in range(depth, 0, -1):
            ci, cp = width << i, width << (i - 1)
            setattr(self, "up%d" % (i - 1), torch.nn.ConvTranspose2d(ci, cp, 2, stride=2))
            setattr(self, "dec%d" % (i - 1), ResBlock(2 * cp, cp))
        self.head = torch.nn.Conv2d(width, 3, 1)

    def forward(self, x):
        skips = []
        y = self.enc0(x)
        for i in range(1, self.depth + 1):
            skips.append(y)
            y = getattr(self, "enc%d" % i)(F.max_pool2d(y, 2))
        for i in range(self.depth, 0, -1):
            y = getattr(self, "up%d" % (i - 1))(y)
            y = getattr(self, "dec%d" % (i - 1))(torch.cat([y, skips[i - 1]], 1))
        return self.head(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("image")
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tile", type=int, default=512)
    ap.add_argument("--halo", type=int, default=64)
    ap.add_argument("--t-ext", type=float, default=0.4)
    ap.add_argument("--h", type=float, default=0.1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    t = {}
    t0 = time.perf_counter()

    card, tensors = read_model(a.model)
    arch = card["architecture"]
    net = ResUNet(len(card["input_bands"]), arch["width"], arch["depth"])
    missing = net.load_state_dict(tensors, strict=False)
    assert not missing.missing_keys, missing.missing_keys
    net.eval()
    t["load_model"] = time.perf_counter() - t0

    s = time.perf_counter()
    with rasterio.open(a.image) as src:
        img = src.read(list(range(1, len(card["input_bands"]) + 1))).astype(np.float32)
        transform, crs = src.transform, src.crs
    t["read"] = time.perf_counter() - s

    s = time.perf_counter()
    step = max(1, max(img.shape[1:]) // 1024)
    for b in range(img.shape[0]):
        lo, hi = np.percentile(img[b, ::step, ::step], [2, 98])
        img[b] = np.clip((img[b] - lo) / max(hi - lo, 1e-6), -1, 2)
    t["normalise"] = time.perf_counter() - s

    s = time.perf_counter()
    _, H, W = img.shape
    prob = np.zeros((3, H, W), np.float32)
    core = a.tile - 2 * a.halo
    with torch.no_grad():
        for y in range(0, H, core):
            for x in range(0, W, core):
                y0, x0 = max(0, y - a.halo), max(0, x - a.halo)
                y1, x1 = min(H, y + core + a.halo), min(W, x + core + a.halo)
                tile = torch.from_numpy(img[:, y0:y1, x0:x1]).unsqueeze(0)
                ph, pw = (-tile.shape[2]) % 16, (-tile.shape[3]) % 16
                out = torch.sigmoid(net(F.pad(tile, (0, pw, 0, ph))))[0].numpy()
                cy, cx = y - y0, x - x0
                ch, cw = min(core, H - y), min(core, W - x)
                prob[:, y:y + ch, x:x + cw] = out[:, cy:cy + ch, cx:cx + cw]
    t["network"] = time.perf_counter() - s

    s = time.perf_counter()
    lab = instances(prob[0], prob[1], prob[2], a.t_ext, a.h, 1.0).astype(np.int32)
    t["instances"] = time.perf_counter() - s

    s = time.perf_counter()
    mem = gdal.GetDriverByName("MEM").Create("", W, H, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(transform.to_gdal())
    mem.SetProjection(crs.to_wkt())
    mem.GetRasterBand(1).WriteArray(lab)
    srs = osr.SpatialReference(wkt=crs.to_wkt())
    drv = ogr.GetDriverByName("GeoJSON")
    if os.path.exists(a.out):
        drv.DeleteDataSource(a.out)
    vds = drv.CreateDataSource(a.out)
    layer = vds.CreateLayer("fields", srs=srs)
    layer.CreateField(ogr.FieldDefn("label", ogr.OFTInteger))
    band = mem.GetRasterBand(1)
    gdal.Polygonize(band, band, layer, 0, [], callback=None)
    layer = None  # the layer before its data source: GDAL's bindings crash the other way round
    vds = None  # closes and flushes the GeoJSON file
    t["polygons_and_write"] = time.perf_counter() - s
    with open(a.out) as f:  # GetFeatureCount() is 0 while the GeoJSON writer is open
        fields = len(json.load(f)["features"])

    total = time.perf_counter() - t0
    print(json.dumps({"seconds": {k: round(v, 2) for k, v in t.items()}, "total_s": round(total, 2),
                      "mpx": round(H * W / 1e6, 2), "mpx_per_s": round(H * W / 1e6 / total, 3),
                      "fields": fields, "threads": a.threads}))


if __name__ == "__main__":
    main()
