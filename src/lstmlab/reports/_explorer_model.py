"""An LSTM carried inside the explorer page, so a reader can type a sentence and see every gate.

The page runs one LSTM layer (forward direction) in plain JavaScript with Float64 arithmetic,
the equations of ``lstmlab.cells._lstm`` with torch's gate order i, f, g, o (shapes: V vocabulary,
I input width, H hidden):

    x_t = embedding[token_t]            (one-hot e_token when ``embedding`` is None; then I = V)
    pre = weight_ih @ x_t + weight_hh @ h_{t-1} + bias            (4H,), bias = b_ih + b_hh
    i, f, g, o = sigmoid(pre[:H]), sigmoid(pre[H:2H]), tanh(pre[2H:3H]), sigmoid(pre[3H:])
    c_t = f * c_{t-1} + i * g ;  h_t = o * tanh(c_t)              from h_{-1} = c_{-1} = 0

Tokenizers (``tokenize``; the page's ``tokenize`` is the same rule), chosen by ``tokenizer``:
``"words"`` (the default): lower-case, '.' and ',' become tokens of their own, then split on
ASCII whitespace (space, tab, newline, CR, FF, VT); this reproduces the tour corpus's tokens
(``lstmlab.tasks._pronouns`` writes lower-case words and a separate '.'). ``"whitespace"``: split
on ASCII whitespace only, case and punctuation kept (``lstmlab inspect --text``'s tokens).

Unknown words: if ``unknown`` names a vocabulary entry (e.g. ``"<unk>"``) they
read that row; otherwise the page refuses the sentence and lists the unknown words and the
vocabulary.

The weights travel as JSON numbers written with Python's ``repr`` of float64 (shortest
round-trip), so the page's weights equal these to the last bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmlab.errors import UserError

_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_PUNCTUATION = re.compile(r"[.,]")


TOKENIZERS = ("words", "whitespace")


def tokenize(text: str, tokenizer: str = "words") -> list[str]:
    """The explorer's tokenizers (module docstring): ``"She ran." -> ["she", "ran", "."]``."""
    if tokenizer == "words":
        text = _PUNCTUATION.sub(lambda match: f" {match.group(0)} ", text.lower())
    elif tokenizer != "whitespace":
        raise UserError(f"tokenizer: expected one of {TOKENIZERS}, got {tokenizer!r}")
    return [word for word in _WHITESPACE.split(text) if word]


def _matrix(name: str, value, shape: tuple[int | None, ...], why: str = "") -> np.ndarray:
    array = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
    if array.dtype.kind not in "fiu":
        raise UserError(f"ExplorerModel.{name}: expected real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim != len(shape) or any(want is not None and got != want
                                       for got, want in zip(array.shape, shape, strict=True)):
        expected = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise UserError(f"ExplorerModel.{name}: expected shape {expected}{why}, got "
                        f"{array.shape}")
    bad = int((~np.isfinite(array)).sum())
    if bad:
        raise UserError(f"ExplorerModel.{name}: {bad} non-finite values (NaN or inf)")
    return array


@dataclass(frozen=True, eq=False)
class ExplorerModel:
    """One LSTM layer and its vocabulary (token k reads row k of ``embedding``)."""

    vocabulary: tuple[str, ...]
    embedding: np.ndarray | None  # (V, I), or None for one-hot input (I = V)
    weight_ih: np.ndarray  # (4H, I), rows in torch's gate order i, f, g, o
    weight_hh: np.ndarray  # (4H, H)
    bias: np.ndarray  # (4H,) = bias_ih + bias_hh
    unknown: str | None = None  # the vocabulary entry that unknown words read, if any
    view: str = ""  # the explorer view whose examples a typed sentence joins
    tokenizer: str = "words"  # how the page splits a typed sentence: one of TOKENIZERS

    def __post_init__(self) -> None:
        vocabulary = tuple(self.vocabulary)
        if not vocabulary or not all(isinstance(w, str) and w for w in vocabulary):
            raise UserError("ExplorerModel.vocabulary: expected non-empty strings, at least one")
        if len(set(vocabulary)) != len(vocabulary):
            raise UserError("ExplorerModel.vocabulary: expected distinct words")
        if self.tokenizer not in TOKENIZERS:
            raise UserError(f"ExplorerModel.tokenizer: expected one of {TOKENIZERS}, got "
                            f"{self.tokenizer!r}")
        if self.unknown is not None and self.unknown not in vocabulary:
            raise UserError(f"ExplorerModel.unknown: {self.unknown!r} is not in the vocabulary")
        weight_hh = _matrix("weight_hh", self.weight_hh, (None, None))
        hidden = weight_hh.shape[1]
        if hidden < 1 or weight_hh.shape[0] != 4 * hidden:
            raise UserError(f"ExplorerModel.weight_hh: expected shape (4H, H) with H >= 1, got "
                            f"{weight_hh.shape}")
        if self.embedding is None:
            embedding, width, why = None, len(vocabulary), " (one-hot input: I = vocabulary size)"
        else:
            embedding = _matrix("embedding", self.embedding, (len(vocabulary), None),
                                " (one row per vocabulary word)")
            width, why = embedding.shape[1], " (I = the embedding's width)"
        object.__setattr__(self, "vocabulary", vocabulary)
        object.__setattr__(self, "embedding", embedding)
        object.__setattr__(self, "weight_hh", weight_hh)
        object.__setattr__(self, "weight_ih", _matrix("weight_ih", self.weight_ih,
                                                      (4 * hidden, width), why))
        object.__setattr__(self, "bias", _matrix("bias", self.bias, (4 * hidden,)))

    @property
    def hidden_size(self) -> int:
        return self.weight_hh.shape[1]

    @classmethod
    def from_lstm(cls, lstm: nn.Module, vocabulary: tuple[str, ...], embedding=None, *,
                  unknown: str | None = None, view: str = "",
                  tokenizer: str = "words") -> ExplorerModel:
        """Layer 0, forward direction, of a ``torch.nn.LSTM`` or ``lstmlab.layers.LSTM``
        (read by torch's parameter names; the layer must have no ``proj_size``)."""
        if getattr(lstm, "proj_size", 0):
            raise UserError("ExplorerModel.from_lstm: the page runs LSTMs without proj_size")
        state = lstm.state_dict()
        missing = [k for k in ("weight_ih_l0", "weight_hh_l0") if k not in state]
        if missing:
            raise UserError(f"ExplorerModel.from_lstm: expected torch.nn.LSTM parameters, "
                            f"missing {missing}")
        weight_hh = state["weight_hh_l0"]
        bias = torch.zeros(weight_hh.shape[0], dtype=torch.float64)
        for key in ("bias_ih_l0", "bias_hh_l0"):
            if key in state:
                bias = bias + state[key].detach().double().cpu()
        return cls(tuple(vocabulary), embedding, state["weight_ih_l0"], weight_hh, bias,
                   unknown=unknown, view=view, tokenizer=tokenizer)

    def data(self) -> dict:
        """The page's JSON: every weight a float64 written with its shortest repr."""
        return {
            "vocabulary": list(self.vocabulary),
            "embedding": None if self.embedding is None else self.embedding.tolist(),
            "weight_ih": self.weight_ih.tolist(),
            "weight_hh": self.weight_hh.tolist(),
            "bias": self.bias.tolist(),
            "hidden_size": self.hidden_size,
            "unknown": self.unknown,
            "view": self.view,
            "tokenizer": self.tokenizer,
        }
