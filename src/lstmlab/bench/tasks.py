"""The bench's three tasks: parity, a sum modulo 5, and key-value storage revision.

Every task draws a batch of ``length`` steps, labelled at every step (dense supervision, as
"running" parity is usually trained), and returns a ``LabelledBatch`` (shapes: T time, B batch,
I input):

    inputs (T, B, I) one-hot float32;  labels (T, B) int64, the answer after reading steps 0..t;
    symbol (T, B) int64, what step t read; latent (T, B) int64, the state a solver must carry.

- ``parity``: bits b_t in {0, 1}; label_t = (b_0 + ... + b_t) mod 2 (Beck et al. 2024, Fig. 4 /
  Table 1 "Parity", from Delétang et al. 2023's Chomsky-hierarchy tasks). latent = label.
- ``modular``: digits d_t in {0..4}; label_t = (d_0 + ... + d_t) mod 5 ("Mod Arithmetic" of the
  same table, here without brackets or operators: a cyclic group of order 5). latent = label.
- ``revision``: each step writes value v_t to key k_t (``keys`` keys, ``values`` values; a key is
  overwritten many times) and asks for the latest value of a query key q_t, drawn among the
  keys written so far: label_t = the value most recently written to q_t, this step included.
  It asks what the xLSTM paper's "revise storage decisions" names: an old value must be
  discarded when its key comes again. symbol = k_t; latent = the value key 0 holds now
  (``values`` when key 0 has not been written yet).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class LabelledBatch(NamedTuple):
    """``inputs`` (T, B, I) float32; ``labels``, ``symbol``, ``latent`` (T, B) int64."""

    inputs: Tensor
    labels: Tensor
    symbol: Tensor
    latent: Tensor


def _check(length: int, batch: int) -> None:
    if length < 1 or batch < 1:
        raise ValueError(f"length and batch must be >= 1, got length={length}, batch={batch}")


def parity(length: int, batch: int, generator: torch.Generator) -> LabelledBatch:
    """Running parity of random bits; see the module docstring."""
    _check(length, batch)
    bits = torch.randint(0, 2, (length, batch), generator=generator)
    labels = bits.cumsum(0) % 2
    return LabelledBatch(F.one_hot(bits, 2).float(), labels, bits, labels)


def modular(length: int, batch: int, generator: torch.Generator, modulus: int = 5) -> LabelledBatch:
    """Running sum modulo ``modulus`` of random digits; see the module docstring."""
    _check(length, batch)
    digits = torch.randint(0, modulus, (length, batch), generator=generator)
    labels = digits.cumsum(0) % modulus
    return LabelledBatch(F.one_hot(digits, modulus).float(), labels, digits, labels)


def revision(length: int, batch: int, generator: torch.Generator, keys: int = 4,
             values: int = 4) -> LabelledBatch:
    """Key-value writes with re-assignment and a query per step; see the module docstring."""
    _check(length, batch)
    written_keys = torch.randint(0, keys, (length, batch), generator=generator)
    written_values = torch.randint(0, values, (length, batch), generator=generator)
    store = torch.full((batch, keys), -1, dtype=torch.long)  # -1: never written
    columns = torch.arange(batch)
    labels = torch.empty(length, batch, dtype=torch.long)
    queries = torch.empty(length, batch, dtype=torch.long)
    latent = torch.empty(length, batch, dtype=torch.long)
    for t in range(length):
        store[columns, written_keys[t]] = written_values[t]
        # a query key among those written so far: random scores, unwritten keys ranked last
        scores = torch.rand(batch, keys, generator=generator) + (store >= 0).float()
        queries[t] = scores.argmax(1)
        labels[t] = store[columns, queries[t]]
        latent[t] = torch.where(store[:, 0] >= 0, store[:, 0], values)
    inputs = torch.cat([F.one_hot(written_keys, keys), F.one_hot(written_values, values),
                        F.one_hot(queries, keys)], dim=2).float()
    return LabelledBatch(inputs, labels, written_keys, latent)


class Task(NamedTuple):
    """A task: its ``draw(length, batch, generator)``, input width, number of classes (labels,
    ``latent``, ``symbol``)."""

    draw: Callable[[int, int, torch.Generator], LabelledBatch]
    input_size: int
    classes: int
    latent_classes: int
    symbols: int


TASKS: dict[str, Task] = {
    "parity": Task(parity, 2, 2, 2, 2),
    "modular": Task(modular, 5, 5, 5, 5),
    "revision": Task(revision, 12, 4, 5, 4),
}
