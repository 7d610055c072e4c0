#!/usr/bin/env bash
# On a machine with a GPU: the CUDA tests, then the throughput benchmark on CUDA, in under five
# minutes; the benchmark's JSON and Markdown land in ${OUT:-runs/gpu}.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-runs/gpu}
mkdir -p "$out"
python -c "import torch; assert torch.cuda.is_available(), 'no GPU visible to torch'; print(torch.cuda.get_device_name())"
timeout 240 python -m pytest -m cuda -q -p no:cacheprovider tests/test_cuda.py 2>&1 | tee "$out/tests.log"
timeout 240 python -m benchmarks --quick --only throughput --configs handwritten,reverse,taylor,compiled \
    --device cuda --out "$out" 2>&1 | tee "$out/benchmark.log"
