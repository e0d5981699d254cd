"""The batch every task produces, and the interface every task follows.

Shapes: T time (the longest sequence in the batch), B batch, I input units, O output units.
Batches are time-first, like ``torch.nn.LSTM``'s default.

A :class:`Batch` holds

- ``inputs`` (T, B, I) float: what the net reads at each step; zeros after a sequence's end.
- ``targets`` (T, B, O) float: the teacher signal at each step. The 1997 experiments train the
  squared error ``E(t) = sum_k (t^k(t) - y^k(t))^2`` of [H97] eq. 16 on local codes, so targets
  are floats everywhere, one-hot where the paper codes classes or symbols locally (the copy task
  too: its class is ``targets.argmax(-1)``).
- ``mask`` (T, B) bool: the steps that carry an error signal. Every step of a sequence for the
  next-symbol tasks (Experiments 1, 2a, 2b, the copy task); only the last real step for the
  others ("error signals are generated only at sequence ends", [H97] §5 intro).
- ``lengths`` (B,) long: the number of real steps of each sequence; steps ``t >= lengths[b]``
  are padding (zero inputs, zero targets, mask False).
- ``labels`` (B,) long or None: the class of each sequence where the task has classes (2a-2c:
  0 = x, 1 = y; 3a-3c: 0 = class 1, 1 = class 2; 6a/6b: the class index).
- ``choices`` (T, B, O) bool or None: where several continuations are legal (the Reber
  grammars), the output units that count as a right prediction at each step.

A network's ``outputs`` have the targets' shape (T, B, O). Every task object (see :class:`Task`)
turns ``(outputs, batch)`` into a per-sequence verdict ``is_correct -> (B,) bool`` (the paper's
criterion) and a per-sequence error ``errors -> (B,) float`` (what the stopping rules average).

Same generator state, same batch: every random draw goes through the ``torch.Generator`` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy
import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

if TYPE_CHECKING:
    from lstmlab.tasks._published import PublishedRow
    from lstmlab.tasks._setup import ModernSetup, Setup1997
    from lstmlab.tasks._stopping import StoppingRule


@dataclass(frozen=True)
class Batch:
    """B sequences, time-first; see the module docstring for every field."""

    inputs: Tensor
    targets: Tensor
    mask: Tensor
    lengths: Tensor
    labels: Tensor | None = None
    choices: Tensor | None = None

    def __post_init__(self) -> None:
        steps, batch = self.inputs.shape[:2]
        checks = {
            "targets": (self.targets.shape[:2], (steps, batch)),
            "mask": (tuple(self.mask.shape), (steps, batch)),
            "lengths": (tuple(self.lengths.shape), (batch,)),
        }
        for name, (got, want) in checks.items():
            if tuple(got) != tuple(want):
                raise ValueError(f"{name}: expected leading shape {want}, received {tuple(got)}")

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]

    @property
    def steps(self) -> int:
        return self.inputs.shape[0]

    def last(self, values: Tensor) -> Tensor:
        """``values`` (T, B, ...) at each sequence's last real step -> (B, ...)."""
        # The index is kept on the batch: a population step asks for it four times (verdicts
        # and errors of outputs and targets), and each asking was three torch calls.
        cached = self.__dict__.get("_last_index")
        if cached is None or cached[0] != values.device:
            index = (self.lengths - 1).clamp(min=0)
            cached = (values.device, index,
                      torch.arange(self.batch_size, device=values.device))
            object.__setattr__(self, "_last_index", cached)
        return values[cached[1], cached[2]]

    def to(self, device: torch.device | str) -> Batch:
        """The same batch on ``device``."""
        def move(x: Tensor | None) -> Tensor | None:
            return None if x is None else x.to(device)

        return Batch(self.inputs.to(device), self.targets.to(device), self.mask.to(device),
                     self.lengths.to(device), move(self.labels), move(self.choices))


