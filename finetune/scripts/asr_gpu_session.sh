#!/usr/bin/env bash
# The GPU run that trained the shipped ASR adapter (finetune/asr_train.py) on one H200 host, in device calls from
# the repo root there (~/x survives while the machine stays warm). The host's python3 has torch, transformers and
# peft; onnx, onnxruntime and soundfile come as cp312 wheels. Everything travels in git-ignored .xfer/ folders:
#   asrw/        the wheels                         (call 1: setup)
#   moond/       manifest.json, decoder_model_merged.ort, tokenizer.bin of models/moonshine-base-en   (call 2: put-model;
#                or inside asr.tar, which join also takes them from)
#   asrp_NN/p*   pieces of asr.tar = encoder_model.ort + the clips of `python -m finetune asr-data`     (put NN)
#   then: join, train NAME GPU [asr-train flags] (background, setsid; two runs side by side on an x2 host),
#   status until done, collect NAME ($OUT: adapter.npz, train_result.json, log)
set -uo pipefail
X=~/x
export PYTHONPATH=$X/site
case "$1" in
setup)
  mkdir -p $X && python3 -m pip install -q --no-index --no-deps --target $X/site .xfer/asrw/*.whl 2>&1 | tail -2
  python3 -c "import torch, transformers, peft, onnx, onnxruntime, soundfile as sf; print('torch', torch.__version__, 'tf', transformers.__version__, 'peft', peft.__version__, 'onnx', onnx.__version__, 'ort', onnxruntime.__version__, 'sf', sf.__libsndfile_version__, torch.cuda.get_device_name(0))"
  nproc ;;
put-model)
  mkdir -p $X/models/moonshine-base-en && cp .xfer/moond/* $X/models/moonshine-base-en/ && ls -la $X/models/moonshine-base-en ;;
put)
  mkdir -p $X/parts && cp .xfer/asrp_$2/p* $X/parts/ && ls $X/parts ;;
join)
  cat $X/parts/p* > $X/asr.tar && sha256sum $X/asr.tar && rm -rf $X/parts && mkdir -p $X/data && tar -xf $X/asr.tar -C $X/data \
    && mkdir -p $X/models/moonshine-base-en && for f in encoder_model.ort decoder_model_merged.ort tokenizer.bin manifest.json; do
         [ -f $X/data/$f ] && mv $X/data/$f $X/models/moonshine-base-en/; done; ls $X/data/asr-data | head && ls $X/data/asr-data/clips | wc -l
  cd $X && python3 - <<'EOF'
import hashlib, json
from pathlib import Path
d = Path("models/moonshine-base-en"); m = json.loads((d / "manifest.json").read_text())
for f in m["files"]:
    print(f["path"], "ok" if hashlib.sha256((d / f["path"]).read_bytes()).hexdigest() == f["sha256"] else "MISMATCH")
EOF
  ;;
train)
  name=$2; gpu=$3; shift 3
  rm -rf $X/repo-$name && mkdir -p $X/repo-$name && cp -r scribe finetune templates pyproject.toml $X/repo-$name/
  (cd $X/repo-$name && CUDA_VISIBLE_DEVICES=$gpu setsid nohup python3 -m finetune asr-train --data $X/data/asr-data \
     --models $X/models --out $X/run-$name "$@" > $X/train-$name.log 2>&1 < /dev/null &)
  sleep 5; tail -3 $X/train-$name.log ;;
status)
  uptime; for f in $X/train-*.log; do echo "== $f"; tail -3 $f; done ;;
collect)
  mkdir -p "$OUT/$2" && cp $X/run-$2/adapter.npz $X/run-$2/train_result.json $X/train-$2.log "$OUT/$2"/ && ls -la "$OUT/$2" ;;
esac
