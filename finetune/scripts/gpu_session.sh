#!/usr/bin/env bash
# The GPU lease that trained the shipped note adapters (2 × H200, November 2026), with the project's own
# `python -m finetune` code, unchanged between CPU, one GPU and two. Three parts, each started in the background
# as soon as its inputs were on the machine:
#   gpu0: Qwen2.5-Coder-0.5B LoRA (1 GPU) → notes for the valid sets (bf16) → un-tuned 0.5B and 1.5B
#   gpu1: Qwen2.5-Coder-1.5B LoRA (1 GPU) → notes for the valid sets
#   x2  : the 0.5B training again on both GPUs (accelerate, 2 processes, the same global batch and schedule), its
#         first 150 steps (--stop-after keeps the full run's schedule), for the loss curves side by side
# Second lease (2 × H200, 2026-11-30; the first lease's 1.5B run was lost to an out-of-memory on a shared GPU):
#   q15x2: Qwen2.5-Coder-1.5B LoRA on both GPUs (the 0.5B's recipe, lr 1e-4 as the probe), then notes for the
#          valid sets, one GPU per set; SmolLM2-135M on the same data and recipe on GPU 1 for the side-by-side table
# Third lease (2 × H200, 2026-11-30, second session): both Qwen models retrained on the corrected corpus (HPI targets
# of 22 ACI notes were empty; finetune/corpus.py), 2 epochs as the probe, the fixed schedule, both GPUs each:
#   r05: Qwen2.5-Coder-0.5B (lr 2e-4)        r15: Qwen2.5-Coder-1.5B (lr 1e-4)
#   gen MODEL(05|15) GPU SETS NAME: notes for the valid sets from the run's adapter (bf16)
# What ran: r05 hung in start-up (started with nohup without setsid: the call's end took the accelerate launcher,
# its two workers slept waiting for the launcher's rendezvous store; GPUs idle for 2 min),
# so the shipped adapters come from s05 and s15 started at once, one GPU each (0.5B 2 epochs 351 s, 1.5B 1 epoch
# 308 s), then gen 05 0 aci,aci-asr / gen 05 0 mts / gen 15 1 aci,aci-asr / gen 15 1 mts (4-5 min each, in parallel)
# Usage (on the GPU machine, from a copy of the repo): finetune/scripts/gpu_session.sh PART G05 G15 OUT
# G05/G15: the assembled GGUFs (sha256 checked first); OUT: the run folder; data: SCRIBE_SHARED_DATA.
set -uo pipefail
PART=$1; G05=$2; G15=$3; OUT=$4
mkdir -p "$OUT"
check() { echo "$1  $2" | sha256sum -c - >/dev/null || { echo "sha256 mismatch: $2" >&2; exit 2; }; }
export TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
COMMON="--domain all --epochs 1.5 --lora-r 16 --lora-alpha 32 --max-len 4096 --grad-accum 1 --no-grad-checkpointing --save-every 100"
SETS="aci,aci-asr,mts"
case "$PART" in
gpu0)
  check 1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32 "$G05"
  export CUDA_VISIBLE_DEVICES=0
  python3 -m finetune train --base "$G05" --out "$OUT/q05" --lr 2e-4 --max-batch-tokens 16384 $COMMON
  python3 -m finetune generate --base "$G05" --adapter "$OUT/q05/adapter" --sets $SETS --out "$OUT/pred-q05.json"
  python3 -m finetune generate --base "$G05" --sets aci --out "$OUT/pred-q05-base.json"
  check cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 "$G15"
  python3 -m finetune generate --base "$G15" --sets aci --out "$OUT/pred-q15-base.json" ;;
gpu1)
  check cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 "$G15"
  export CUDA_VISIBLE_DEVICES=1
  # one epoch, not 1.5: on one H200 the 1.5B trains at ~1/3 of the 0.5B's speed and the lease had 30 minutes
  python3 -m finetune train --base "$G15" --out "$OUT/q15" --lr 1e-4 --max-batch-tokens 16384 $COMMON --epochs 1
  python3 -m finetune generate --base "$G15" --adapter "$OUT/q15/adapter" --sets $SETS --out "$OUT/pred-q15.json" ;;
x2)
  # 8,192 tokens per device = the one-GPU run's 16,384-token global batch, batch for batch (same seed)
  accelerate launch --num_processes 2 --num_machines 1 --mixed_precision bf16 --dynamo_backend no -m finetune train \
    --base "$G05" --out "$OUT/q05x2" --lr 2e-4 --max-batch-tokens 8192 $COMMON --save-every 50 --stop-after 150 ;;
q15x2)
  check cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 "$G15"
  accelerate launch --num_processes 2 --num_machines 1 --mixed_precision bf16 --dynamo_backend no -m finetune train \
    --base "$G15" --out "$OUT/q15" --lr 1e-4 --max-batch-tokens 8192 $COMMON
  CUDA_VISIBLE_DEVICES=0 python3 -m finetune generate --base "$G15" --adapter "$OUT/q15/adapter" --sets aci,aci-asr \
    --out "$OUT/pred-q15.json" > "$OUT/gen0.log" 2>&1 &
  ( export CUDA_VISIBLE_DEVICES=1
    python3 -m finetune generate --base "$G15" --adapter "$OUT/q15/adapter" --sets mts --out "$OUT/pred-q15-mts.json"
    if [ -n "${GSMOL:-}" ]; then
      check b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 "$GSMOL"
      python3 -m finetune train --base "$GSMOL" --out "$OUT/smol" --lr 2e-4 --max-batch-tokens 16384 $COMMON
      python3 -m finetune generate --base "$GSMOL" --adapter "$OUT/smol/adapter" --sets aci --out "$OUT/pred-smol.json"
    fi ) > "$OUT/gen1.log" 2>&1
  wait ;;
r05|r15)
  G=$G05; LR=2e-4; [ "$PART" = r15 ] && { G=$G15; LR=1e-4; }
  accelerate launch --num_processes 2 --num_machines 1 --mixed_precision bf16 --dynamo_backend no -m finetune train \
    --base "$G" --out "$OUT/${PART#r}" --lr $LR --max-batch-tokens 8192 $COMMON --epochs 2 ;;
s05|s15)
  M=${PART#s}; G=$G05; LR=2e-4; EP=2; GPU=0; [ "$M" = 15 ] && { G=$G15; LR=1e-4; EP=1; GPU=1; }
  CUDA_VISIBLE_DEVICES=$GPU python3 -m finetune train --base "$G" --out "$OUT/$M" --lr $LR --max-batch-tokens 16384 \
    $COMMON --epochs $EP ;;
gen)
  M=$5; G=$G05; [ "$M" = 15 ] && G=$G15
  CUDA_VISIBLE_DEVICES=$6 python3 -m finetune generate --base "$G" --adapter "$OUT/$M/adapter" --sets "$7" \
    --out "$OUT/pred-$8.json" ;;
*) echo "usage: $0 gpu0|gpu1|x2|q15x2|r05|r15|s05|s15 G05 G15 OUT | gen G05 G15 OUT 05|15 GPU SETS NAME (GSMOL=SmolLM2 GGUF for q15x2)" >&2; exit 2 ;;
esac
echo "$PART finished rc=$?"
