#!/usr/bin/env python3
"""A real GIS client reads fieldseg's outputs: PyQGIS, headless (QT_QPA_PLATFORM=offscreen).

Usage: qgis_client.py EXPECTED_FIELDS EPSG PROBABILITIES.tif VECTOR...
Checks that every vector file loads as a valid polygon layer with EXPECTED_FIELDS features, all
geometries GEOS-valid, a CRS (EPSG:4326 for GeoJSON and GeoJSONSeq, else EPSG) and a string `id`;
and that the probabilities load as exactly three bands extent, boundary, distance, each with
nodata value 255 and GDAL's 0..1 scale applied. Prints one line per file; exits 1 on the first
failure, 3 when PyQGIS is missing.
"""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
try:
    from qgis.core import QgsApplication, QgsRasterLayer, QgsVectorLayer, QgsWkbTypes
except ImportError as e:  # the caller skips the test
    print(f"PyQGIS is missing: {e}")
    sys.exit(3)

expected, epsg, probs, vectors = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
app = QgsApplication([], False)
app.initQgis()


def leave(code):
    # Skips QGIS's own teardown, which can crash headless after all checks are done.
    sys.stdout.flush()
    os._exit(code)


def fail(msg):
    print("FAIL " + msg)
    leave(1)


for path in vectors:
    layer = QgsVectorLayer(path, os.path.basename(path), "ogr")
    if not layer.isValid():
        fail(f"{path}: QGIS cannot load it")
    if layer.geometryType() != QgsWkbTypes.PolygonGeometry:
        fail(f"{path}: not a polygon layer")
    n = layer.featureCount()
    if n != expected:
        fail(f"{path}: {n} features, expected {expected}")
    want = "EPSG:4326" if path.endswith((".geojson", ".geojsonl")) else epsg
    if layer.crs().authid() != want:
        fail(f"{path}: CRS {layer.crs().authid()}, expected {want}")
    idx = layer.fields().indexOf("id")
    if idx < 0 or layer.fields().field(idx).typeName().lower() not in ("string", "text", "varchar"):
        fail(f"{path}: no string 'id' field")
    invalid = sum(1 for f in layer.getFeatures() if not f.geometry().isGeosValid())
    if invalid:
        fail(f"{path}: {invalid} invalid geometries")
    print(f"ok {os.path.basename(path)}: {n} polygons, {layer.crs().authid()}")

r = QgsRasterLayer(probs, "probabilities")
if not r.isValid():
    fail(f"{probs}: QGIS cannot load it")
dp = r.dataProvider()
names = [r.bandName(b) for b in range(1, r.bandCount() + 1)]
if names != ["Band 1: extent", "Band 2: boundary", "Band 3: distance"]:
    fail(f"{probs}: bands {names}, expected exactly extent, boundary, distance")
for b in range(1, 4):
    if not dp.sourceHasNoDataValue(b) or dp.sourceNoDataValue(b) != 255:
        fail(f"{probs}: band {b} has no nodata value 255 (QGIS would draw nodata as 0)")
stats = dp.bandStatistics(1)
if not (0 <= stats.minimumValue and stats.maximumValue <= 1.0 + 1e-6):
    fail(f"{probs}: extent band spans {stats.minimumValue}..{stats.maximumValue}, not 0..1 "
         "(GDAL scale/offset not applied)")
print(f"ok {os.path.basename(probs)}: {names}, extent {stats.minimumValue:.3f}.."
      f"{stats.maximumValue:.3f}")
leave(0)
