"""The tour's language model and how it learns (with the one training loop,
:func:`lstmlab.training._loop.train`).

A word-level language model: ``e_t = embedding[x_t]``, ``h_t = recurrent(e_t, h_{t-1})``,
``logits_t = h_t @ W_out.T + b_out`` predicts x_{t+1}. The recurrent layer is any drop-in
``torch.nn.LSTM`` / ``torch.nn.RNN`` class (one layer, ``batch_first``), so the LSTM and the
simple RNN are trained the same way, with the same sizes, on the same batches.

Shapes: B batch, T time, V vocabulary, E embedding, H hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from lstmlab.tasks._pronouns import PronounData
from lstmlab.training import Adam, TrainConfig
from lstmlab.training._algorithm import StepOutcome
from lstmlab.training._losses import Loss


class LanguageModel(nn.Module):
    """Embedding -> one recurrent layer -> linear read-out over the vocabulary."""

    def __init__(self, recurrent: type[nn.Module], vocab_size: int, embedding_size: int,
                 hidden_size: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.recurrent = recurrent(embedding_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    @property
    def hidden_size(self) -> int:
        return self.head.in_features

    def forward(self, tokens: Tensor) -> Tensor:
        """``tokens`` (B, T) long -> logits (B, T, V); logits[:, t] predicts tokens[:, t + 1]."""
        hidden, _ = self.recurrent(self.embedding(tokens))
        return self.head(hidden)


def next_word_loss(logits: Tensor, next_tokens: Tensor, mask: Tensor) -> Tensor:
    """Mean cross-entropy of ``logits`` (B, T, V) against ``next_tokens`` (B, T) over the
    positions ``mask`` (B, T) marks; the tour marks every token but padding (0)."""
    targets = next_tokens.masked_fill(~mask, -100)  # cross_entropy's ignore_index
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@dataclass(frozen=True)
class NextWordStep:
    """The tour's learning algorithm for :func:`lstmlab.training._loop.train`: on a batch of
    token rows (B, T), predict tokens[:, 1:] from tokens[:, :-1], backpropagate the loss,
    clip the gradient's norm to ``clip_norm``, take one optimizer step."""

    clip_norm: float = 1.0

    def __call__(self, model: nn.Module, tokens: Tensor, loss: Loss,
                 optimizer: torch.optim.Optimizer) -> StepOutcome:
        following = tokens[:, 1:]
        logits = model(tokens[:, :-1])
        value = loss(logits, following, following != 0)
        optimizer.zero_grad()
        value.backward()
        nn.utils.clip_grad_norm_(model.parameters(), self.clip_norm)
        optimizer.step()
        return StepOutcome(value.detach(), logits.detach())


def recipe(steps: int = 1500, learning_rate: float = 1e-2,
           clip_norm: float = 1.0) -> TrainConfig:
    """The tour's recipe as a :class:`~lstmlab.training._loop.TrainConfig`: Adam on the
    next-word cross-entropy, gradient norm clipped, a fixed number of steps."""
    return TrainConfig(max_steps=steps, optimizer=Adam(lr=learning_rate),
                       algorithm=NextWordStep(clip_norm), loss=next_word_loss, check=None)


def token_batches(data: PronounData, batch_size: int) -> Callable[[torch.Generator], Tensor]:
    """``sample(generator)``: ``batch_size`` random rows of ``data``'s tokens (B, T), cut to
    the longest of them."""
    num_examples = data.tokens.shape[0]

    def sample(generator: torch.Generator) -> Tensor:
        rows = torch.randint(num_examples, (batch_size,), generator=generator)
        return data.tokens[rows][:, : int(data.lengths[rows].max())]

    return sample
