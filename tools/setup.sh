#!/usr/bin/env bash
# Installs fieldseg's Debian 12 packages (only when something is missing), then configures and builds
# in Release into ./build. Idempotent; run as root (or with sudo available) on a fresh Debian 12 host.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(cmake g++ make pkg-config libtorch-dev libdnnl-dev libgdal-dev gdal-bin libopencv-dev libtbb-dev
  libproj-dev libgtest-dev nlohmann-json3-dev libcli11-dev python3 python3-gdal python3-numpy
  python3-scipy python3-shapely python3-skimage slurm-wlm munge clang-format)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/tmp/fieldseg-apt.log 2>&1 || { tail -30 /tmp/fieldseg-apt.log >&2; exit 1; }
fi

BUILD_DIR=${FIELDSEG_BUILD_DIR:-build}
JOBS=${FIELDSEG_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" 2>&1 | grep -Ev '^\[ *[0-9]+%\]' || true
test -x "$BUILD_DIR/tools/fieldseg" || { echo "setup: build failed" >&2; exit 1; }
echo "setup: built $BUILD_DIR/tools/fieldseg ($("$BUILD_DIR/tools/fieldseg" --version))" >&2
