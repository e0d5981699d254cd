"""What a full trace costs, as a ratio to a plain ``torch.nn.LSTM`` forward in the same run.

Shapes (B, T, I, H): (32, 100, 64, 128) and (64, 100, 512, 512); also (1, 1000, 8, 8), the 1997
size, where the log-depth scan for c matters. float32, CPU, no grad, at 1 and at 2 threads
(``--threads``), all in one run. Each round times every row once, in turn (interleaved, so a
noisy neighbour hits all rows alike); the table shows the median over rounds and its ratio to
the plain forward's median, by wall clock and by the CPU time of the process (user + system,
all threads: on a machine shared with other jobs the wall clock measures the neighbours as much
as the code, the CPU time much less). The goals for ``trace`` (issue 17): <= 1.3x the forward
at the two first shapes, and never slower than the ``LSTMCell`` loop; the summary at the end
says which held in this run.

Rows:
- ``nn.LSTM forward``: the reference (oneDNN's fused RNN kernel on CPU).
- ``trace``: ``lstmlab.introspection.trace`` as a user calls it: the fused kernel in training
  mode, gates and cell states read from oneDNN's workspace (each checked against a recomputation
  at the first and last step).
- ``trace, reconstructed``: ``read_workspace=False``: the fused forward, then every gate
  recomputed from the returned h in two batched products, then c by the faster exact solver
  (the path for proj_size, float64, GPU).
- ``oneDNN training-mode layer``: ``torch.ops.aten.mkldnn_rnn_layer`` with ``train=True``
  alone, the kernel call ``trace`` makes (it keeps the workspace): the floor of a trace by this
  method; the rest of ``trace`` is its checks and bookkeeping.
- ``LSTMCell loop``: the usual workaround, one ``nn.LSTMCell`` call a step, keeping h and c
  (a lower bound: it does not even produce the gates, which would cost another pass).
- ``c by loop`` / ``c by scan``: the two exact solvers of c_t = f_t c_{t-1} + i_t g_t alone.

``--faults``: the oneDNN workspace's size and the minor page faults of one kernel call, training
mode against inference mode (the cost of writing the workspace to fresh memory).

Before timing, the script checks the trace against the forward's output (h of the last step)
and the two gate paths against each other, so a wrong number is never timed.
``--quick``: fewer rounds; the whole run stays well under a minute on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable

import torch

from lstmlab.introspection import loop_recurrence, scan_recurrence, trace
from lstmlab.introspection.fused import run_fused, standard_weights
from lstmlab.introspection.workspace import can_read_workspace

SHAPES = ((32, 100, 64, 128), (64, 100, 512, 512), (1, 1000, 8, 8))


def rows_for(batch: int, steps: int, inputs: int, hidden: int) -> dict[str, Callable[[], object]]:
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.LSTM(inputs, hidden).eval()
    x = torch.randn(steps, batch, inputs, generator=generator)
    cell = torch.nn.LSTMCell(inputs, hidden)
    cell.load_state_dict({k[:-3]: v for k, v in model.state_dict().items()})
    f = torch.rand(steps, batch, hidden, generator=generator)
    u = torch.randn(steps, batch, hidden, generator=generator)
    c0 = torch.zeros(batch, hidden)

    def forward() -> object:
        return model(x)

    def cell_loop() -> object:
        h, c = torch.zeros(batch, hidden), torch.zeros(batch, hidden)
        hs, cs = [], []
        for t in range(steps):
            h, c = cell(x[t], (h, c))
            hs.append(h)
            cs.append(c)
        return torch.stack(hs), torch.stack(cs)

    with torch.no_grad():
        output, _ = model(x)
        fast, plain = trace(model, x)[0], trace(model, x, read_workspace=False)[0]
        torch.testing.assert_close(fast.hidden, output, rtol=0, atol=1e-5)
        for name in ("input", "forget", "candidate", "output", "cell"):
            torch.testing.assert_close(getattr(fast, name), getattr(plain, name), rtol=0,
                                       atol=1e-4)
        torch.testing.assert_close(cell_loop()[0], output, rtol=0, atol=1e-4)
    weights = standard_weights(model, 0, 0)
    path = "workspace" if run_fused(weights, x, c0.new_zeros(batch, hidden),
                                    c0).gates is not None else "reconstructed"
    rows = {
        "nn.LSTM forward": forward,
        f"trace ({path})": lambda: trace(model, x),
        "trace, reconstructed": lambda: trace(model, x, read_workspace=False),
    }
    if can_read_workspace(weights, x):
        def training_layer() -> object:
            with torch.enable_grad():  # oneDNN keeps its workspace only with autograd on
                return torch.ops.aten.mkldnn_rnn_layer(
                    x, weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh,
                    c0, c0, False, [], 2, hidden, 1, True, False, False, True)

        rows["oneDNN training-mode layer"] = training_layer
    rows.update({
        "LSTMCell loop": cell_loop,
        "c by loop": lambda: loop_recurrence(f, u, c0),
        "c by scan": lambda: scan_recurrence(f, u, c0),
    })
    return rows


def measure(rows: dict[str, Callable[[], object]], rounds: int
            ) -> dict[str, tuple[float, float]]:
    """Per row, the medians over ``rounds`` interleaved rounds of (wall seconds, CPU seconds
    of this process: user + system, all its threads)."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in rows}
    with torch.no_grad():
        for fn in rows.values():  # warm-up
            fn()
        for _ in range(rounds):
            for name, fn in rows.items():
                wall, cpu = time.perf_counter(), time.process_time()
                fn()
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: (statistics.median(w for w, _ in values),
                   statistics.median(c for _, c in values))
            for name, values in times.items()}


