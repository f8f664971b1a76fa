#!/usr/bin/env bash
# bench/gpu.sh: every benchmark on WebGPU next to its PyTorch CUDA twin, on a GPU host with no
# internet (and maybe no Node and no Vulkan loader: the pack carries both).
#   bench/gpu.sh --pack      here, from the repo root after npm ci: bundle Node, the webgpu addon,
#                            the Vulkan loader and the benchmarks into .gpu-bundle/ (git-ignored)
#   bash bench/gpu.sh        on the GPU host, from the repo root: run them all (about 3 minutes)
#   bench/gpu.sh --small     here: the same run at small sizes on the software adapter (llvmpipe),
#                            PyTorch on the CPU: tests the script end to end
# Each workload has its own time limit; results land in bench/results/gpu-*.json as each finishes
# (and in $OUT when set), the log in bench/results/gpu-run.log. Ends with one line per workload,
# `<workload> <ours ms> <pytorch ms> <ratio>`, and the GPU dispatches per step before and after fusion.
# INTRODL_GPU_PACK overrides the pack script (default: ../shared/gpu/pack.sh beside the repo).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
bundle=.gpu-bundle
mode=run
small=
for arg in "$@"; do
  case "$arg" in
    --pack) mode=pack ;;
    --small) small=1 ;;
    --inner) mode=inner ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench/gpu.sh: unknown flag $arg (use --pack, --small or none)" >&2; exit 2 ;;
  esac
done
ENTRIES="bench/core-matmul.ts bench/lab1-lstm-step.ts bench/lab2-cnn-step.ts bench/lab3-lora-step.ts bench/lab1-lstm-jax.ts bench/gpu-summary.ts"

case "$mode" in
pack)
  pack=${INTRODL_GPU_PACK:-$here/../../shared/gpu/pack.sh}
  [ -f "$pack" ] || { echo "bench/gpu.sh: no pack script at $pack (set INTRODL_GPU_PACK)" >&2; exit 2; }
  [ -d node_modules/webgpu ] || { echo "bench/gpu.sh: run npm ci first" >&2; exit 2; }
  rm -rf "$bundle"
  # shellcheck disable=SC2086
  bash "$pack" "$bundle" $ENTRIES || exit 1
  # The NVIDIA Vulkan driver (libGLX_nvidia.so.0) needs GLVND's libraries beside the loader: without
  # them an H200 host answered "vkCreateInstance: Found no drivers!". run.sh unpacks every .deb here.
  lists=$(mktemp -d); mkdir -p "$lists/partial"
  o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
  # shellcheck disable=SC2086
  apt-get $o update -qq >/dev/null 2>&1
  # shellcheck disable=SC2086
  (cd "$bundle/debs" && apt-get $o download -qq libglvnd0 libgl1 libglx0 libegl1 libopengl0 libgles2 >/dev/null 2>&1) ||
    echo "warning: could not download the GLVND .debs into $bundle/debs" >&2
  rm -rf "$lists"
  ls "$bundle"/debs/libvulkan1*.deb >/dev/null 2>&1 || echo "warning: no Vulkan loader .deb in $bundle/debs (apt download failed?)" >&2
  echo "packed $bundle: carry it with the working tree, then run: bash bench/gpu.sh"
  exit 0 ;;
run)
  [ -f "$bundle/run.sh" ] || { echo "bench/gpu.sh: no $bundle: run bench/gpu.sh --pack first (after npm ci)" >&2; exit 2; }
  mkdir -p bench/results
  if [ -n "$small" ]; then
    # Here, on the software adapter: unpack the bundle and use its Node, but leave this machine's
    # libraries alone (run.sh installs the Vulkan loader system-wide, which llvmpipe does not need).
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
    tar -C "$dir" -xJf "$bundle/bundle.tar.xz"
    PATH="$dir:$PATH" GPU_DIR="$dir" bash "$0" --inner --small 2>&1 | tee bench/results/gpu-run.log
  else
    bash "$bundle/run.sh" bash "$0" --inner 2>&1 | tee bench/results/gpu-run.log
  fi
  [ -n "${OUT:-}" ] && cp bench/results/gpu-* "$OUT"/ 2>/dev/null
  exit 0 ;;
esac