def _concat_singles(batches: Sequence[Batch]) -> Batch:
    """``concat`` of one-sequence batches (a population's step): each field copied into one
    zeroed numpy array (CPU tensors; elsewhere one ``pad_sequence`` per field), instead of a
    pad and a cat per batch: the same tensors (zero padding). A population step of Exp. 1
    joins ten cached strings, and torch's per-call overhead made this cost more than the C
    loop's training of the ten."""
    steps = max(b.inputs.shape[0] for b in batches)

    def join(name: str) -> Tensor | None:
        parts = [getattr(b, name) for b in batches]
        if all(p is None for p in parts):
            return None
        if any(p is None for p in parts):
            raise ValueError(f"batches: {name} is set in some batches and None in others")
        first = parts[0]
        if first.device.type != "cpu" or first.requires_grad:
            # (T_b, 1, ...) each -> (T, N, 1, ...) -> (T, N, ...)
            return pad_sequence([p.squeeze(1) for p in parts])
        out = numpy.zeros((steps, len(parts), *first.shape[2:]),
                          dtype=first.numpy().dtype)
        for k, part in enumerate(parts):
            values = part.numpy()
            out[:values.shape[0], k] = values[:, 0]
        return torch.from_numpy(out)

    labels = [b.labels for b in batches]
    if any(label is None for label in labels) and not all(label is None for label in labels):
        raise ValueError("batches: labels is set in some batches and None in others")
    return Batch(
        inputs=join("inputs"), targets=join("targets"), mask=join("mask"),
        lengths=torch.cat([b.lengths for b in batches]),
        labels=None if labels[0] is None else torch.cat(labels),
        choices=join("choices"),
    )


def sample_each(tasks: Sequence[Task], generators: Sequence[torch.Generator]) -> Batch:
    """Sequence k from ``tasks[k]`` and ``generators[k]``, joined along B:
    ``concat([task.sample(1, g) for task, g in zip(tasks, generators)])``.

    Where every task has the same ``data_key`` (tasks that draw the same sequences from the same
    generator state) and a ``sample_each(generators)``, that method makes the batch instead: the
    same batch, bit for bit, in fewer torch calls (each task's tests check the equality)."""
    if len(tasks) != len(generators):
        raise ValueError(f"tasks, generators: expected one task per generator, received "
                         f"{len(tasks)} and {len(generators)}")
    keys = {getattr(task, "data_key", None) for task in tasks}
    if None not in keys and len(keys) == 1 and hasattr(tasks[0], "sample_each"):
        return tasks[0].sample_each(generators)
    return concat([task.sample(1, g) for task, g in zip(tasks, generators, strict=True)])


def concat(batches: Sequence[Batch]) -> Batch:
    """Join batches along B, padding the shorter ones with zeros (mask False) to the longest T.

    This is how a population is served with per-member generators: ``concat([task.sample(1, g)
    for g in generators])`` gives member k exactly the data its own seed gives it alone.
    """
    if not batches:
        raise ValueError("batches: expected at least one Batch, received none")
    if all(b.batch_size == 1 for b in batches):
        return _concat_singles(batches)
    steps = max(b.steps for b in batches)

    def pad(x: Tensor) -> Tensor:
        extra = steps - x.shape[0]
        return torch.cat([x, x.new_zeros((extra, *x.shape[1:]))]) if extra else x

    def join(name: str, padded: bool) -> Tensor | None:
        parts = [getattr(b, name) for b in batches]
        if all(p is None for p in parts):
            return None
        if any(p is None for p in parts):
            raise ValueError(f"batches: {name} is set in some batches and None in others")
        return torch.cat([pad(p) for p in parts], dim=1) if padded else torch.cat(parts)

    return Batch(
        inputs=torch.cat([pad(b.inputs) for b in batches], dim=1),
        targets=torch.cat([pad(b.targets) for b in batches], dim=1),
        mask=torch.cat([pad(b.mask) for b in batches], dim=1),
        lengths=torch.cat([b.lengths for b in batches]),
        labels=join("labels", padded=False),
        choices=join("choices", padded=True),
    )


def final_step_mask(lengths: Tensor, steps: int) -> Tensor:
    """(T, B) bool, True only at each sequence's last real step ``lengths[b] - 1``."""
    return torch.arange(steps).unsqueeze(1) == (lengths - 1).unsqueeze(0)