def page_faults(batch: int, steps: int, inputs: int, hidden: int) -> str:
    """The oneDNN kernel's workspace size and the minor page faults of one call, training mode
    (what ``trace`` runs) against inference mode (what a plain forward runs)."""
    generator = torch.Generator().manual_seed(0)
    model = torch.nn.LSTM(inputs, hidden)
    weights = standard_weights(model, 0, 0)
    x = torch.randn(steps, batch, inputs, generator=generator)
    zeros = torch.zeros(batch, hidden)
    if not can_read_workspace(weights, x):
        return "no oneDNN workspace on this build"

    def call(train: bool) -> tuple[int, int]:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        with torch.set_grad_enabled(train):  # as trace (training) and a forward (inference)
            result = torch.ops.aten.mkldnn_rnn_layer(
                x, weights.weight_ih, weights.weight_hh, weights.bias_ih, weights.bias_hh,
                zeros, zeros, False, [], 2, hidden, 1, train, False, False, True)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        return faults, result[3].numel() if train else 0

    with torch.no_grad():
        for train in (False, True):  # warm-up: oneDNN builds its primitives once
            call(train)
        inference, _ = call(False)
        training, size = call(True)
    return (f"workspace {size / 1e6:.1f} MB; minor page faults per call: training "
            f"{training}, inference {inference}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (about a minute)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="torch thread counts to measure, in this order (default: 1 2)")
    parser.add_argument("--faults", action="store_true",
                        help="only the workspace size and page faults of the kernel, per shape")
    args = parser.parse_args()
    if args.faults:
        for shape in SHAPES:
            print(f"(B, T, I, H) = {shape}: {page_faults(*shape)}")
        return
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, float32, "
          f"no grad, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    summary = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        for shape in SHAPES:
            rounds = (5 if args.quick else 11) if shape[-1] >= 512 else (9 if args.quick else 21)
            medians = measure(rows_for(*shape), rounds)
            wall_ref, cpu_ref = medians["nn.LSTM forward"]
            print(f"\n(B, T, I, H) = {shape}, {threads} thread(s), median of {rounds} "
                  "interleaved rounds; wall clock, then CPU time of the process")
            for name, (wall, cpu) in medians.items():
                print(f"  {name:<28} {wall * 1e3:9.2f} ms {wall / wall_ref:6.2f}x   "
                      f"{cpu * 1e3:9.2f} ms {cpu / cpu_ref:6.2f}x")
            traced = next(v for k, v in medians.items() if k.startswith("trace ("))
            loop = medians["LSTMCell loop"]
            summary.append((shape, threads, traced[0] / wall_ref, traced[0] / loop[0],
                            traced[1] / cpu_ref, traced[1] / loop[1]))
    print("\nsummary: trace / forward (goal <= 1.3 at the first two shapes) and trace / "
          "LSTMCell loop (goal <= 1), by wall clock and by CPU time")
    for shape, threads, *ratios in summary:
        goal = shape in SHAPES[:2]
        verdicts = []
        for to_forward, to_loop in (ratios[:2], ratios[2:]):
            met = to_forward <= 1.3 and to_loop <= 1
            verdicts.append(f"{to_forward:5.2f}x {to_loop:5.2f}x "
                            f"{('met' if met else 'NOT met') if goal else '-':<7}")
        print(f"  {str(shape):<22} {threads} thread(s)  wall {verdicts[0]}  cpu {verdicts[1]}")


if __name__ == "__main__":
    main()
