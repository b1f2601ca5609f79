#!/usr/bin/env bash
# Splits the 43 Rwanda PlanetScope fields into a west and an east half (fine-tune / evaluate), with
# the same deterministic rule as `fieldseg labels --split west|east`: fields sorted by the longitude
# of their area centroid (EPSG:4326; ties by file order); west = the first floor(n/2), east = the rest.
#
# Usage: tools/split_rwanda.sh OUTDIR [FIELDS.geojson]
# Writes OUTDIR/rwanda_fields_west.geojson and OUTDIR/rwanda_fields_east.geojson (RFC 7946).
# OUTDIR must be a build/temp folder, never the repository's data.
set -euo pipefail
out=${1:?usage: tools/split_rwanda.sh OUTDIR [FIELDS.geojson]}
here=$(cd "$(dirname "$0")/.." && pwd)
fields=${2:-$here/../shared/realdata/rwanda_planetscope/prepared/fields.geojson}
[[ -f $fields ]] || { echo "split_rwanda: fields '$fields' not found. Give the path as 2nd argument." >&2; exit 1; }
mkdir -p "$out"
layer=$(ogrinfo -ro -q "$fields" | sed -n 's/^1: \([^ ]*\).*/\1/p')
n=$(ogrinfo -ro -so "$fields" "$layer" | sed -n 's/^Feature Count: //p')
half=$((n / 2))
order="ORDER BY ST_X(ST_Centroid(ST_Transform(geometry, 4326))), rowid"
ogr2ogr -overwrite -f GeoJSON -lco RFC7946=YES "$out/rwanda_fields_west.geojson" "$fields" \
  -dialect SQLite -sql "SELECT * FROM \"$layer\" $order LIMIT $half" -nln fields_west
ogr2ogr -overwrite -f GeoJSON -lco RFC7946=YES "$out/rwanda_fields_east.geojson" "$fields" \
  -dialect SQLite -sql "SELECT * FROM \"$layer\" $order LIMIT -1 OFFSET $half" -nln fields_east
echo "split_rwanda: $half west + $((n - half)) east fields -> $out/rwanda_fields_{west,east}.geojson" >&2
