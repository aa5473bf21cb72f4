#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NPROC [tools/train.py options]
#
# Starts NPROC training processes on this node with torchrun: one per GPU (nccl), or, on a machine
# without CUDA, NPROC CPU processes (gloo). Multi-node (see README, "Multi-node training"): run it on
# every node with NNODES and either NODE_RANK + MASTER_ADDR + PORT (static rendezvous) or
# RDZV_ENDPOINT=host:port (+ RDZV_ID) for torchrun's c10d rendezvous.
set -euo pipefail
source "$(dirname "$0")/torchrun_launch.sh"
NPROC=$2
torchrun_launch train.py "$1" "${@:3}"