def valid_step_mask(lengths: Tensor, steps: int) -> Tensor:
    """(T, B) bool, True at every real step ``t < lengths[b]``."""
    return torch.arange(steps).unsqueeze(1) < lengths.unsqueeze(0)


def check_outputs(outputs: Tensor, batch: Batch) -> None:
    """Raise ValueError unless ``outputs`` has the targets' shape (T, B, O)."""
    if tuple(outputs.shape) != tuple(batch.targets.shape):
        raise ValueError(f"outputs: expected shape {tuple(batch.targets.shape)} (T, B, O), "
                         f"received {tuple(outputs.shape)}")


def final_abs_error(outputs: Tensor, batch: Batch) -> Tensor:
    """(B,) the largest absolute error over output units at the last real step.

    ``ABS(beta)`` of [H97] Table 11 is ``final_abs_error < beta``.
    """
    check_outputs(outputs, batch)
    return (batch.last(outputs) - batch.last(batch.targets)).abs().amax(dim=-1)


def final_mean_abs_error(outputs: Tensor, batch: Batch) -> Tensor:
    """(B,) the absolute error at the last real step, averaged over output units.

    Our reading of [H97]'s "mean absolute test set error" (ST2, §5.3) and "average training
    error" (ST3, Table 11); with one output unit (Experiments 3-5) both readings coincide.
    """
    check_outputs(outputs, batch)
    return (batch.last(outputs) - batch.last(batch.targets)).abs().mean(dim=-1)


def verdicts(task: Task, outputs: Tensor, batch: Batch) -> tuple[list[bool], list[float]]:
    """``task.is_correct(outputs, batch).tolist()`` and ``task.errors(outputs, batch).tolist()``:
    by the task's own ``verdicts(outputs, batch)`` where its class defines it with both (the
    same values in fewer calls: a population judges every training step), else by the two."""
    kind = type(task)
    owner = _owner(kind, "verdicts")
    if owner is not None and owner is _owner(kind, "is_correct") is _owner(kind, "errors"):
        return task.verdicts(outputs, batch)
    return task.is_correct(outputs, batch).tolist(), task.errors(outputs, batch).tolist()


def _owner(kind: type, name: str) -> type | None:
    return next((base for base in kind.__mro__ if name in vars(base)), None)


def final_verdicts(outputs: Tensor, batch: Batch, threshold: float, mean_error: bool
                   ) -> tuple[list[bool], list[float]]:
    """``(final_abs_error < threshold).tolist()`` and the errors ``final_mean_abs_error``
    (``mean_error``) or ``final_abs_error``, ``.tolist()``, from one computation of the gaps.

    On the CPU the gaps are taken in NumPy: indexing, subtraction, ``abs``, ``max`` and the
    comparison are exact, so they are torch's numbers; the mean is torch's own reduction of the
    same contiguous (B, O) values."""
    check_outputs(outputs, batch)
    if outputs.device.type != "cpu" or outputs.requires_grad or batch.targets.requires_grad:
        gap = (batch.last(outputs) - batch.last(batch.targets)).abs()
        largest = gap.amax(dim=-1)
        return ((largest < threshold).tolist(),
                (gap.mean(dim=-1) if mean_error else largest).tolist())
    ends = numpy.maximum(batch.lengths.numpy() - 1, 0)
    rows = numpy.arange(len(ends))
    gap = numpy.abs(outputs.numpy()[ends, rows] - batch.targets.numpy()[ends, rows])
    if gap.shape[1] == 1:  # one output unit: its gap is the largest and the mean (x / 1 = x)
        largest = gap[:, 0]
        return (largest < threshold).tolist(), largest.tolist()
    largest = gap.max(axis=-1)
    errors = torch.from_numpy(gap).mean(dim=-1).tolist() if mean_error else largest.tolist()
    return (largest < threshold).tolist(), errors


def squared_error(outputs: Tensor, batch: Batch) -> Tensor:
    """The training loss of [H97] eq. 16: ``sum_k (t_k - y_k)^2`` summed over the masked steps,
    averaged over the batch (a scalar; with B = 1 exactly the paper's per-sequence error)."""
    check_outputs(outputs, batch)
    per_step = ((outputs - batch.targets) ** 2).sum(dim=-1)
    return (per_step * batch.mask).sum() / batch.batch_size


