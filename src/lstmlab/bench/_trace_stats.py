"""What a trained cell's trace says about how it solves or fails a task.

Three measurements on a recorded run (each field (T, B, ...), trailing axes flattened into U
units; the task's ``latent`` z (T, B): running parity, residue, the value a key holds; and the
``symbol`` s (T, B) the step read):

- **probe**: a ridge-regression readout (one-hot targets, penalty ``ridge``) of z from the
  whole field, fitted at train lengths (steps t < ``short``) and scored there and at steps
  t >= ``long_from``: does the state hold z in a linearly readable code, and does that code
  stay valid past the lengths seen in training?
- **eta2** (correlation ratio, Fisher 1925) of each unit against a class c:
  ``eta2_u = sum_k n_k (mean_k(X_u) - mean(X_u))^2 / sum (X_u - mean(X_u))^2``, the share of
  the unit's variance the class explains (1: one value per class). Reported for the best unit
  vs z at train lengths and past them, and for gates the best unit vs s, with that unit's mean
  for each symbol (what the gate does at a 1 and at a 0).
- **flips** (states only): for the unit that codes z best, the rate at which its centred value
  changes sign at a step, per symbol read: a parity code flips at every 1 and never at a 0.
"""

from __future__ import annotations

import torch
from torch import Tensor


def correlation_ratio(values: Tensor, classes: Tensor, num_classes: int) -> Tensor:
    """eta2 per unit (U,) of ``values`` (N, U) grouped by ``classes`` (N,) in 0..num_classes-1.

    A unit without variance gets 0 (nothing of it is explained)."""
    values = values.double()
    counts = torch.bincount(classes, minlength=num_classes).double()  # (K,)
    sums = torch.zeros(num_classes, values.shape[1], dtype=torch.float64)
    sums.index_add_(0, classes, values)
    mean = values.mean(0)
    present = counts > 0
    class_means = sums[present] / counts[present, None]
    between = (counts[present, None] * (class_means - mean) ** 2).sum(0)
    total = ((values - mean) ** 2).sum(0)
    ratio = between / total.clamp_min(1e-300)
    return torch.where(total > 1e-12 * values.shape[0], ratio, torch.zeros_like(ratio))


def probe_accuracy(train: Tensor, train_classes: Tensor, test: Tensor, test_classes: Tensor,
                   num_classes: int, ridge: float = 1e-3) -> tuple[float, float]:
    """Accuracy of a ridge readout fitted on (train (N, U), classes), on train and on test."""
    mean, scale = train.mean(0), train.std(0).clamp_min(1e-6)

    def design(x: Tensor) -> Tensor:
        x = (x - mean) / scale
        return torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], 1)

    a = design(train)
    targets = torch.nn.functional.one_hot(train_classes, num_classes).double()
    gram = a.T @ a + ridge * a.shape[0] * torch.eye(a.shape[1], dtype=a.dtype)
    weights = torch.linalg.solve(gram, a.T @ targets)

    def score(x: Tensor, classes: Tensor) -> float:
        return float(((design(x) @ weights).argmax(1) == classes).double().mean())

    return score(train, train_classes), score(test, test_classes)


def _units(field: Tensor) -> Tensor:
    """(T, B, ...) -> (T*B, U) float64, units that are not finite everywhere dropped (the
    stabilizer m starts at -inf)."""
    units = field.detach().cpu().reshape(field.shape[0] * field.shape[1], -1).double()
    return units[:, torch.isfinite(units).all(0)]


def field_report(fields: dict[str, Tensor], latent: Tensor, latent_classes: int,
                 symbol: Tensor, symbol_classes: int, short: int, long_from: int) -> dict:
    """Per named field ("state.c", "gate.forget", ...; each (T, B, ...)): ``probe`` [train
    lengths, beyond], ``eta2`` [train lengths, beyond]; states add ``flips`` (one rate per
    symbol), gates ``symbol_eta2`` and ``symbol_means`` (module docstring)."""
    steps = latent.shape[0]
    if not 0 < short <= steps or not 0 <= long_from < steps:
        raise ValueError(f"short and long_from must lie in the trace's {steps} steps, got "
                         f"short={short}, long_from={long_from}")
    z_short, z_long = latent[:short].reshape(-1), latent[long_from:].reshape(-1)
    report = {}
    for name, field in fields.items():
        short_units, long_units = _units(field[:short]), _units(field[long_from:])
        entry: dict = {"probe": [0.0, 0.0], "eta2": [0.0, 0.0]}
        if short_units.shape[1] and short_units.shape[1] == long_units.shape[1]:
            entry["probe"] = list(probe_accuracy(short_units, z_short, long_units, z_long,
                                                 latent_classes))
            eta_short = correlation_ratio(short_units, z_short, latent_classes)
            eta_long = correlation_ratio(long_units, z_long, latent_classes)
            entry["eta2"] = [float(eta_short.max()), float(eta_long.max())]
            best = int(eta_short.argmax())
        all_units = _units(field)
        if name.startswith("state.") and all_units.shape[1]:
            if short_units.shape[1] != all_units.shape[1]:
                best = int(correlation_ratio(all_units, latent.reshape(-1),
                                             latent_classes).argmax())
            unit = all_units[:, best].reshape(steps, -1)
            sign = (unit - unit.mean()) > 0
            changed = (sign[1:] != sign[:-1]).double()  # (T-1, B), step t = 1..T-1
            read = symbol[1:]
            entry["flips"] = [float(changed[read == s].mean()) if bool((read == s).any())
                              else 0.0 for s in range(symbol_classes)]
        if name.startswith("gate.") and all_units.shape[1]:
            eta = correlation_ratio(all_units, symbol.reshape(-1), symbol_classes)
            unit = all_units[:, int(eta.argmax())]
            flat = symbol.reshape(-1)
            entry["symbol_eta2"] = float(eta.max())
            entry["symbol_means"] = [float(unit[flat == s].mean()) if bool((flat == s).any())
                                     else 0.0 for s in range(symbol_classes)]
        report[name] = entry
    return report
