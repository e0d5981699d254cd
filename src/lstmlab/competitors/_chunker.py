"""The Neural Sequence Chunker / history compressor (Schmidhuber 1992), a 1997 competitor.

Schmidhuber, "Learning complex, extended sequences using the principle of history compression",
Neural Computation 4(2):234–242, 1992. Hochreiter & Schmidhuber 1997 ran it on experiment 2a
(Table 2: "CH", 33 % success, 32,400 sequences) as "two nets like RTRL's, one with an extra output
predicting the other's hidden unit" (§5.2), and report that it fails on 2b.

Two recurrent nets, each h_t = tanh(x_t @ W_ih.T + h_{t-1} @ W_hh.T + b) (``ElmanCell``) with a
logistic readout:

* the *automatizer* A reads every input x_t and predicts the next one, y^A_t ≈ x_{t+1};
* the *chunker* C reads only the inputs A failed to predict — the compressed history — each with
  its time stamp, and predicts the next unexpected input.

An input x_{t+1} is *unexpected* when A's prediction of it missed by more than ``surprise`` in some
output unit: max_k |y^A_{t,k} - x_{t+1,k}| > surprise. The first input of a sequence is always
unexpected (nothing predicted it). Because nothing A can predict reaches C, C's sequences are
short, and a long time lag in the input is a short one for C (2a: C sees only the first and the
last symbol).

Prediction of the whole system at step t: A's output, unless C is surer than A (its largest
output unit is larger than A's); then C's prediction. This rule is our choice: [H97] does not
say how the two levels' predictions were combined. Collapse ([H97] §5.2:
"one with an extra output predicting the other's hidden unit"): A has ``C.hidden_size`` extra
outputs trained to predict C's current hidden state, so what C knows is distilled into A.

Both nets are trained online, one sequence at a time, by gradient descent on the squared error of
their predictions (eq. 16 of the 1997 paper), gradients by backpropagation through the sequence.
This is the gradient offline RTRL would compute for the sequence ([H97] §5: untruncated BPTT
"computes exactly the same gradient as offline RTRL"); the 1997 runs updated at every step
instead, a documented difference. [H97] = Hochreiter & Schmidhuber 1997.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from lstmlab.cells import ElmanCell


def surprises(predictions: Tensor, targets: Tensor, surprise: float) -> Tensor:
    """Where the lower level's prediction missed: (T, B) bool.

    ``predictions`` (T, B, I): the prediction at step t of the next input; ``targets`` (T, B, I):
    that next input (for next-symbol tasks, targets[t] = inputs[t + 1]). A miss is
    max_k |predictions[t, k] - targets[t, k]| > ``surprise``.
    """
    if predictions.shape != targets.shape:
        raise ValueError(f"predictions: expected the targets' shape {tuple(targets.shape)}, "
                         f"received {tuple(predictions.shape)}")
    return (predictions - targets).abs().amax(dim=-1) > surprise


def unexpected_inputs(missed: Tensor) -> Tensor:
    """Which inputs reach the higher level, (T, B) bool: x_0 always, x_t when step t-1 missed."""
    return torch.cat([torch.ones_like(missed[:1]), missed[:-1]], dim=0)


def compress(inputs: Tensor, unexpected: Tensor) -> list[tuple[Tensor, Tensor]]:
    """The higher level's input, per sequence: (time steps (n,), inputs (n, I)) where unexpected.

    ``inputs`` (T, B, I), ``unexpected`` (T, B) bool.
    """
    return [(torch.nonzero(unexpected[:, b]).flatten(), inputs[unexpected[:, b], b])
            for b in range(inputs.shape[1])]


@dataclass(frozen=True)
class ChunkerConfig:
    """``hidden_size`` per net (the 1997 runs: one self-recurrent unit), ``surprise``: the
    error above which an input counts as unexpected; weights start in ±``weight_range``.

    ``learning_rate`` 0.01 (ours): [H97] ran the chunker with 1.0 (Table 2), but updating at
    every step; here one update per sequence applies the gradient summed over the sequence's
    steps, 100 of them on 2a, so 1.0 / 100 takes steps of the paper's size. With 1.0 itself
    every output unit of both nets saturates within the first 100 sequences of 2a (p = 100)
    and no trial learns (measured: 9 of 9 trials at 50,000 sequences, error 1.0 throughout).
    """

    hidden_size: int = 1
    learning_rate: float = 0.01
    surprise: float = 0.3
    weight_range: float = 0.2


class Chunker(torch.nn.Module):
    """The two-level history compressor; ``input_size`` I, ``output_size`` O (default I).

    A: ElmanCell(I, H) and a readout from [x_t, h_t] to O + H logistic outputs (the next target
    and, for collapse, C's hidden state mapped to [0, 1]). C: ElmanCell(I + 1, H) (the input and
    its time stamp t / length) and a readout from its latest input and state to O logistic outputs.
    Outputs see the inputs directly, as in the 1997 paper's RTRL nets for experiment 2 ("each
    layer connected from all layers below", §5.2). For next-symbol tasks O = I and the target
    at t is the input at t + 1.
    """

    def __init__(self, input_size: int, config: ChunkerConfig, generator: torch.Generator,
                 output_size: int | None = None) -> None:
        super().__init__()
        hidden = config.hidden_size
        self.config = config
        self.input_size = input_size
        self.output_size = output_size = output_size or input_size
        self.automatizer = ElmanCell(input_size, hidden, dtype=torch.float64)
        self.automatizer_readout = torch.nn.Linear(input_size + hidden, output_size + hidden,
                                                   dtype=torch.float64)
        self.chunker = ElmanCell(input_size + 1, hidden, dtype=torch.float64)
        self.chunker_readout = torch.nn.Linear(input_size + 1 + hidden, output_size,
                                               dtype=torch.float64)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-config.weight_range, config.weight_range, generator=generator)

    def forward(self, inputs: Tensor, targets: Tensor,
                lengths: Tensor | None = None) -> dict[str, Tensor]:
        """Run both levels over ``inputs`` (T, B, I) with ``targets`` (T, B, O); ``lengths``
        (B,) scales each sequence's time stamps t / length (default: T for every sequence), so
        a sequence gets the same stamps alone as in a padded batch.

        Returns ``prediction`` (T, B, O), the system's prediction of the target at t;
        ``automatizer`` (T, B, O + H) A's outputs; ``chunker`` (T, B, O) C's latest prediction
        (C reads x_0 at t = 0, so it has one at every step); ``chunker_hidden`` (T, B, H) C's
        state; ``unexpected`` (T, B) the steps whose input C read; ``missed`` (T, B) the steps
        whose target A missed.
        """
        steps, batch, width = inputs.shape
        if width != self.input_size:
            raise ValueError(f"inputs: expected {self.input_size} features, received {width}")
        size = self.output_size
        state = self.automatizer.initial_state(batch, dtype=inputs.dtype)
        a_out = []
        for t in range(steps):
            state, _ = self.automatizer(inputs[t], state)
            readout = self.automatizer_readout(torch.cat([inputs[t], state.h], -1))
            a_out.append(torch.sigmoid(readout))
        a_out = torch.stack(a_out)
        missed = surprises(a_out[..., :size].detach(), targets, self.config.surprise)
        unexpected = unexpected_inputs(missed)
        scale = torch.full((batch,), steps) if lengths is None else lengths
        stamps = (torch.arange(steps, dtype=inputs.dtype).unsqueeze(1)
                  / scale.to(inputs.dtype).unsqueeze(0))                            # (T, B)
        c_state = self.chunker.initial_state(batch, dtype=inputs.dtype)
        c_in = torch.cat([inputs, stamps.unsqueeze(-1)], dim=-1)
        c_last = torch.zeros_like(c_in[0])   # C's latest input, (B, I + 1)
        c_hidden, c_pred = [], []
        for t in range(steps):
            new_state, _ = self.chunker(c_in[t], c_state)
            keep = unexpected[t].unsqueeze(-1)
            c_state = type(c_state)(torch.where(keep, new_state.h, c_state.h))
            c_last = torch.where(keep, c_in[t], c_last)
            c_hidden.append(c_state.h)
            c_pred.append(torch.sigmoid(self.chunker_readout(torch.cat([c_last, c_state.h], -1))))
        c_hidden, c_pred = torch.stack(c_hidden), torch.stack(c_pred)
        # C speaks where it is surer than A (max output unit).
        unsure = a_out[..., :size].amax(-1) < c_pred.amax(-1)
        prediction = torch.where(unsure.unsqueeze(-1), c_pred, a_out[..., :size])
        return {"prediction": prediction, "automatizer": a_out, "chunker": c_pred,
                "chunker_hidden": c_hidden, "unexpected": unexpected, "missed": missed}

    def losses(self, inputs: Tensor, targets: Tensor, mask: Tensor,
               lengths: Tensor | None = None) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """Squared errors over the ``mask`` (T, B) steps: A's (next input, and C's state for
        collapse) and C's (the next input, at the steps A missed)."""
        run = self(inputs, targets, lengths)
        size = self.output_size
        weight = mask.unsqueeze(-1).to(inputs.dtype)
        a_next = (((run["automatizer"][..., :size] - targets) ** 2) * weight).sum()
        c_target = (run["chunker_hidden"].detach() + 1) / 2
        a_collapse = (((run["automatizer"][..., size:] - c_target) ** 2) * weight).sum()
        c_weight = (run["missed"] & mask).unsqueeze(-1).to(inputs.dtype)
        c_loss = (((run["chunker"] - targets) ** 2) * c_weight).sum()
        return a_next + a_collapse, c_loss, run

    def train_step(self, inputs: Tensor, targets: Tensor, mask: Tensor,
                   lengths: Tensor | None = None) -> dict[str, Tensor]:
        """One online update of both nets on the sequences of one batch (T, B, I)."""
        self.zero_grad()
        a_loss, c_loss, run = self.losses(inputs, targets, mask, lengths)
        (a_loss + c_loss).backward()
        with torch.no_grad():
            for p in self.parameters():
                if p.grad is not None:
                    p -= self.config.learning_rate * p.grad
        return run