# --inner: the bundle's node is first on PATH and its entries are in $GPU_DIR.
# run.sh puts the unpacked bundle (node and the entries) first on PATH.
G=${GPU_DIR:-$(dirname "$(command -v node)")}
R=bench/results
start=$SECONDS
echo "node $(node --version) from $(command -v node); started $(date -u +%FT%TZ)"
if [ -n "$small" ]; then
  export INTRODL_WEBGPU=software
  MATMUL="--sizes 256 --repeats 2"
  LAB1="--batch 2 --units 64 --seq 20 --repeats 1 --warmup 1"
  LAB2="--batch 4 --repeats 1 --warmup 1"
  LAB3="--seq 64 --repeats 1 --warmup 1 --skip-generate"
  JAX="--batch 2 --seq 10 --units 32 --repeats 1"
  PY_MATMUL="--sizes 256"; PY_LAB1="--batch 2 --units 64 --seq 20 --repeats 1"; PY_LAB2="--batch 4 --repeats 1 --warmup 1"
  PY_LAB3="--seq 64 --repeats 1"
else
  export INTRODL_WEBGPU=hardware   # a software adapter would measure nothing useful
  MATMUL="--sizes 1024,4096 --repeats 5"
  LAB1="--repeats 5 --warmup 2"
  LAB2="--repeats 10 --warmup 3"
  LAB3="--seq 512 --repeats 5 --warmup 2"
  JAX="--batch 8 --seq 100 --units 1024 --repeats 3"
  PY_MATMUL="--sizes 1024,4096"; PY_LAB1="--repeats 10"; PY_LAB2="--repeats 20"; PY_LAB3="--seq 512 --repeats 10"
fi

# step NAME LIMIT_SECONDS COMMAND...: runs one workload under a time limit, keeps going whatever
# happens; all of them together stay within BUDGET seconds (the GPU call's limit is 10 minutes).
BUDGET=${INTRODL_GPU_BUDGET:-500}
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - (SECONDS - start)))
  echo
  if [ "$left" -lt 15 ]; then
    echo "!! $name: skipped (the run's ${BUDGET}s budget is spent)"
    return 0
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s, elapsed $((SECONDS - start))s)"
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  case $rc in
    0) ;;
    124 | 137) echo "!! $name: stopped after ${limit}s" ;;
    *) echo "!! $name: failed (exit $rc)" ;;
  esac
  [ -n "${OUT:-}" ] && cp "$R"/gpu-* "$OUT"/ 2>/dev/null
  return 0
}

# shellcheck disable=SC2086
{
  step core-matmul 60 node "$G/core-matmul.mjs" --backends webgpu $MATMUL --out "$R/gpu-core-matmul.json"
  step lab1-lstm-step 120 node "$G/lab1-lstm-step.mjs" --backends webgpu --variants fused,tfops $LAB1 --out "$R/gpu-lab1-lstm-step.json"
  step lab2-cnn-step 90 node "$G/lab2-cnn-step.mjs" --variants webgpu,webgpu-stock $LAB2 --out "$R/gpu-lab2-cnn-step.json"
  step lab3-lora-step 120 node "$G/lab3-lora-step.mjs" --backends webgpu --config stories260k $LAB3 --out "$R/gpu-lab3-lora-step.json"
  step lab1-lstm-jax 60 node "$G/lab1-lstm-jax.mjs" $JAX --out "$R/gpu-lab1-lstm-jax.json"
}

# PyTorch twins: CUDA when a python3 with torch sees a GPU; with --small, torch on the CPU will do.
py=
device=cuda
for candidate in python3 /usr/bin/python3; do
  if "$candidate" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    py=$candidate; break
  fi
done
if [ -z "$py" ] && [ -n "$small" ]; then
  for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import torch' 2>/dev/null; then py=$candidate; device=cpu; break; fi
  done
fi
if [ -z "$py" ]; then
  echo
  echo "pytorch: not available (no python3 with torch and CUDA here)"
else
  echo
  echo "pytorch: $("$py" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu")') ($py, --device $device)"
  threads=
  [ "$device" = cpu ] && threads="--threads 1:2"
  # shellcheck disable=SC2086
  {
    step pytorch-core-matmul 45 "$py" bench/reference/core_matmul.py --device "$device" $PY_MATMUL $threads --out "$R/gpu-core-matmul-pytorch.json"
    step pytorch-lab1-lstm-step 45 "$py" bench/reference/lab1_lstm_step.py --device "$device" $PY_LAB1 $threads --out "$R/gpu-lab1-lstm-step-pytorch.json"
    step pytorch-lab2-cnn-step 45 "$py" bench/reference/lab2_cnn_step.py --device "$device" $PY_LAB2 --out "$R/gpu-lab2-cnn-step-pytorch.json"
    step pytorch-lab3-lora-step 45 "$py" bench/reference/lab3_lora_step.py --device "$device" $PY_LAB3 $threads --out "$R/gpu-lab3-lora-step-pytorch.json"
  }
fi

echo
echo "== summary (elapsed $((SECONDS - start))s)"
node "$G/gpu-summary.mjs" "$R"
[ -n "${OUT:-}" ] && cp "$R"/gpu-* "$OUT"/ 2>/dev/null
exit 0
