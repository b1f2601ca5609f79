#!/usr/bin/env python3
"""Independent marker-controlled watershed (scikit-image) on fieldseg probability rasters.

The reference the [smallholder] cross-check compares fieldseg's own instances with: markers are the
h-maxima of the Gaussian-smoothed distance band, flooded over the boundary band inside
extent > T_EXT (skimage.segmentation.watershed), regions under MIN_AREA_M2 dropped; polygons are
written as RFC 7946 GeoJSON (lon/lat) for `fieldseg evaluate`.

Usage: skimage_instances.py PROB.tif OUT.geojson [--t-ext 0.4] [--h 0.1] [--sigma 1] [--min-area-m2 100]
PROB.tif: 3 bands extent, boundary, distance (Byte 0..255, or Float32 0..1), as
`fieldseg delineate --probabilities` writes.
"""
import argparse
import json

import numpy as np
from osgeo import gdal, ogr, osr
from scipy import ndimage
from skimage import morphology, segmentation

gdal.UseExceptions()


def instances(ext, bnd, dst, t_ext, h, sigma):
    d = ndimage.gaussian_filter(dst, sigma) if sigma > 0 else dst
    markers = ndimage.label(morphology.h_maxima(d, h) & (ext > t_ext))[0]
    return segmentation.watershed(bnd, markers, mask=ext > t_ext)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("prob")
    ap.add_argument("out")
    ap.add_argument("--t-ext", type=float, default=0.4)
    ap.add_argument("--h", type=float, default=0.1)
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--min-area-m2", type=float, default=100)
    a = ap.parse_args()
    ds = gdal.Open(a.prob)
    arr = ds.ReadAsArray().astype(np.float64)
    if ds.GetRasterBand(1).DataType == gdal.GDT_Byte:
        arr /= 255.0
    lab = instances(arr[0], arr[1], arr[2], a.t_ext, a.h, a.sigma).astype(np.int32)
    gt = ds.GetGeoTransform()
    mem = gdal.GetDriverByName("MEM").Create("", ds.RasterXSize, ds.RasterYSize, 1, gdal.GDT_Int32)
    mem.SetGeoTransform(gt)
    mem.SetProjection(ds.GetProjection())
    mem.GetRasterBand(1).WriteArray(lab)
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    vds = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = vds.CreateLayer("f", srs=srs)
    layer.CreateField(ogr.FieldDefn("label", ogr.OFTInteger))
    band = mem.GetRasterBand(1)
    gdal.Polygonize(band, band, layer, 0, [], callback=None)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(srs, wgs)
    # Mercator area scale: keep the area test in ground metres (EPSG:3857 inflates by 1/cos^2 lat).
    feats = []
    for f in layer:
        g = f.GetGeometryRef().Clone()
        g.Transform(tr)
        lat = g.Centroid().GetY()
        merc = srs.GetAuthorityCode(None) == "3857"
        area_m2 = f.GetGeometryRef().GetArea() * (np.cos(np.radians(lat)) ** 2 if merc else 1.0)
        if area_m2 < a.min_area_m2:
            continue
        feats.append({"type": "Feature", "properties": {"id": len(feats) + 1},
                      "geometry": json.loads(g.ExportToJson())})
    with open(a.out, "w") as fo:
        json.dump({"type": "FeatureCollection", "features": feats}, fo)


if __name__ == "__main__":
    main()
