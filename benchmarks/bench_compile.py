"""torch.compile on torch.nn.LSTM and on lstmlab's layers: eager vs compiled, same run.

PyTorch's known pain: Dynamo refuses to trace ``nn.LSTM`` (``fullgraph=True`` raises
"Dynamo does not support RNN, GRU, or LSTM"; without it the module runs eagerly behind a graph
break). lstmlab's ``LSTM`` calls the same kernel (``torch._VF.lstm``) as a plain op, so it
compiles with ``fullgraph=True``; the step-loop layers (a variant ``cell=``, ``SLSTM``) are
unrolled into one graph at each sequence length; the parallel ``MinGRU`` is one graph.

For each row: the first call (compilation included) and the median of the steady calls,
forward without grad, (B, T, I, H) = (8, 32, 16, 32) by default, one thread, CPU time of the
process (``--clock wall`` for wall time). Ratios are to eager ``nn.LSTM`` in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from lstmlab.cells import PeepholeLSTMCell
from lstmlab.layers import LSTM, SLSTM, MinGRU


def rows(i: int, h: int) -> dict[str, tuple[nn.Module, bool | None]]:
    """name -> (module, fullgraph: None for eager)."""
    torch.manual_seed(0)
    return {
        "nn.LSTM, eager": (nn.LSTM(i, h), None),
        "nn.LSTM, compile(fullgraph=True)": (nn.LSTM(i, h), True),
        "nn.LSTM, compile()": (nn.LSTM(i, h), False),
        "LSTM (torch's kernel), eager": (LSTM(i, h), None),
        "LSTM (torch's kernel), compile(fullgraph=True)": (LSTM(i, h), True),
        "LSTM(cell=PeepholeLSTMCell), eager": (LSTM(i, h, cell=PeepholeLSTMCell), None),
        "LSTM(cell=PeepholeLSTMCell), compile(fullgraph=True)":
            (LSTM(i, h, cell=PeepholeLSTMCell), True),
        "SLSTM, eager": (SLSTM(i, h), None),
        "SLSTM, compile(fullgraph=True)": (SLSTM(i, h), True),
        "MinGRU, eager": (MinGRU(i, h), None),
        "MinGRU, compile(fullgraph=True)": (MinGRU(i, h), True),
    }


def run_once(module: Callable[[Tensor], object], x: Tensor, now: Callable[[], float]) -> float:
    start = now()
    with torch.no_grad():
        module(x)
    return now() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--size", type=int, nargs=4, default=(8, 32, 16, 32),
                        metavar=("B", "T", "I", "H"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    now = time.process_time if args.clock == "cpu" else time.perf_counter
    B, T, I, H = args.size
    x = torch.randn(T, B, I)
    lines = [f"torch {torch.__version__}, 1 thread, clock {args.clock}, (B, T, I, H) = "
             f"({B}, {T}, {I}, {H}), median of {args.rounds} calls after the first", "",
             "| layer | first call ms | steady ms | steady / eager nn.LSTM |",
             "|---|---|---|---|"]
    baseline = None
    for name, (module, fullgraph) in rows(I, H).items():
        module.eval()
        runner: Callable[[Tensor], object] = module
        if fullgraph is not None:
            torch._dynamo.reset()
            runner = torch.compile(module, fullgraph=fullgraph)
        try:
            first = run_once(runner, x, now)
        except Exception as error:  # the row's result is the refusal itself
            reason = str(error).strip().splitlines()[0][:90]
            lines.append(f"| {name} | refused: {type(error).__name__}: {reason} | | |")
            continue
        steady = statistics.median(run_once(runner, x, now) for _ in range(args.rounds))
        baseline = baseline or steady
        lines.append(f"| {name} | {1e3 * first:.1f} | {1e3 * steady:.2f} | "
                     f"{steady / baseline:.2f} |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
