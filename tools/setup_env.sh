#!/usr/bin/env bash
# Builds (or reuses) the project's virtualenv at .venv: torch 2.14.1 from this machine's disk, mmcv 2.1.0
# compiled from source once and cached outside the repo, the OpenMMLab stack with its working pins, and
# `pip install -e .` of mmmofme. Idempotent: a second run with everything in place takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE_DIR="${MMMOFME_CACHE:-$HOME/.cache/mmmofme}"

step() { CURRENT_STEP="$1"; echo "[env] $1"; }
on_error() {
  echo "[env] FAILED at step: ${CURRENT_STEP:-start}." >&2
  echo "[env] Fix the error printed above and run 'make env' again; finished steps are reused." >&2
  echo "[env] To start over: rm -rf .venv (the mmcv wheel cache in $CACHE_DIR is kept)." >&2
}
trap on_error ERR
pip_c() { "$PY" -m pip install --disable-pip-version-check -q -c "$CONSTRAINTS" "$@"; }

# Everything that decides the environment's contents; a change re-runs the install steps.
STAMP_KEY="$(cat "$0" "$CONSTRAINTS" requirements/runtime.txt requirements/tests.txt setup.py | sha256sum | cut -c1-16)"
STAMP="$VENV/.mmmofme-env-$STAMP_KEY"

step "python"
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "[env] Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2; false; }

# The package itself is not imported here: a bug in it belongs to the tests, not to the environment.
HAS_PKG='import importlib.util as u, mmcv; assert u.find_spec("mmmofme")'
if [ -f "$STAMP" ] && "$PY" -c "$HAS_PKG" 2>/dev/null; then
  echo "[env] .venv is up to date ($STAMP_KEY)."
  exit 0
fi

step "virtualenv at .venv"
[ -x "$PY" ] || "$PYTHON" -m venv "$VENV"

step "torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION (from this machine's disk)"
"$PY" -c "import torch, torchvision; assert torch.__version__.startswith('$TORCH_VERSION')" 2>/dev/null \
  || pip_c "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

PYTAG="$("$PY" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
WHEEL_DIR="$CACHE_DIR/wheels/mmcv$MMCV_VERSION-torch$TORCH_VERSION-$PYTAG"

step "mmcv $MMCV_VERSION wheel (cache: $WHEEL_DIR)"
if ! ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  echo "[env] no cached mmcv wheel: compiling from source with CPU ops (12-16 min on 2 cores)"
  # mmcv's setup.py needs pkg_resources-era setuptools; the pin is restored by the next step.
  "$PY" -m pip install --disable-pip-version-check -q "setuptools<70" wheel ninja psutil "numpy<2" \
    "mmengine==0.10.7"
  BUILD="$(mktemp -d)"
  "$PY" -m pip download --disable-pip-version-check -q --no-deps --no-binary :all: \
    "mmcv==$MMCV_VERSION" -d "$BUILD"
  tar -xzf "$BUILD"/mmcv-"$MMCV_VERSION".tar.gz -C "$BUILD"
  # torch 2.14's ATen headers refuse anything older than C++20.
  sed -i 's/-std=c++17/-std=c++20/g' "$BUILD/mmcv-$MMCV_VERSION/setup.py"
  mkdir -p "$WHEEL_DIR.partial"
  (cd "$BUILD/mmcv-$MMCV_VERSION" && MAX_JOBS="${MAX_JOBS:-$(nproc)}" FORCE_CUDA=0 \
    "$PY" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps \
    -w "$WHEEL_DIR.partial" .)
  # Publish the cache entry only once the wheel is complete.
  mkdir -p "$WHEEL_DIR" && mv "$WHEEL_DIR.partial"/mmcv-*.whl "$WHEEL_DIR"/ && rm -rf "$WHEEL_DIR.partial" "$BUILD"
fi
"$PY" -c "import mmcv; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null \
  || pip_c --no-deps "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl

step "OpenMMLab stack (mmengine, mmdet, mmsegmentation, mmagic) and pins"
pip_c -r requirements/runtime.txt -r requirements/tests.txt "setuptools>=77,<82" "numpy<2" \
  "opencv-python<4.11" addict rich yapf termcolor matplotlib
pip_c --no-deps "mmagic==1.2.0"

step "mmmofme (pip install -e .)"
pip_c --no-deps --no-build-isolation -e .

step "import check"
"$PY" - <<'PY'
import warnings
warnings.simplefilter('ignore')
import importlib.util
import mmagic.models, mmseg.models, mmdet.models  # noqa: F401
assert importlib.util.find_spec('mmmofme'), 'mmmofme is not installed in the venv'
from mmcv.ops import nms, RoIAlign  # noqa: F401
import numpy
assert numpy.__version__.startswith('1.'), numpy.__version__
from importlib.metadata import version  # every exact pin of the constraints is what got installed
for line in open('requirements/constraints.txt'):
    pin = line.split('#')[0].strip()
    if '==' in pin:
        name, wanted = pin.split('==')
        got = version(name).split('+')[0]
        assert got == wanted, f'{name} {got} is installed; requirements/constraints.txt pins {wanted}'
PY
rm -f "$VENV"/.mmmofme-env-*
touch "$STAMP"
echo "[env] ready: $VENV"
