"""Random weight guessing: uniform draws, trial counts independent of batching."""

import pytest
import torch
from torch import nn

from lstmlab.competitors import guess
from lstmlab.competitors._guess import draw_weights


class TinyRNN(nn.Module):
    """h_t = tanh(w_in x_t + w_rec h_{t-1}); y = sigmoid(w_out h_T + b): one hidden unit."""

    def __init__(self):
        super().__init__()
        self.w_in = nn.Parameter(torch.zeros(()))
        self.w_rec = nn.Parameter(torch.zeros(()))
        self.w_out = nn.Parameter(torch.zeros(()))
        self.b = nn.Parameter(torch.zeros(()))

    def forward(self, x):  # x: (T, B)
        h = torch.zeros_like(x[0])
        for x_t in x:
            h = torch.tanh(self.w_in * x_t + self.w_rec * h)
        return torch.sigmoid(self.w_out * h + self.b)


def two_sequence(T=6):
    """Bengio et al.'s 2-sequence problem without noise: the class sits in x_0 only."""
    x = torch.zeros(T, 2)
    x[0, 0], x[0, 1] = 1.0, -1.0
    return x, torch.tensor([1.0, 0.0])


def solved(x, target):
    return lambda forward: ((forward(x) - target).abs() < 0.2).all(dim=-1)


def test_guessing_solves_a_trivially_easy_task_and_the_weights_really_solve_it():
    x, target = two_sequence()
    model = TinyRNN()
    result = guess(model, solved(x, target), weight_range=10.0, max_trials=2000,
                   generator=torch.Generator().manual_seed(3))
    assert result.success and 1 <= result.trials <= 2000
    model.load_state_dict(result.weights)
    torch.testing.assert_close((model(x) - target).abs() < 0.2, torch.tensor([True, True]))


def test_trial_count_does_not_depend_on_the_batch_size():
    x, target = two_sequence()
    counts = {
        batch: guess(TinyRNN(), solved(x, target), weight_range=10.0, max_trials=2000,
                     generator=torch.Generator().manual_seed(11), batch=batch).trials
        for batch in (1, 7, 64)
    }
    assert len(set(counts.values())) == 1, counts


def test_an_impossible_criterion_uses_every_trial():
    x, _ = two_sequence()
    never = lambda forward: torch.zeros(forward(x).shape[0], dtype=torch.bool)  # noqa: E731
    result = guess(TinyRNN(), never, weight_range=1.0, max_trials=50,
                   generator=torch.Generator().manual_seed(0), batch=16)
    assert (result.success, result.trials, result.weights) == (False, 50, None)


def test_draws_are_uniform_in_the_range_and_prefix_stable():
    model = TinyRNN()
    many = draw_weights(model, 4000, 2.5, torch.Generator().manual_seed(1))
    few = draw_weights(model, 3, 2.5, torch.Generator().manual_seed(1))
    for name in many:
        torch.testing.assert_close(few[name], many[name][:3])
    values = torch.cat([w.flatten() for w in many.values()])
    assert values.min() >= -2.5 and values.max() <= 2.5
    torch.testing.assert_close(values.mean(), torch.tensor(0.0), atol=0.05, rtol=0)
    torch.testing.assert_close(values.var(), torch.tensor(2.5**2 / 3), atol=0.05, rtol=0)


@pytest.mark.parametrize("kwargs,name", [({"weight_range": 0.0}, "weight_range"),
                                         ({"max_trials": 0}, "max_trials"),
                                         ({"batch": 0}, "batch")])
def test_bad_arguments_are_named(kwargs, name):
    args = {"weight_range": 1.0, "max_trials": 10, "generator": torch.Generator(), **kwargs}
    with pytest.raises(ValueError, match=name):
        guess(TinyRNN(), lambda f: torch.tensor([True]), **args)
