#!/usr/bin/env bash
# The GPU benchmark in one script.
#   bench/gpu/run.sh publish   here (needs the .NET SDK): a self-contained linux-x64 build of KilnGpuBench into
#                              bench/gpu/out (single file plus the kernel bundles; checked to stay under 60 MB)
#   bench/gpu/run.sh device    on the GPU machine (no SDK needed): checks every CUDA op and gradient against the CPU,
#                              times Kiln (eager and compiled) and PyTorch (eager and torch.compile) on the same GPU,
#                              prints one table and writes it to bench/RESULTS.md
#   bench/gpu/run.sh           both, when the SDK and a GPU are on the same machine
# `--small` runs every size tiny (with KILN_CUDA_EMULATOR=1 it exercises the whole script on ILGPU's CPU emulator).
set -euo pipefail
cd "$(dirname "$0")"
mode="${1:-all}"
small=""
for a in "$@"; do [[ "$a" == "--small" ]] && small="--small"; done
out="$PWD/out"

publish() {
  rm -rf "$out"
  dotnet publish KilnGpuBench -c Release -r linux-x64 --self-contained -p:PublishSingleFile=true \
    -p:IncludeNativeLibrariesForSelfExtract=true -p:EnableCompressionInSingleFile=true -p:DebugType=none -o "$out" >/dev/null
  size=$(du -sm "$out" | cut -f1)
  echo "published $(ls "$out" | tr '\n' ' ')(${size} MB)"
  if (( size >= 60 )); then echo "run.sh: the publish is ${size} MB, over the 60 MB budget" >&2; exit 1; fi
}

device() {
  [[ -x "$out/KilnGpuBench" ]] || { echo "run.sh: no publish in $out (run 'bench/gpu/run.sh publish' first)" >&2; exit 1; }
  local name
  name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo "emulated cuda:0")
  export KILN_GPU_NAME="$name"
  echo "== check (every CUDA op and gradient against the CPU)"
  set +e
  "$out/KilnGpuBench" check $small | tee "$out/check.txt"
  failures=${PIPESTATUS[0]}
  set -e
  echo "== Kiln"
  "$out/KilnGpuBench" bench $small | tee "$out/kiln.json"
  echo "== PyTorch"
  if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    python3 torch_gpu.py $small | tee "$out/torch.json"
  else
    echo '{"error": "no PyTorch with CUDA here"}' | tee "$out/torch.json"
  fi
  python3 table.py "$out/kiln.json" "$out/torch.json" "$out/check.txt" "$failures" | tee "$out/table.md"
  python3 table.py --write ../RESULTS.md "$out/table.md"
}

case "$mode" in
  publish) publish ;;
  device) device ;;
  all|--small) publish; device ;;
  *) echo "usage: bench/gpu/run.sh [publish|device] [--small]" >&2; exit 2 ;;
esac