def mean_cross_entropy(outputs: Tensor, batch: Batch) -> Tensor:
    """Cross-entropy of logits ``outputs`` against the one-hot targets, averaged over the masked
    steps of all sequences (the copy task's loss in Arjovsky et al. 2016's code); not
    ``lstmlab.training.cross_entropy``, which sums over each sequence's steps and averages over
    sequences."""
    check_outputs(outputs, batch)
    return torch.nn.functional.cross_entropy(
        outputs[batch.mask], batch.targets[batch.mask].argmax(dim=-1), reduction="mean")


def fresh_batches(sample: Callable[[int, torch.Generator], Batch], total: int,
                  generator: torch.Generator, batch_size: int, *,
                  draw: Callable[[int, torch.Generator], object] | None = None) -> FreshBatches:
    """``total`` freshly drawn sequences as successive batches of at most ``batch_size``.

    Tasks whose test sets are random ("a test set consisting of 2560 randomly chosen
    sequences") serve them this way, so memory stays bounded (2c at q = p = 1000 needs ~4 MB a
    sequence). The draws depend on ``batch_size`` as well as on the generator's seed.
    ``draw(n, generator)``, where given, makes exactly the random draws of ``sample(n,
    generator)`` without building the batch: :meth:`FreshBatches.skip_rest` uses it.
    """
    if total < 1 or batch_size < 1:
        raise ValueError(f"total, batch_size: expected >= 1, received {total}, {batch_size}")
    return FreshBatches(sample, total, generator, batch_size, draw)


class FreshBatches(Iterator[Batch]):
    """:func:`fresh_batches`' iterator; :meth:`skip_rest` moves the generator past the batches
    not yet drawn, as drawing them would."""

    def __init__(self, sample: Callable[[int, torch.Generator], Batch], total: int,
                 generator: torch.Generator, batch_size: int,
                 draw: Callable[[int, torch.Generator], object] | None = None) -> None:
        self._sample, self._draw = sample, draw
        self._generator, self._batch_size = generator, batch_size
        self._left = total

    def _next_size(self) -> int:
        if self._left <= 0:
            raise StopIteration
        size = min(self._batch_size, self._left)
        self._left -= size
        return size

    def __next__(self) -> Batch:
        return self._sample(self._next_size(), self._generator)

    def skip_rest(self) -> None:
        """Leave the generator where drawing every remaining batch would (a stopping check
        that has already failed needs no more verdicts, but later checks must see the same
        sequences): by the task's ``draw`` where given (2c at q = p = 1000: ~1 s a batch of
        one-hot inputs saved), else by sampling each batch."""
        skip = self._draw if self._draw is not None else self._sample
        while self._left > 0:
            skip(self._next_size(), self._generator)


@runtime_checkable
class Task(Protocol):
    """What a runner and a training loop need of a task.

    ``setup`` is the paper's training configuration, ``published`` the paper's rows for this
    setting, ``stopping`` the paper's stopping rules in the order the paper reports them (e.g.
    ST1 then ST2; empty where the paper trains for a fixed budget). ``test_batches`` yields the
    paper's post-training test set (``test_size`` sequences) and ``stopping_batches`` the set a
    :class:`~lstmlab.tasks._stopping.TestSetRule` is checked on, both in chunks of at most
    ``batch_size`` sequences.
    """

    name: str
    input_size: int
    output_size: int
    setup: Setup1997 | ModernSetup
    published: tuple[PublishedRow, ...]
    stopping: tuple[StoppingRule, ...]
    test_size: int

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch: ...

    def test_batches(self, generator: torch.Generator, batch_size: int = 256
                     ) -> Iterator[Batch]: ...

    def stopping_batches(self, generator: torch.Generator, batch_size: int = 256
                         ) -> Iterator[Batch]: ...

    def is_correct(self, outputs: Tensor, batch: Batch) -> Tensor: ...

    def errors(self, outputs: Tensor, batch: Batch) -> Tensor: ...
