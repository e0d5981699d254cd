"""What ``lstmlab inspect`` feeds the model: the model's own token ids, or feature vectors.

Three input paths; the report names the one it used.

1. **The model's own embedding** (a torch state dict with an ``nn.Embedding`` weight beside the
   stack, a Keras ``Embedding`` layer, or a ``--model-class`` holding an ``nn.Embedding``):
   ``--ids "5 17 3"`` gives the token ids directly; ``--text`` is mapped to ids with a
   vocabulary ``--vocab FILE`` (one token per line, JSON token -> id, or the training corpus
   read as PyTorch's word-language-model ``data.Corpus``: ``_vocabulary.py``).
2. **Feature vectors from a file**: ``--input`` an array (T, I) or (B, T, I) (.npy without
   pickles, or .pt with ``weights_only``).
3. **Made-up vectors for text** (a model without an embedding): whitespace tokens; if the input
   width I is at least the number of distinct tokens, token k (in order of first appearance) is
   the one-hot e_k, else a fixed random vector N(0, 1/I) from ``seed``. The model never saw
   these: they show the gates' mechanics, not what the model learnt, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from lstmlab.interop import Embedding
from lstmlab.reports._vocabulary import (
    UNKNOWN,
    InspectError,
    check_range,
    check_text,
    encode_text,
    parse_ids,
    read_vocabulary,
)

MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class ModelInput:
    """``ids`` (B, T) long for the embedding path (``embedding`` the table they index), else
    ``features`` (B, T, I); ``words``: one label per position (of the first sequence);
    ``description``: the input path used, one sentence for the report."""

    ids: Tensor | None
    features: Tensor | None
    words: list[str]
    description: str
    embedding: Embedding | None = None

    @property
    def batch(self) -> int:
        return (self.ids if self.ids is not None else self.features).shape[0]


def check_seed(seed: int) -> int:
    if not 0 <= seed <= MAX_SEED:
        raise InspectError(f"--seed: expected an integer in 0..2**63-1, got {seed}")
    return seed


def text_features(text: str, input_size: int, seed: int) -> tuple[Tensor, list[str], bool]:
    """Whitespace tokens -> x (1, T, I), one-hot or fixed random (module docstring, path 3),
    the tokens, and whether the vectors are one-hot."""
    words = check_text(text).split()
    if not words:
        raise InspectError("--text: expected at least one token, got an empty text")
    index_of: dict[str, int] = {}
    index = torch.tensor([index_of.setdefault(w, len(index_of)) for w in words])
    if input_size >= len(index_of):
        table = torch.eye(input_size)[: len(index_of)]
    else:
        generator = torch.Generator().manual_seed(check_seed(seed))
        table = torch.randn(len(index_of), input_size, generator=generator) / input_size**0.5
    return table[index][None], words, input_size >= len(index_of)


def check_finite(tensor: Tensor, what: str) -> None:
    """InspectError naming ``what`` and how many values are NaN or Inf."""
    bad = int((~torch.isfinite(tensor)).sum())
    if bad:
        nans = int(torch.isnan(tensor).sum())
        raise InspectError(f"{what}: {bad} of {tensor.numel()} values are not finite ({nans} "
                           f"NaN, {bad - nans} Inf); refusing to report on them")


def load_array(path: Path) -> Tensor:
    """An array from .npy (no pickles) or .pt (weights_only), any shape."""
    path = Path(path)
    if not path.is_file():
        raise InspectError(f"--input {path}: no such file")
    try:
        if path.suffix == ".npy":
            array = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            array = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # numpy/torch raise many kinds for a file that is not theirs
        raise InspectError(f"--input {path}: cannot read an array ({type(error).__name__})") \
            from error
    if not isinstance(array, Tensor):
        raise InspectError(f"--input {path}: expected an array, got {type(array).__name__}")
    if array.is_complex():
        raise InspectError(f"--input {path}: a {array.dtype} array; expected real numbers")
    return array


def file_features(array: Tensor, path: Path, input_size: int) -> Tensor:
    """(T, I) or (B, T, I) real array -> (B, T, I) float32, checked."""
    if array.dim() not in (2, 3):
        raise InspectError(f"--input {path}: expected an array (T, I) or (B, T, I), got shape "
                           f"{tuple(array.shape)}")
    array = array[None] if array.dim() == 2 else array
    if array.shape[-1] != input_size:
        raise InspectError(f"--input {path}: the model reads {input_size} features per step, "
                           f"the array has {array.shape[-1]} (shape {tuple(array.shape)})")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise InspectError(f"--input {path}: shape {tuple(array.shape)} has no "
                           f"{'sequences' if array.shape[0] == 0 else 'steps'}")
    if array.dtype == torch.bool or not (array.is_floating_point() or array.dtype in (
            torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)):
        raise InspectError(f"--input {path}: dtype {array.dtype}; expected real numbers")
    array = array.double() if array.dtype == torch.float64 else array.float()
    check_finite(array, f"--input {path}")
    return array


def file_ids(array: Tensor, path: Path, num_tokens: int, table: str) -> Tensor:
    """An integer array (T,) or (B, T) of token ids -> (B, T) long, checked."""
    if array.dim() not in (1, 2) or array.numel() == 0:
        raise InspectError(f"--input {path}: token ids must be (T,) or (B, T) and non-empty, "
                           f"got shape {tuple(array.shape)}")
    ids = array.long().reshape(-1, array.shape[-1])
    check_range(ids.flatten().tolist(), num_tokens, table, None)
    return ids


def _table(embedding: Embedding) -> str:
    rows, width = embedding.weight.shape
    return f"the model's own embedding {embedding.name} ({rows} tokens x {width})"


def choose_input(*, text: str | None, ids: str | None, input_path: Path | None,
                 vocab: Path | None, vocab_format: str, embedding: Embedding | None,
                 input_size: int, seed: int, takes_ids: bool) -> ModelInput:
    """The model's input from exactly one of ``text``, ``ids`` and ``input_path`` (module
    docstring). ``takes_ids``: the model's forward reads ids (a user class with an
    embedding), so feature arrays are refused."""
    given = [name for name, value in (("--text", text), ("--ids", ids),
                                      ("--input", input_path)) if value is not None]
    if len(given) != 1:
        raise InspectError("give exactly one of --text, --ids and --input"
                           + (f" (got {' and '.join(given)})" if given else ""))
    vocabulary = None if vocab is None else read_vocabulary(vocab, vocab_format)
    if embedding is None and (ids is not None or vocabulary is not None):
        option = "--ids" if ids is not None else "--vocab"
        raise InspectError(f"{option}: the model has no embedding (no nn.Embedding weight "
                           "beside the recurrent stack, no Keras Embedding layer), so it reads "
                           "feature vectors, not token ids; give --text or --input")
    if ids is not None:
        tensor, words = parse_ids(ids, embedding.num_tokens, embedding.name, vocabulary)
        return ModelInput(tensor, None, words, f"Input: {len(words)} token ids (--ids) through "
                          f"{_table(embedding)}.", embedding)
    if text is not None:
        if embedding is None:
            x, words, one_hot = text_features(text, input_size, seed)
            kind = "a one-hot vector" if one_hot else f"a fixed random vector (seed {seed})"
            return ModelInput(None, x, words, f"Input: the model has no embedding, so each "
                              f"distinct token became {kind} of width {input_size}: made-up "
                              "inputs that show the gates' mechanics, not what the model "
                              "learnt.")
        if vocabulary is None:
            raise InspectError(f"--text: the model reads token ids through its own embedding "
                               f"{embedding.name} ({embedding.num_tokens} tokens); give --vocab "
                               "FILE (one token per line, JSON token -> id, or the training "
                               "corpus) or --ids")
        tensor, words, unknown = encode_text(text, vocabulary, embedding.num_tokens,
                                             embedding.name)
        note = f"; {unknown} token(s) not in it read as {UNKNOWN}" if unknown else ""
        return ModelInput(tensor, None, words, f"Input: the text through {_table(embedding)}, "
                          f"mapped to ids with the vocabulary {vocabulary.path.name} (read as "
                          f"{vocabulary.format}, {len(vocabulary.ids)} tokens){note}.",
                          embedding)
    array = load_array(input_path)
    if embedding is not None and not array.is_floating_point() and array.dtype != torch.bool:
        tensor = file_ids(array, input_path, embedding.num_tokens, embedding.name)
        tokens = vocabulary.tokens if vocabulary is not None else {}
        words = [tokens.get(i, f"#{i}") for i in tensor[0].tolist()]
        return ModelInput(tensor, None, words, f"Input: token ids from {input_path.name} "
                          f"({tensor.shape[0]} x {tensor.shape[1]}) through "
                          f"{_table(embedding)}.", embedding)
    if takes_ids:
        raise InspectError(f"--input {input_path}: the model's forward reads token ids (it has "
                           f"the embedding {embedding.name}); give an integer array of ids, "
                           "--ids, or --text with --vocab")
    features = file_features(array, input_path, input_size)
    bypass = f", fed to the recurrent stack directly (the file's embedding {embedding.name} " \
        "is not used)" if embedding is not None else ""
    return ModelInput(None, features, [f"t{t}" for t in range(features.shape[1])],
                      f"Input: the arrays in {input_path.name} ({features.shape[0]} x "
                      f"{features.shape[1]} x {features.shape[2]}){bypass}.")
