"""Memory and time of ``lstmlab inspect`` against the number of tokens T, in one run.

The model: a word-level LSTM as PyTorch's word-language-model example builds it (nn.Embedding
of 1,000 tokens x 32, a 1-layer nn.LSTM with H = 64, a decoder), saved as a state dict; the
input: T random token ids (``--ids``), T = 300, 1,000, 3,000, 10,000. Each T runs
``inspect_model`` in a fresh Python process (so each peak is its own); the process reports its
peak resident memory (ru_maxrss) and the wall time of ``inspect_model`` (load, trace, every
figure and page written). The import-only peak is printed first: the growth above it is what
inspect itself needs.

    python benchmarks/bench_inspect.py [--quick] [--steps 300 1000 3000 10000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
import torch
from lstmlab.reports import inspect_model
folder, steps = Path(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(1)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ids = " ".join(map(str, torch.randint(0, 1000, (steps,),
                                      generator=torch.Generator().manual_seed(0)).tolist()))
if steps:
    start = time.perf_counter()
    inspect_model(folder / "model.pt", ids=ids, out=folder / f"report{steps}")
    seconds = time.perf_counter() - start
else:
    seconds = 0.0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"steps": steps, "seconds": seconds, "peak_mb": peak / 1024,
                  "import_mb": before / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[300, 1000, 3000, 10000])
    parser.add_argument("--quick", action="store_true", help="T = 300 and 1,000 only")
    args = parser.parse_args()
    if args.quick:
        args.steps = [300, 1000]
    import torch
    from torch import nn

    folder = Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    torch.manual_seed(0)
    model = nn.ModuleDict({"encoder": nn.Embedding(1000, 32), "rnn": nn.LSTM(32, 64),
                           "decoder": nn.Linear(64, 1000)})
    torch.save(model.state_dict(), folder / "model.pt")
    rows = []
    for steps in [0, *args.steps]:
        done = subprocess.run([sys.executable, "-c", CHILD, str(folder), str(steps)],
                              capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = rows[0]["peak_mb"]
    print(f"imports alone: peak {base:.0f} MB")
    print(f"{'T':>7} {'time s':>8} {'peak MB':>8} {'above imports MB':>17} {'s per 1k tokens':>16}")
    for row in rows[1:]:
        print(f"{row['steps']:>7} {row['seconds']:>8.1f} {row['peak_mb']:>8.0f} "
              f"{row['peak_mb'] - base:>17.0f} {1000 * row['seconds'] / row['steps']:>16.2f}")


if __name__ == "__main__":
    main()
