"""trace_module: a user's own nn.Module, run by its own forward; each recurrent submodule
traced on the input the hooks captured, which must equal what the module really computed."""

import pytest
import torch
from torch import nn

from lstmlab.introspection import trace, trace_gru, trace_module
from lstmlab.layers import GRU, LSTM


class Encoder(nn.Module):
    """Embedding -> LSTM (batch_first) -> a tanh projection -> our GRU, and the LSTM again."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 4)
        self.lstm = nn.LSTM(4, 5, batch_first=True)
        self.mix = nn.Linear(5, 3)
        self.gru = GRU(3, 2, bidirectional=True)
        self.ours = LSTM(4, 3, num_layers=2)

    def forward(self, ids):
        x = self.embed(ids)                          # (B, T, 4)
        h, _ = self.lstm(x)
        g, _ = self.gru(torch.tanh(self.mix(h)).transpose(0, 1))
        again, _ = self.lstm(x.flip(1))              # a second call of the same module
        o, _ = self.ours(x.transpose(0, 1))
        return g.sum() + again.sum() + o.sum()


def test_every_call_traced_on_its_real_input():
    torch.manual_seed(0)
    model = Encoder().eval()
    ids = torch.randint(0, 11, (2, 6))
    result = trace_module(model, ids)
    assert [(c.name, c.kind) for c in result.calls] == [
        ("lstm", "LSTM"), ("gru", "GRU"), ("lstm", "LSTM"), ("ours", "LSTM")]
    x = model.embed(ids).detach()
    with torch.no_grad():
        h, _ = model.lstm(x)
        mixed = torch.tanh(model.mix(h)).transpose(0, 1)
        g, _ = model.gru(mixed)
        o, _ = model.ours(x.transpose(0, 1))
    torch.testing.assert_close(result.calls[0].trace[0].hidden, h.transpose(0, 1))
    torch.testing.assert_close(result.calls[1].trace.layers[0][1].hidden, g[..., 2:])
    torch.testing.assert_close(result.calls[1].trace[0].update,
                               trace_gru(model.gru, mixed)[0].update)
    torch.testing.assert_close(result.calls[2].trace[0].cell,
                               trace(model.lstm, x.flip(1))[0].cell)
    torch.testing.assert_close(result.calls[3].trace[1].hidden, o)
    assert result["ours"] is result.calls[3].trace
    torch.testing.assert_close(result.output, g.sum() + trace(model.lstm, x.flip(1))[0]
                               .hidden.sum() + o.sum())
    # the hooks are gone afterwards
    assert not any(m._forward_hooks for m in model.modules())


def test_initial_state_given_to_the_module_is_used():
    torch.manual_seed(1)

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(3, 4, num_layers=2)

        def forward(self, x, hidden):
            return self.rnn(x, hidden)

    model = WithState().eval()
    x, hidden = torch.randn(5, 2, 3), (torch.randn(2, 2, 4), torch.randn(2, 2, 4))
    result = trace_module(model, x, hidden)
    _, (h_n, c_n) = model(x, hidden)
    torch.testing.assert_close(result["rnn"].layers[1][0].cell[-1], c_n[1])
    torch.testing.assert_close(result["rnn"].layers[0][0].initial_cell, hidden[1][0])


def test_errors_and_hook_cleanup():
    with pytest.raises(ValueError, match="contains no torch.nn.LSTM/GRU"):
        trace_module(nn.Linear(2, 3), torch.zeros(1, 2))

    class Idle(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 3)

        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="called none of its recurrent modules"):
        trace_module(Idle(), torch.zeros(3, 2))

    class Broken(Idle):
        def forward(self, x):
            self.lstm(x)
            raise RuntimeError("boom")

    model = Broken()
    with pytest.raises(RuntimeError, match="boom"):
        trace_module(model, torch.zeros(3, 1, 2))
    assert not model.lstm._forward_hooks
    with pytest.raises(KeyError, match="no recurrent submodule called 'gru'"):
        trace_module(nn.Sequential(nn.LSTM(2, 3)), torch.zeros(3, 2))["gru"]
