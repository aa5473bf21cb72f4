#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py options]
#
# Evaluates with NPROC processes on this node (one per GPU, or gloo CPU processes without CUDA); the
# metrics are computed over the results of all processes, so they equal a 1-process evaluation.
# Multi-node: as tools/dist_train.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT or RDZV_ENDPOINT).
set -euo pipefail
source "$(dirname "$0")/torchrun_launch.sh"
NPROC=$3
torchrun_launch test.py "$1" "$2" "${@:4}"
