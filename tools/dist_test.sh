#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py options]
#
# Evaluates with NPROC processes on this node (one per GPU, or gloo CPU processes without CUDA); the
# metrics are computed over the results of all processes, so they equal a 1-process evaluation.
# Multi-node: as tools/dist_train.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT or RDZV_ENDPOINT).
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
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
  "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "${@:4}"
