"""The LSTM family since 2017 beside torch.nn.LSTM (and nn.GRU), ratios measured in the same run.

Two tables, float32, forward (no grad) and forward + backward (loss = sum of the outputs; every
parameter's gradient and the input's), time / ``torch.nn.LSTM``'s time in the same run:

1. *cells*: each new cell as a layer of the same hidden size, (B, T, I, H) = (16, 128, 64, 128):
   ``LSTM(cell=LayerNormLSTMCell)``, ``SLSTM`` (4 heads), ``MLSTM`` (4 heads; parallel form and
   step loop), ``MinGRU``/``MinLSTM`` (blocked scan, log-space scan, step loop);
2. *long*: the parallel minGRU/minLSTM at T = 1024 and 4096 beside ``nn.GRU`` and ``nn.LSTM``,
   (B, I, H) = (8, 64, 128): the training speed the scan is for.

Rows interleaved round by round, warm-up first, the median over rounds and the spread
(interquartile range / median) printed. Default: one thread, the process's CPU time
(``--clock cpu``), the steady way to compare rows while other jobs load the machine;
``--threads 2 --clock wall`` for wall time on an idle machine. ``--quick``: fewer rounds and the
long table at T = 1024 only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from lstmlab.cells import LayerNormLSTMCell
from lstmlab.layers import LSTM, MLSTM, SLSTM, MinGRU, MinLSTM


def first(result: object) -> Tensor:
    return result[0] if isinstance(result, tuple) else result


def cell_rows(input_size: int, hidden: int) -> dict[str, nn.Module]:
    return {
        "nn.LSTM": nn.LSTM(input_size, hidden),
        "nn.GRU": nn.GRU(input_size, hidden),
        "LSTM(cell=LayerNormLSTMCell)": LSTM(input_size, hidden, cell=LayerNormLSTMCell),
        "SLSTM (4 heads)": SLSTM(input_size, hidden, num_heads=4),
        "MLSTM (4 heads, parallel)": MLSTM(input_size, hidden, num_heads=4),
        "MLSTM (4 heads, step loop)": MLSTM(input_size, hidden, num_heads=4, parallel=False),
        "MinGRU (blocked scan)": MinGRU(input_size, hidden),
        "MinGRU (log-space scan)": MinGRU(input_size, hidden, method="log"),
        "MinGRU (step loop)": MinGRU(input_size, hidden, parallel=False),
        "MinLSTM (blocked scan)": MinLSTM(input_size, hidden),
        "MinLSTM (log-space scan)": MinLSTM(input_size, hidden, method="log"),
        "MinLSTM (step loop)": MinLSTM(input_size, hidden, parallel=False),
    }


def long_rows(input_size: int, hidden: int) -> dict[str, nn.Module]:
    return {
        "nn.LSTM": nn.LSTM(input_size, hidden),
        "nn.GRU": nn.GRU(input_size, hidden),
        "MinGRU (blocked scan)": MinGRU(input_size, hidden),
        "MinGRU (log-space scan)": MinGRU(input_size, hidden, method="log"),
        "MinLSTM (blocked scan)": MinLSTM(input_size, hidden),
        "MinLSTM (log-space scan)": MinLSTM(input_size, hidden, method="log"),
    }


def timed(module: nn.Module, x: Tensor, backward: bool, now: Callable[[], float]) -> float:
    start = now()
    if backward:
        first(module(x)).sum().backward()
    else:
        with torch.no_grad():
            first(module(x))
    return now() - start


def measure(rows: dict[str, nn.Module], x: Tensor, rounds: int, now: Callable[[], float]
            ) -> dict[tuple[str, bool], list[float]]:
    for module in rows.values():  # warm-up
        for backward in (False, True):
            timed(module, x.detach().requires_grad_(backward), backward, now)
    times: dict[tuple[str, bool], list[float]] = {(n, b): [] for n in rows for b in (0, 1)}
    for _ in range(rounds):
        for name, module in rows.items():
            for backward in (False, True):
                xs = x.detach().requires_grad_(backward)
                module.zero_grad(set_to_none=True)
                times[name, backward].append(timed(module, xs, backward, now))
    return times


def spread(values: list[float]) -> float:
    if len(values) < 4:
        return float("nan")
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


def table(title: str, times: dict[tuple[str, bool], list[float]], baseline: str) -> list[str]:
    names = list(dict.fromkeys(name for name, _ in times))
    lines = [f"### {title}", "",
             "| layer | forward ms | fwd+bwd ms | forward / nn.LSTM | fwd+bwd / nn.LSTM |"
             " spread fwd, fwd+bwd |", "|---|---|---|---|---|---|"]
    base = {b: statistics.median(times[baseline, b]) for b in (0, 1)}
    for name in names:
        median = {b: statistics.median(times[name, b]) for b in (0, 1)}
        lines.append(
            f"| {name} | {1e3 * median[0]:.1f} | {1e3 * median[1]:.1f} | "
            f"{median[0] / base[0]:.2f} | {median[1] / base[1]:.2f} | "
            f"{100 * spread(times[name, 0]):.0f} %, {100 * spread(times[name, 1]):.0f} % |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, T = 1024 only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    now = time.process_time if args.clock == "cpu" else time.perf_counter
    rounds = 3 if args.quick else args.rounds
    torch.manual_seed(0)
    header = (f"torch {torch.__version__}, {args.threads} thread(s), clock {args.clock}, "
              f"median of {rounds} interleaved rounds")
    lines = [header, ""]
    B, T, I, H = 16, 128, 64, 128
    lines += table(f"cells, (B, T, I, H) = ({B}, {T}, {I}, {H})",
                   measure(cell_rows(I, H), torch.randn(T, B, I), rounds, now), "nn.LSTM")
    for steps in (1024,) if args.quick else (1024, 4096):
        B, I, H = 8, 64, 128
        lines += table(f"long sequences, (B, T, I, H) = ({B}, {steps}, {I}, {H})",
                       measure(long_rows(I, H), torch.randn(steps, B, I), rounds, now),
                       "nn.LSTM")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
