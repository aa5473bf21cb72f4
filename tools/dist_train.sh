#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [tools/train.py options]
#
# Starts NPROC training processes on this node with torchrun: one per GPU (nccl), or, on a machine
# without CUDA, NPROC CPU processes (gloo). Multi-node (see README, "Multi-node training"): run it on
# every node with NNODES and either NODE_RANK + MASTER_ADDR + PORT (static rendezvous) or
# RDZV_ENDPOINT=host:port (+ RDZV_ID) for torchrun's c10d rendezvous.
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${RDZV_ENDPOINT:-}" ]; then
  RENDEZVOUS=(--rdzv-backend=c10d --rdzv-endpoint="$RDZV_ENDPOINT" --rdzv-id="${RDZV_ID:-mmmofme}")
else
  RENDEZVOUS=(--node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}"
              --master_port="${PORT:-29500}")
fi
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
"${TORCHRUN:-torchrun}" --nnodes="$NNODES" "${RENDEZVOUS[@]}" --nproc_per_node="$NPROC" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "${@:3}"
