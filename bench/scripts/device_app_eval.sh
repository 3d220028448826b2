#!/usr/bin/env bash
# The app-path note eval (bench/eval_notes.py: the shipped int8 exports through scribe.notes.generate, onnxruntime-
# genai on CPU, 2 threads a process) on the GPU host's CPU cores, because the full valid sets take ~3 CPU-hours
# per model on this project's 2-core machine. Only the generation moves; scoring runs back here from the notes
# (`bench/eval_notes.py --from-notes`). The exports travel byte for byte (split, joined, verified there by the
# app's own manifest check when each process loads the model), so the figures are the shipped files'.
#
# Parts (each one device call, from the repo root there; ~/x survives while the machine stays warm):
#   setup            venv over the system python + the cp312 wheels in .xfer/wh312 (+ .xfer/wh312np), data
#   meta             keep .xfer/meta (common/: the shared tokenizer.json; one folder a model: its small ignored
#                    files, and all of them for an export that is not in the repo) in ~/x/meta
#   put PART PIECE   append .xfer/PART_PIECE/p* to ~/x/parts/PART/
#   join NAME PART META  ~/x/models/NAME = models/NAME's tracked files + ~/x/meta/{common,META} + the pieces
#   run NAME SHARDS  start SHARDS background processes (setsid: a call's end must not take them), each every
#                    SHARDS-th item of aci, aci-asr, mts; SCRIBE_NOTE_NUMBERS and SETS pass through
#   status / collect  progress; copy finished shard files to $OUT
set -uo pipefail
X=~/x
PY=$X/venv/bin/python
case "$1" in
setup)
  python3 -m venv --system-site-packages $X/venv
  $PY -m pip install -q --no-index --find-links .xfer/wh312 ${WHEELS_NP:+--find-links .xfer/wh312np} \
    onnxruntime==1.32.0 onnxruntime-genai==0.18.0 jsonschema pyyaml tqdm psutil
  rm -rf $X/data && cp -r .dev/data $X/data
  $PY -c "import numpy, onnxruntime, onnxruntime_genai as og; print('numpy', numpy.__version__, 'ort', onnxruntime.__version__, 'og', og.__version__)"
  nproc; free -g | head -2 ;;
meta)
  rm -rf $X/meta && cp -r .xfer/meta $X/meta && ls -R $X/meta ;;
put)
  mkdir -p $X/parts/$2 && cp .xfer/$2_$3/p* $X/parts/$2/ && ls $X/parts/$2 | wc -l ;;
join)
  NAME=$2; PART=$3; META=$4; D=$X/models/$NAME
  rm -rf $D && mkdir -p $D && { cp models/$NAME/* $D/ 2>/dev/null; cp $X/meta/common/* $X/meta/$META/* $D/; }
  cat $X/parts/$PART/p* > $D/model.onnx.data && rm -rf $X/parts/$PART
  $PY - "$D" <<'EOF'
import hashlib, json, sys
from pathlib import Path
d = Path(sys.argv[1]); m = json.loads((d / "manifest.json").read_text())
for f in m["files"]:
    h = hashlib.sha256((d / f["path"]).read_bytes()).hexdigest()
    print(f["path"], "ok" if h == f["sha256"] else f"MISMATCH {h}")
EOF
  ;;
run)
  NAME=$2; N=$3; TAG=${SCRIBE_NOTE_NUMBERS:-said}
  rm -rf $X/repo-$NAME-$TAG && mkdir -p $X/repo-$NAME-$TAG && cp -r bench finetune scribe templates pyproject.toml $X/repo-$NAME-$TAG/
  ln -s $X/models $X/repo-$NAME-$TAG/models     # the benches read ROOT/models
  mkdir -p $X/shards $X/logs
  for k in $(seq 0 $((N - 1))); do
    (cd $X/repo-$NAME-$TAG && SCRIBE_MODELS=$X/models SCRIBE_SHARED_DATA=$X/data SCRIBE_HOME=$X/home-$k \
      setsid nohup $PY bench/eval_notes.py --model $NAME --threads 2 --shard $k/$N --notes-dir $X/shards --sets ${SETS:-aci,aci-asr,mts} \
      > $X/logs/$NAME-$TAG-$k.log 2>&1 < /dev/null &)
  done
  sleep 2; pgrep -fc "[e]val_notes.py" ;;
status)
  uptime; pgrep -fc "[e]val_notes.py"; ls $X/shards 2>/dev/null
  for f in $X/logs/*.log; do echo "$f: $(tr '\r' '\n' < $f | grep -a 'note' | tail -1)"; done ;;
collect)
  cp $X/shards/*.json "$OUT"/ && ls -la "$OUT" ;;
esac
