"""The tour's language model and its training loop.

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

from lstmlab.tasks.pronouns import PronounData


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


@dataclass(frozen=True)
class TrainConfig:
    """Adam on the next-word cross-entropy (padding ignored), fixed number of steps."""

    steps: int = 1500
    batch_size: int = 32
    learning_rate: float = 1e-2
    clip_norm: float = 1.0


def next_word_loss(model: LanguageModel, tokens: Tensor) -> Tensor:
    """Mean cross-entropy of predicting tokens[:, 1:] from tokens[:, :-1], padding (0) ignored."""
    logits = model(tokens[:, :-1])
    return nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), ignore_index=0
    )


def train(
    model: LanguageModel,
    data: PronounData,
    config: TrainConfig,
    *,
    generator: torch.Generator,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train in place on random batches of ``data``; returns the loss of every step.

    ``on_step(step, loss)`` is called after each step (the CLI draws its progress bar with it).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    losses = []
    num_examples = data.tokens.shape[0]
    for step in range(config.steps):
        rows = torch.randint(num_examples, (config.batch_size,), generator=generator)
        batch = data.tokens[rows]
        batch = batch[:, : int(data.lengths[rows].max())]
        loss = next_word_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
        optimizer.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step, losses[-1])
    return losses
