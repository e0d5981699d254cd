"""Speed of lstmlab's LSTMs beside torch.nn.LSTM, as ratios measured in the same run.

Shapes (B, T, I, H): (1, 1000, 8, 8) the 1997 size, (32, 100, 64, 128), (64, 100, 512, 512);
float32, CPU. For every row and shape: the forward pass (no grad) and forward + backward (sum of
the outputs as the loss, gradients of every parameter and the input). Timing: each round times
every row once, in turn (interleaved, so a noisy neighbour hits all rows alike); the table shows
the median over rounds and its ratio to ``torch.nn.LSTM``'s median in the same run; "spread" is
the median over rows of (upper quartile - lower quartile) / median, a measure of the noise.

Rows:
- ``torch.nn.LSTM``: the reference (oneDNN's fused RNN kernel on CPU).
- ``LSTM``: lstmlab's drop-in, standard cell, fused path (torch's kernel) and readable path
  (``fused=False``: ``unroll`` over ``LSTMCell``, a Python loop over time).
- ``trace (fwd only)``: ``lstmlab.introspection.trace`` of the ``nn.LSTM`` (every gate and state
  of every step; ``benchmarks/bench_trace.py`` breaks it down); forward only.
- ``nn.LSTMCell loop``: the usual workaround for a custom cell, one ``nn.LSTMCell`` call a step.
- ``standard cell (fast)``: ``compiled_unroll`` on our ``LSTMCell``: the same math as nn.LSTM
  through our own machinery (the peephole kernels with zero peepholes), to see what the
  machinery costs apart from any variant's extra work.
- peephole, CIFG, 1997 cells: readable (``unroll``, autograd through the loop) and fast
  (``lstmlab.layers._compiled.compiled_unroll``: one input product for all steps, the gate math
  in C, a hand-written backward), its C kernels built with the portable default flags; and
  ``fast, -march=native``: the same with the opt-in build (``LSTMLAB_NATIVE_ARCH=1``: this
  CPU's instructions, FP contraction, glibc's vector math), in the same run. The 1997 layer
  is H one-cell blocks: its recurrent input is the whole hidden layer [i, h, o] (3H wide), so
  it does 2.25x the recurrent flops of the others.

Last, the achieved GFLOP/s of ``torch.nn.LSTM``'s forward (all its products: 8 B T H (I + H))
beside a measured matmul peak on this machine (one big product, and the per-step product with
MKL's ``addmm`` and oneDNN's packed ``_linear_pointwise``).

``--quick``: 3 rounds, T = 200 at the 1997 size and T = 20 at the largest; well under a minute on
a quiet machine. ``--clock cpu --threads 1`` measures the thread's CPU time instead of wall
time: steadier when other jobs share the machine (waiting for a core is not counted).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import Tensor, nn

from kernel_build import kernel_build
from lstmlab.cells import CIFGLSTMCell, LSTM1997Cell, LSTMCell, PeepholeLSTMCell
from lstmlab.introspection import trace
from lstmlab.layers import LSTM, unroll
from lstmlab.layers._compiled import compiled_unroll

SHAPES = [(1, 1000, 8, 8), (32, 100, 64, 128), (64, 100, 512, 512)]


def standard_rows(input_size: int, hidden_size: int) -> dict[str, Callable[[Tensor], Tensor]]:
    torch.manual_seed(0)
    reference = nn.LSTM(input_size, hidden_size)
    ours = LSTM(input_size, hidden_size)
    ours.load_state_dict(reference.state_dict())
    readable = LSTM(input_size, hidden_size, fused=False)
    readable.load_state_dict(reference.state_dict())
    cell = nn.LSTMCell(input_size, hidden_size)

    def cell_loop(xs: Tensor) -> Tensor:
        h = c = xs.new_zeros(xs.shape[1], hidden_size)
        outputs = []
        for x in xs:
            h, c = cell(x, (h, c))
            outputs.append(h)
        return torch.stack(outputs)

    return {
        "torch.nn.LSTM": lambda xs: reference(xs)[0],
        "LSTM (fused)": lambda xs: ours(xs)[0],
        "LSTM (readable)": lambda xs: readable(xs)[0],
        "trace (fwd only)": lambda xs: trace(reference, xs),
        "nn.LSTMCell loop": cell_loop,
    }


FORWARD_ONLY = {"trace (fwd only)"}  # a trace is a record, not differentiable


def variant_rows(input_size: int, hidden_size: int) -> dict[str, Callable[[Tensor], Tensor]]:
    torch.manual_seed(0)
    cells = {
        "standard cell": LSTMCell(input_size, hidden_size),
        "peephole": PeepholeLSTMCell(input_size, hidden_size),
        "cifg": CIFGLSTMCell(input_size, hidden_size),
        "lstm1997": LSTM1997Cell(input_size, hidden_size, 1),
    }
    rows = {"standard cell (fast)": lambda xs: compiled_unroll(cells["standard cell"], xs).outputs}
    for name, cell in list(cells.items())[1:]:
        rows[f"{name} (readable)"] = lambda xs, cell=cell: unroll(cell, xs).outputs
        rows[f"{name} (fast)"] = lambda xs, cell=cell: compiled_unroll(cell, xs).outputs
        rows[f"{name} {NATIVE_ROW}"] = lambda xs, cell=cell: compiled_unroll(cell, xs).outputs
    return rows


#: Rows whose name ends so run with the opt-in -march=native kernels (``timed`` sets
#: LSTMLAB_NATIVE_ARCH around the forward and the backward pass).
NATIVE_ROW = "(fast, -march=native)"


CLOCK = time.perf_counter  # --clock cpu: time.thread_time, immune to waiting for a core


def timed(run: Callable[[], object], backward: bool, native_arch: bool = False) -> float:
    # A row that frees thousands of small tensors (a Python loop's autograd graph) leaves
    # glibc's fast bins full; the next large malloc consolidates them, ~1 ms charged to
    # whichever row runs next. One small untimed allocation settles the heap first.
    torch.empty(4096)
    with kernel_build(native_arch):
        start = CLOCK()
        if backward:
            run().sum().backward()
        else:
            with torch.no_grad():
                run()
        return CLOCK() - start


def measure(shape: tuple[int, int, int, int], rounds: int, budget: float, warmups: int = 2
            ) -> tuple[dict[str, dict[str, float]], float]:
    """Median seconds per row for "fwd" and "fwd+bwd", and the spread (see the docstring)."""
    batch, steps, input_size, hidden_size = shape
    generator = torch.Generator().manual_seed(0)
    xs = torch.randn(steps, batch, input_size, generator=generator)
    xs_grad = xs.clone().requires_grad_(True)
    rows = standard_rows(input_size, hidden_size) | variant_rows(input_size, hidden_size)
    runs = {(name, mode): (lambda fn=fn, grad=grad: fn(xs_grad if grad else xs), grad,
                           name.endswith(NATIVE_ROW))
            for name, fn in rows.items()
            for mode, grad in (("fwd", False), ("fwd+bwd", True))
            if not (grad and name in FORWARD_ONLY)}
    first = {key: min(timed(*run) for _ in range(warmups)) for key, run in runs.items()}
    # as many rounds as the budget allows, at least 3 and at most ``rounds``
    total = sum(first.values())
    rounds = max(3, min(rounds, int(budget / max(total, 1e-9))))
    samples: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
    for _ in range(rounds):
        for key, run in runs.items():
            samples[key].append(timed(*run))
    medians: dict[str, dict[str, float]] = {}
    spreads = []
    for (name, mode), values in sorted(samples.items(), key=lambda item: list(rows).index(
            item[0][0])):
        median = statistics.median(values)
        medians.setdefault(name, {})[mode] = median
        quartiles = statistics.quantiles(values, n=4)
        spreads.append((quartiles[2] - quartiles[0]) / median)
    return medians, statistics.median(spreads)


def gflops(flops: float, seconds: float) -> float:
    return flops / seconds / 1e9


def best_of(run: Callable[[], object], repeats: int) -> float:
    run()
    return min(timed(run, False) for _ in range(repeats))


def peak_table(shapes: list[tuple[int, int, int, int]], all_medians: dict) -> list[str]:
    """Achieved GFLOP/s (products only: 8 B T H (I + H) forward, 3x that forward + backward)
    beside matmul peaks measured now at the same sizes."""
    lines = ["| (B, T, I, H) | nn.LSTM fwd | nn.LSTM fwd+bwd | peephole fast fwd | "
             "peephole fast fwd+bwd | peak: one product (TB, I+H)x(I+H, 4H), MKL | "
             "peak: per-step (B, H)x(H, 4H), MKL addmm | peak: per-step, oneDNN packed |",
             "|---|---|---|---|---|---|---|---|"]
    for shape in shapes:
        batch, steps, input_size, hidden_size = shape
        flops = 8.0 * batch * steps * hidden_size * (input_size + hidden_size)
        medians = all_medians[shape]
        achieved = [f"{gflops(flops * factor, medians[row][mode]):.0f}"
                    for row in ("torch.nn.LSTM", "peephole (fast)")
                    for mode, factor in (("fwd", 1), ("fwd+bwd", 3))]
        lines.append("| " + " | ".join([f"{shape}", *achieved, *peak_row(shape)]) + " |")
    return lines


def peak_row(shape: tuple[int, int, int, int]) -> list[str]:
    batch, steps, input_size, hidden_size = shape
    big_in = torch.randn(batch * steps, input_size + hidden_size)
    big_weight = torch.randn(4 * hidden_size, input_size + hidden_size)
    big = best_of(lambda: big_in @ big_weight.T, 5)
    h = torch.randn(batch, hidden_size)
    weight = torch.randn(4 * hidden_size, hidden_size)
    bias = torch.zeros(4 * hidden_size)
    step_flops = 8.0 * batch * hidden_size * hidden_size
    addmm = best_of(lambda: [torch.addmm(bias, h, weight.T) for _ in range(20)], 5) / 20
    cells = [f"{gflops(2 * big_in.numel() * 4 * hidden_size, big):.0f}",
             f"{gflops(step_flops, addmm):.0f}"]
    if not torch.backends.mkldnn.is_available():
        return [*cells, "n/a"]
    packed = torch.ops.mkldnn._reorder_linear_weight(weight, batch_size=batch)
    linear = torch.ops.mkldnn._linear_pointwise
    onednn = best_of(lambda: [linear(h, packed, bias, "none", [], "") for _ in range(20)], 5)
    return [*cells, f"{gflops(step_flops, onednn / 20):.0f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, short 1997 sequence")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (at most)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this thread's CPU time, for comparisons on a busy machine "
                             "(meaningful with --threads 1 only)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.perf_counter if args.clock == "wall" else time.thread_time
    torch.set_num_threads(args.threads)
    shapes = SHAPES
    budget = 20.0
    if args.quick:
        shapes = [(1, 200, 8, 8), SHAPES[1], (64, 20, 512, 512)]
        args.rounds, budget = 3, 4.0
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.threads} threads, float32, CPU; median of up to {args.rounds} interleaved "
          f"rounds, {args.clock} clock; ratio = time / torch.nn.LSTM's time in the same run\n",
          flush=True)
    all_medians = {}
    for shape in shapes:
        medians, spread = measure(shape, args.rounds, budget, 1 if args.quick else 2)
        all_medians[shape] = medians
        reference = medians["torch.nn.LSTM"]
        print(f"(B, T, I, H) = {shape}   spread (IQR / median) {spread:.0%}")
        print("| row | fwd ms | fwd ratio | fwd+bwd ms | fwd+bwd ratio |")
        print("|---|---|---|---|---|")
        for name, times in medians.items():
            cells = [name]
            for mode in ("fwd", "fwd+bwd"):
                if mode in times:
                    cells += [f"{times[mode] * 1e3:.2f}", f"{times[mode] / reference[mode]:.2f}x"]
                else:
                    cells += ["", ""]
            print("| " + " | ".join(cells) + " |")
        print(flush=True)
    print("Achieved GFLOP/s (float32, products only) beside matmul peaks on this machine")
    print("\n".join(peak_table(shapes, all_medians)))


if __name__ == "__main__":
    main()
