#!/usr/bin/env bash
# The full benchmark in the background: 100 and 1,000 (both modes), then 10,000 (embedded). Log: bench/work/full.log
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/work
.venv/bin/python -m bench.run --sizes 100,1000 --modes embedded,server
.venv/bin/python -m bench.run --sizes 10000 --modes embedded
