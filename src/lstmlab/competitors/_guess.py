"""Random weight guessing (Schmidhuber & Hochreiter 1996; Hochreiter & Schmidhuber 1997, §5.3).

The baseline that tells whether a task is hard for *search*, not just for gradient descent:

    repeat for trial = 1, 2, ...:
        draw every weight w ~ Uniform[-weight_range, weight_range]
        if the net with these weights meets the task's success criterion: stop

and report the number of trials. Hochreiter & Schmidhuber (1997, Table 4 caption and §5.3) note
that guessing solves the 2-sequence problem (experiment 3a) faster than any published gradient
method, which is why the LSTM paper adds the harder variants 3b and 3c; the 1997 paper gives no
guessing numbers itself (they are in the NIPS 9 paper, not stored here).

Guesses are evaluated ``batch`` at a time: a population of networks whose parameters are stacked
along a leading axis, run with ``torch.func.vmap``; trial k of a batched run draws exactly the
weights trial k of an unbatched run draws (one generator, draws in trial order), so the trial
count does not depend on ``batch``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap


@dataclass(frozen=True)
class GuessResult:
    """``success``: a guess met the criterion; ``trials``: guesses drawn until then (or all)."""

    success: bool
    trials: int
    weights: dict[str, Tensor] | None


def draw_weights(
    model: nn.Module, count: int, weight_range: float, generator: torch.Generator
) -> dict[str, Tensor]:
    """``count`` guesses of every parameter of ``model``, stacked: name -> (count, *shape).

    Guess k is drawn in full before guess k+1, so the k-th guess is the same whatever ``count``.
    """
    params = dict(model.named_parameters())
    flat_sizes = [p.numel() for p in params.values()]
    draws = torch.rand(count, sum(flat_sizes), generator=generator, dtype=torch.float64)
    draws = (2 * draws - 1) * weight_range
    out, start = {}, 0
    for (name, p), size in zip(params.items(), flat_sizes, strict=True):
        out[name] = draws[:, start:start + size].reshape(count, *p.shape).to(p.dtype)
        start += size
    return out


def guess(
    model: nn.Module,
    solves: Callable[[Callable[[Tensor], Tensor]], Tensor],
    *,
    weight_range: float,
    max_trials: int,
    generator: torch.Generator,
    batch: int = 64,
) -> GuessResult:
    """Guess weights for ``model`` until ``solves`` accepts them.

    ``solves(forward)`` gets a function mapping the task's inputs to the outputs of every guess
    in the batch, ``forward(x) -> (K, *model(x).shape)``, and returns a (K,) bool tensor: which
    guesses meet the success criterion. ``weight_range`` > 0; ``max_trials`` >= 1.
    """
    if weight_range <= 0:
        raise ValueError(f"weight_range: expected > 0, received {weight_range}")
    if max_trials < 1:
        raise ValueError(f"max_trials: expected >= 1, received {max_trials}")
    if batch < 1:
        raise ValueError(f"batch: expected >= 1, received {batch}")
    buffers = {name: b for name, b in model.named_buffers()}
    done = 0
    while done < max_trials:
        count = min(batch, max_trials - done)
        weights = draw_weights(model, count, weight_range, generator)

        def forward(x: Tensor, weights: dict[str, Tensor] = weights) -> Tensor:
            def one(guessed: dict[str, Tensor]) -> Tensor:
                return functional_call(model, (guessed, buffers), (x,))

            return vmap(one)(weights)

        ok = solves(forward)
        if ok.shape != (count,):
            raise ValueError(f"solves: expected a ({count},) bool tensor, "
                             f"received shape {tuple(ok.shape)}")
        hits = torch.nonzero(ok).flatten()
        if hits.numel():
            k = int(hits[0])
            return GuessResult(True, done + k + 1, {n: w[k].clone() for n, w in weights.items()})
        done += count
    return GuessResult(False, done, None)


__all__ = ["GuessResult", "draw_weights", "guess"]
