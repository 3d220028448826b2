#!/usr/bin/env bash
# How the committed adapters (finetune/adapters/{clinical,legal}/) were trained: the unchanged pipeline on one CUDA
# GPU (H100 via the workplace's device tool). Inputs: the SmolLM2 GGUF in two parts (the transfer limit is 64 MiB)
# and the gguf wheel; outputs under $OUT. The legal run goes through torchrun to show the distributed launch path:
#   torchrun --nproc_per_node N -m finetune train ...   (or: accelerate launch --num_processes N -m finetune train ...)
set -euo pipefail
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .gpu2/*.whl
export PYTHONPATH=/tmp/site:$PWD
B=/tmp/b/SmolLM2-135M-Instruct.Q4_1.gguf
cat /tmp/b/part_a .gpu2/part_b > $B
echo "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53  $B" | sha256sum -c
python3 -c "import torch, transformers, peft; print(torch.__version__, transformers.__version__, peft.__version__, torch.cuda.get_device_name())"
COMMON="--base $B --epochs ${EPOCHS:-2} --batch-size 16 --grad-accum 1 --lr 5e-4 --lora-r 8 --lora-alpha 16 --max-len 1024 --save-every 200 --no-grad-checkpointing --seed 0"
python3 -m finetune train --out /tmp/runs/clinical --domain clinical --pairs ${CLIN_PAIRS:-6000} $COMMON 2>&1 | tr '\r' '\n' | grep -v "GGUF tensors\|Loading weights" | awk 'NR%20==1 || /\[train\]/'
torchrun --nproc_per_node 1 -m finetune train --out /tmp/runs/legal --domain legal --pairs ${LEGAL_PAIRS:-3000} $COMMON 2>&1 | tr '\r' '\n' | grep -v "GGUF tensors\|Loading weights" | awk 'NR%20==1 || /\[train\]/'
for d in clinical legal; do
  mkdir -p $OUT/$d
  cp /tmp/runs/$d/adapter/adapter_model.safetensors /tmp/runs/$d/adapter/adapter_config.json $OUT/$d/
  python3 - "$d" <<'PY'
import json, sys, os
d = sys.argv[1]
r = json.load(open(f"/tmp/runs/{d}/train_result.json")); r["run_config"] = json.load(open(f"/tmp/runs/{d}/run_config.json"))
json.dump(r, open(os.path.join(os.environ["OUT"], d, "train_result.json"), "w"), indent=2)
PY
done
ls -la $OUT/*
