"""Experiment 2c under ``lstm1997``: ms per training sequence per member and s per stopping
check, dense against sparse in the same run, and the projected wall time of 20 trials.

2c's inputs are one-hot over p + 4 units (1004 at p = 1000). The C loop's sparse steps
(``online_sequence(sparse=True)``, the default) read only the nonzero input's column of W and
of the traces; ``sparse=False`` is the dense loop (the same numbers bit for bit,
``tests/training/test_online1997_sparse.py``). A stopping check draws 10,000 fresh sequences
in batches of 256; once a batch has a wrong sequence the check has failed, and the rest of the
set is only drawn (``FreshBatches.skip_rest``, ``VeryLongLag.draw``) where it used to be
built.

Per setting, one member, one thread, float64, as ``Lstm1997Method`` runs it:

- training: ``task.sample(1)``, the float64 copy, ``online_sequence`` (error at the last step,
  one update); dense and sparse interleaved, the median of the repeats;
- a failed check: one batch built and evaluated, the other 39 built (before) or only drawn
  (now); composed from the measured parts: one batch built, evaluated by one dense
  ``forward_sequence`` of its float64 copy (before), by a sparse one (for the ratio) and as
  checks now do (``_evaluate``: sparse, 8 sequences at a time through one float64 buffer),
  and one batch only drawn;
- projection for ``lstmlab reproduce '2c@q=Q,p=P'`` (20 trials, one core): S sequences to
  success (assumed: [H97] Table 3's mean, 49,000 at q = p = 1000 and 31,000 at q = p = 100; the
  paper reports every trial successful), a check every 1,000 sequences of which the last
  passes (all 40 batches evaluated), then the 10,000-sequence test set; and the cost of
  1,000 sequences of a trial that has not succeeded yet (training and one failed check: a
  trial that never succeeds runs 5,000 of those, to the 5,000,000-sequence budget).

Times are this thread's CPU time. ``--quick``: fewer repeats. Timings on a shared machine are
noisy: compare the columns of one run, not numbers of different runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from lstmlab.reproduce._lstm1997 import _evaluate, network_config
from lstmlab.tasks import VeryLongLag
from lstmlab.training._network1997 import Network1997
from lstmlab.training._online1997 import forward_sequence, online_sequence
from lstmlab.training._pool import stack

F64 = torch.float64
#: [H97] Table 3: mean training sequences to success.
PAPER_SEQUENCES = {(1000, 1000): 49_000, (100, 100): 31_000}
TRIALS, CHECK_EVERY, CHECK_SIZE, BATCH = 20, 1_000, 10_000, 256


def timed(work) -> float:
    """This thread's CPU seconds for ``work()`` (steadier than wall time on a shared machine;
    page faults count, as system time)."""
    start = time.thread_time()
    work()
    return time.thread_time() - start


def training_ms(task, network, weights, sequences: int, sparse: bool) -> float:
    """ms per training sequence as the method presents one: sample, float64, learn."""
    generator = torch.Generator().manual_seed(0)

    def run() -> None:
        w = weights
        for _ in range(sequences):
            batch = task.sample(1, generator)
            w = online_sequence(network, w, batch.inputs.to(F64).unsqueeze(2),
                                batch.targets.to(F64).unsqueeze(2), batch.mask.unsqueeze(2),
                                learning_rate=task.setup.learning_rate, sparse=sparse).weights

    return timed(run) / sequences * 1e3


def check_parts(task, network, weights) -> dict[str, float]:
    """Seconds: one check batch built, evaluated dense and sparse, and only drawn."""
    generator = torch.Generator().manual_seed(1)
    parts = {"build": timed(lambda: task.sample(BATCH, generator))}
    batch = task.sample(BATCH, generator)
    for name, sparse in (("evaluate dense", False), ("evaluate sparse", True)):
        parts[name] = timed(lambda s=sparse: forward_sequence(
            network, weights, batch.inputs.to(F64).unsqueeze(1), batch.lengths.unsqueeze(0),
            sparse=s))
    parts["evaluate as checks do"] = timed(lambda: _evaluate(network, weights, batch, True))
    parts["draw"] = timed(lambda: task.draw(BATCH, generator))
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats, sequences = (3, 5) if args.quick else (5, 20)
    batches = CHECK_SIZE // BATCH + 1  # 39 of 256 and one of 16
    print(f"2c, lstm1997, one member, float64, 1 thread; median of {repeats} interleaved "
          "repeats")
    print("| setting | train ms/seq dense | sparse | dense / sparse | failed check s before | "
          "now | full check (or test set) s dense | sparse | s per 1,000 sequences before | "
          "now | 20 trials h before | now |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for q, p in ((1000, 1000), (100, 100)):
        task = VeryLongLag(q, p)
        network = Network1997(network_config(task.setup), dtype=F64)
        weights = stack([network.weights()])
        train = {False: [], True: []}
        parts: dict[str, list[float]] = {}
        for _ in range(repeats):
            for sparse in (False, True):
                train[sparse].append(training_ms(task, network, weights, sequences, sparse))
            for name, seconds in check_parts(task, network, weights).items():
                parts.setdefault(name, []).append(seconds)
        dense_ms, sparse_ms = (statistics.median(train[s]) for s in (False, True))
        part = {name: statistics.median(values) for name, values in parts.items()}
        failed_before = part["build"] + part["evaluate dense"] + (batches - 1) * part["build"]
        failed_now = (part["build"] + part["evaluate as checks do"]
                      + (batches - 1) * part["draw"])
        full_dense = batches * (part["build"] + part["evaluate dense"])
        full_sparse = batches * (part["build"] + part["evaluate as checks do"])
        S = PAPER_SEQUENCES[(q, p)]
        checks = S // CHECK_EVERY

        def hours(train_ms: float, failed: float, full: float, S=S, checks=checks) -> float:
            per_trial = S * train_ms / 1e3 + (checks - 1) * failed + 2 * full
            return TRIALS * per_trial / 3600

        print(f"| q={q}, p={p} | {dense_ms:.2f} | {sparse_ms:.2f} | "
              f"{dense_ms / sparse_ms:.1f}x | {failed_before:.1f} | {failed_now:.2f} | "
              f"{full_dense:.1f} | {full_sparse:.1f} | "
              f"{dense_ms + failed_before:.1f} | {sparse_ms + failed_now:.1f} | "
              f"{hours(dense_ms, failed_before, full_dense):.1f} | "
              f"{hours(sparse_ms, failed_now, full_sparse):.1f} |")
        print(f"|   parts (s, one batch of {BATCH}) | build {part['build']:.3f} | evaluate "
              f"dense {part['evaluate dense']:.3f} | sparse {part['evaluate sparse']:.3f} | "
              f"sparse, by chunks (checks) {part['evaluate as checks do']:.3f} | "
              f"draw only {part['draw']:.4f} | | | | | | |")


if __name__ == "__main__":
    main()
