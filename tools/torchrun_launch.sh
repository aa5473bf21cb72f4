# Sourced by dist_train.sh / dist_test.sh: torchrun_launch SCRIPT [ARGS...] starts NPROC copies of
# tools/SCRIPT on this node. Environment: NPROC (set by the caller), NNODES (1), and either NODE_RANK
# (0), MASTER_ADDR (127.0.0.1), PORT (29500) for a static rendezvous, or RDZV_ENDPOINT=host:port
# (+ RDZV_ID) for torchrun's c10d rendezvous; TORCHRUN overrides the torchrun executable.
torchrun_launch() {
  local root rendezvous
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  if [ -n "${RDZV_ENDPOINT:-}" ]; then
    rendezvous=(--rdzv-backend=c10d --rdzv-endpoint="$RDZV_ENDPOINT" --rdzv-id="${RDZV_ID:-mmmofme}")
  else
    rendezvous=(--node_rank="${NODE_RANK:-0}" --master_addr="${MASTER_ADDR:-127.0.0.1}"
                --master_port="${PORT:-29500}")
  fi
  PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" \
  "${TORCHRUN:-torchrun}" --nnodes="${NNODES:-1}" "${rendezvous[@]}" --nproc_per_node="$NPROC" \
    "$root/tools/$1" "${@:2}" --launcher pytorch
}
