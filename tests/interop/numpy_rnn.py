"""Independent references for the interop tests: LSTM and GRU written in numpy, float64,
one step at a time from torch's documented equations (nothing of lstmlab's is used), and the
public model definitions the tests re-create.

``numpy_lstm(weights, x)`` / ``numpy_gru(weights, x)``: ``weights`` a torch-style state dict of
numpy arrays (``weight_ih_l0``, ..., ``*_reverse``), x (T, B, I) time-major. Returns
{(layer, direction): {"i", "f", "g", "o", "c", "h"} or {"r", "z", "n", "h"}} of (T, B, .) arrays
in input position order.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _layers(weights):
    return 1 + max(int(k.split("_l")[-1].split("_")[0]) for k in weights if "_l" in k)


def _params(weights, layer, direction):
    sfx = f"_l{layer}" + ("_reverse" if direction else "")
    get = {name: weights.get(name + sfx) for name in
           ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}
    rows = get["weight_ih"].shape[0]
    for name in ("bias_ih", "bias_hh"):
        if get[name] is None:
            get[name] = np.zeros(rows)
    return get


def _run(weights, x, step, fields):
    directions = 2 if "weight_ih_l0_reverse" in weights else 1
    result, layer_input = {}, np.asarray(x, np.float64)
    steps, batch, _ = layer_input.shape
    for layer in range(_layers(weights)):
        outputs = []
        for direction in range(directions):
            p = {k: None if v is None else np.asarray(v, np.float64)
                 for k, v in _params(weights, layer, direction).items()}
            state = None
            record = {k: [None] * steps for k in fields}
            for t in (range(steps - 1, -1, -1) if direction else range(steps)):
                state, values = step(p, layer_input[t], state, batch)
                for k in fields:
                    record[k][t] = values[k]
            record = {k: np.stack(v) for k, v in record.items()}
            result[layer, direction] = record
            outputs.append(record["h"])
        layer_input = np.concatenate(outputs, axis=-1)
    return result


def _lstm_step(p, x_t, state, batch):
    hidden = p["weight_hh"].shape[0] // 4
    width = p["weight_hh"].shape[1]
    h, c = state if state is not None else (np.zeros((batch, width)), np.zeros((batch, hidden)))
    pre = x_t @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
    i, f, g, o = np.split(pre, 4, axis=-1)
    i, f, g, o = _sigmoid(i), _sigmoid(f), np.tanh(g), _sigmoid(o)
    c = f * c + i * g
    h = o * np.tanh(c)
    if p["weight_hr"] is not None:
        h = h @ p["weight_hr"].T
    return (h, c), {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


def _gru_step(p, x_t, state, batch):
    hidden = p["weight_hh"].shape[1]
    h = state if state is not None else np.zeros((batch, hidden))
    xr, xz, xn = np.split(x_t @ p["weight_ih"].T + p["bias_ih"], 3, axis=-1)
    hr, hz, hn = np.split(h @ p["weight_hh"].T + p["bias_hh"], 3, axis=-1)
    r, z = _sigmoid(xr + hr), _sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    h = (1 - z) * n + z * h
    return h, {"r": r, "z": z, "n": n, "h": h}


def numpy_lstm(weights, x):
    return _run(weights, x, _lstm_step, "ifgoch")


def numpy_gru(weights, x):
    return _run(weights, x, _gru_step, "rznh")


def numpy_weights(module_or_state, prefix=""):
    """The stack's parameters under ``prefix`` as float64 numpy arrays, prefix removed."""
    state = module_or_state if isinstance(module_or_state, dict) else \
        module_or_state.state_dict()
    return {k[len(prefix):]: v.detach().double().numpy() for k, v in state.items()
            if k.startswith(prefix)}


class RNNModel(nn.Module):
    """PyTorch examples, word_language_model/model.py's RNNModel (LSTM/GRU branch), re-created:
    encoder (nn.Embedding), rnn (nn.LSTM or nn.GRU), decoder (nn.Linear); forward(input,
    hidden) with input (T, B) token ids; init_hidden(bsz)."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output).view(-1, self.ntoken)
        return torch.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def corpus_dictionary(lines):
    """word_language_model/data.py's Dictionary as Corpus.tokenize fills it, re-created."""
    word2idx, idx2word = {}, []
    for line in lines:
        for word in line.split() + ["<eos>"]:
            if word not in word2idx:
                idx2word.append(word)
                word2idx[word] = len(idx2word) - 1
    return word2idx
