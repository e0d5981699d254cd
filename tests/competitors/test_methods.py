"""Every competitor runs through the reproduction runner, deterministically per seed."""

import dataclasses

import pytest
import torch

from lstmlab.competitors import RCCConfig, RCCMethod, WilliamsZipser, fully_recurrent_net
from lstmlab.competitors import _methods as methods
from lstmlab.competitors._fully_recurrent import SkipCell
from lstmlab.competitors._methods import meets_rule, paper_settings
from lstmlab.competitors._rcc import PhaseConfig
from lstmlab.reproduce import Experiment, ReproduceConfig, run
from lstmlab.reproduce._criteria import Criterion
from lstmlab.reproduce._method_table import COMPETITORS, METHODS
from lstmlab.tasks import Adding, EmbeddedReber, Multiplication, NoiseFreeLongLag
from lstmlab.tasks._batch import fresh_batches
from lstmlab.tasks._long_lags import SETUP_2A
from lstmlab.tasks._reber import SETUPS as REBER_SETUPS
from lstmlab.tasks._reber import encode
from lstmlab.tasks._stopping import TestSetRule
from lstmlab.training import BPTT, RTRL, TruncatedBPTT, sum_squared_error


def short_2a(p=4, budget=30):
    return Experiment(name="2a", title="2a, short", make_task=lambda seed: NoiseFreeLongLag(p=p),
                      setup=SETUP_2A, published=(), trials=2, budget=budget)


@pytest.mark.parametrize("name", sorted(COMPETITORS))
def test_each_competitor_runs_in_the_runner_and_repeats_itself(name, tmp_path):
    method = METHODS[name]()
    first = run(ReproduceConfig((short_2a(),), (method,), out=tmp_path / "a", trials=2))
    again = run(ReproduceConfig((short_2a(),), (method,), out=tmp_path / "b", trials=2))
    rows = first.experiments[0].methods[0].results
    assert [r.seed for r in rows] == [0, 1]
    for one, two in zip(rows, again.experiments[0].methods[0].results, strict=True):
        assert (one.success, one.sequences, one.test_error) == (
            two.success, two.sequences, two.test_error)
        assert 0.0 <= one.test_error <= 1.0 and one.sequences >= 1


class AlwaysRightLongLag(NoiseFreeLongLag):
    """2a with 30-sequence stopping and test sets, checked every 5 sequences, where every
    sequence counts as right: every method (guessing too) succeeds and reaches its checks."""

    def __init__(self):
        super().__init__(p=4)
        self.test_size = 30
        self.stopping = (TestSetRule("all right", check_every=5),)

    def stopping_batches(self, generator, batch_size=256):
        return self.test_batches(generator, batch_size)

    def is_correct(self, outputs, batch):
        return torch.ones(batch.batch_size, dtype=torch.bool)


class RecordingLongLag(AlwaysRightLongLag):
    """Records the batch sizes its stopping and test sets are drawn in."""

    def __init__(self, sizes):
        super().__init__()
        self.sizes = sizes

    def test_batches(self, generator, batch_size=256):
        self.sizes.append(batch_size)
        return fresh_batches(self.sample, self.test_size, generator, batch_size)

    stopping_batches = test_batches


def test_a_successful_guess_is_tested(tmp_path):
    experiment = Experiment(name="2a", title="2a, always right",
                            make_task=lambda seed: AlwaysRightLongLag(), setup=SETUP_2A,
                            published=(), trials=1, budget=5)
    result = run(ReproduceConfig((experiment,), (METHODS["guess"](),), out=tmp_path,
                                 trials=1))
    (row,) = result.experiments[0].methods[0].results
    assert (row.success, row.sequences, row.test_error) == (True, 1, 0.0)


def test_guessing_progress_counts_every_guess_of_the_call():
    experiment = Experiment(name="2a", title="2a, always right",
                            make_task=lambda seed: AlwaysRightLongLag(), setup=SETUP_2A,
                            published=(), trials=2, budget=5)
    reports = []
    rows = list(METHODS["guess"]().run_trials(experiment, [0, 1], 5,
                                                  lambda seen, _: reports.append(seen)))
    assert [row.sequences for row in rows] == [1, 1] and reports == [1, 2]


class FirstOfEachBatchWrong(AlwaysRightLongLag):
    """The first sequence of every evaluated batch is wrong; the rule allows 5 wrong (3b)."""

    def __init__(self):
        super().__init__()
        self.stopping = (TestSetRule("at most 5 wrong", max_wrong=5, check_every=5),)

    def is_correct(self, outputs, batch):
        return torch.arange(batch.batch_size) > 0


def test_the_guessing_screen_is_no_stricter_than_the_rule(tmp_path):
    """One wrong of the 64 screened sequences must not reject a guess the rule accepts."""
    experiment = Experiment(name="2a", title="2a, one wrong per batch",
                            make_task=lambda seed: FirstOfEachBatchWrong(), setup=SETUP_2A,
                            published=(), trials=1, budget=5)
    result = run(ReproduceConfig((experiment,), (METHODS["guess"](),), out=tmp_path,
                                 trials=1))
    (row,) = result.experiments[0].methods[0].results
    assert (row.success, row.sequences) == (True, 1)


@pytest.mark.parametrize("name", sorted(COMPETITORS))
def test_stopping_and_test_sets_are_drawn_in_the_experiments_batches(name, tmp_path):
    """Random sets depend on the batch size they are drawn in, so a competitor must draw them
    as the LSTM does (``eval_batch_size``) to be judged on the same sequences."""
    sizes = []
    experiment = Experiment(name="2a", title="2a, recorded",
                            make_task=lambda seed: RecordingLongLag(sizes), setup=SETUP_2A,
                            published=(), trials=1, budget=12, eval_batch_size=7)
    run(ReproduceConfig((experiment,), (METHODS[name](),), out=tmp_path, trials=1))
    assert sizes and set(sizes) == {7}


def test_a_fixed_net_is_judged_by_a_window_rule_on_window_fresh_sequences():
    """ST3(0.01) of Experiment 4 and n_seq = 13 of Experiment 5 for nets that no longer learn:
    2000 fresh sequences stand for the 2000 most recent training sequences."""
    seen = []

    def off_by(delta, wrong=()):
        def evaluate(batch):
            seen.append(batch.batch_size)
            outputs = batch.targets + delta * batch.mask.unsqueeze(-1)
            start = sum(seen[:-1])  # sequence index of this batch's first sequence
            for k in wrong:
                if start <= k < start + batch.batch_size:
                    outputs[batch.lengths[k - start] - 1, k - start] += 0.5
            return outputs
        return evaluate

    def criterion(task):
        return Criterion(task, torch.Generator().manual_seed(0), batch_size=300)

    adding = Adding(T=22)
    assert meets_rule(criterion(adding), off_by(0.0))
    assert sum(seen) == 2000 and max(seen) == 300
    seen.clear()
    assert not meets_rule(criterion(adding), off_by(0.02))  # all right, mean error 0.02 > 0.01
    seen.clear()
    assert not meets_rule(criterion(adding), off_by(0.0, wrong=[1999]))
    multiplication = Multiplication(T=22)
    seen.clear()
    assert meets_rule(criterion(multiplication), off_by(0.0, wrong=range(0, 1200, 100)))
    seen.clear()
    assert not meets_rule(criterion(multiplication), off_by(0.0, wrong=range(0, 1300, 100)))


def test_rcc_learns_experiment_1s_training_strings_each_once(tmp_path, monkeypatch):
    """Fahlman trained RCC on the 256 training strings; sampling 256 with replacement from
    them would leave about a third out."""
    seen = []

    def recording(inputs, *args, **kwargs):
        seen.append(inputs)
        return train_rcc(inputs, *args, **kwargs)

    train_rcc = methods.train_rcc
    monkeypatch.setattr(methods, "train_rcc", recording)
    experiment = Experiment(name="1", title="1, small",
                            make_task=lambda seed: EmbeddedReber(train_size=16, test_size=16),
                            setup=REBER_SETUPS["1-5"], published=(), trials=1, budget=10)
    method = RCCMethod(RCCConfig(max_hidden=0, output=PhaseConfig(0.35, max_epochs=1)))
    run(ReproduceConfig((experiment,), (method,), out=tmp_path, trials=1))
    expected = encode(EmbeddedReber(train_size=16, test_size=16).train_strings).inputs
    torch.testing.assert_close(seen[0], expected.double(), rtol=0, atol=0)


def test_the_skip_cell_shows_the_input_beside_the_hidden_layer():
    g = torch.Generator().manual_seed(0)
    model = fully_recurrent_net(3, 2, 3, inputs_to_outputs=True, weight_range=0.2, generator=g)
    assert isinstance(model.cell, SkipCell)
    x = torch.randn(4, 5, 3, generator=g, dtype=torch.float64)
    outputs, _ = model(x)
    inner = model.cell.cell
    h = torch.zeros(5, 2, dtype=torch.float64)
    for t in range(4):
        h = torch.tanh(x[t] @ inner.weight_ih.T + inner.bias_ih + h @ inner.weight_hh.T
                       + inner.bias_hh)
        expected = torch.sigmoid(torch.cat([x[t], h], -1) @ model.readout.weight.T
                                 + model.readout.bias)
        torch.testing.assert_close(outputs[t], expected)


def _learn(net, batch):
    """One step of a trial's net as the training loop takes it; the outputs made while
    learning."""
    optimizer = net.optimizer.build(net.model.parameters())
    return net.algorithm(net.model, batch, sum_squared_error, optimizer).outputs


@pytest.mark.parametrize(("name", "algorithm"), [
    ("rtrl", RTRL(online=True)), ("bptt", BPTT()), ("elman", TruncatedBPTT(1))])
def test_gradient_competitors_train_the_papers_net_with_their_algorithm(name, algorithm):
    """One learned sequence of 2a (p = 4) equals the named algorithm applied by hand to the
    net of ``paper_settings`` (1 hidden unit, inputs to outputs, lr 1.0, weights in ±0.2); the
    three algorithms give three different nets, so a swapped algorithm fails here."""
    task = NoiseFreeLongLag(p=4)
    batch = task.sample(1, torch.Generator().manual_seed(5))
    net = METHODS[name]().build(short_2a())(task, torch.Generator().manual_seed(3))
    outputs, evaluate = _learn(net, batch), net.evaluate
    model = fully_recurrent_net(5, 1, 5, inputs_to_outputs=True, weight_range=0.2,
                                generator=torch.Generator().manual_seed(3))
    double = type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask,
                         batch.lengths)
    expected = algorithm(model, double, sum_squared_error,
                         torch.optim.SGD(model.parameters(), lr=1.0)).outputs
    torch.testing.assert_close(outputs, expected, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(evaluate(batch), model(double.inputs)[0], rtol=1e-10, atol=1e-12)
    others = [a for a in (RTRL(online=True), BPTT(), TruncatedBPTT(1)) if a != algorithm]
    for other in others:
        twin = fully_recurrent_net(5, 1, 5, inputs_to_outputs=True, weight_range=0.2,
                                   generator=torch.Generator().manual_seed(3))
        other(twin, double, sum_squared_error, torch.optim.SGD(twin.parameters(), lr=1.0))
        assert (twin(double.inputs)[0] - model(double.inputs)[0]).abs().max() > 1e-4


def test_paper_settings_follow_the_tables():
    assert paper_settings("rtrl", "1").hidden_size == 12            # [H97] Table 1
    assert paper_settings("rtrl", "1").learning_rate == 0.1
    assert paper_settings("elman", "1").hidden_size == 15           # Cleeremans et al. 1989
    assert paper_settings("rtrl", "2a").hidden_size == 1            # §5.2


@pytest.mark.parametrize("name", ["rtrl", "bptt", "elman"])
def test_fast_path_gives_the_torch_paths_trials(name):
    """The C kernel (``fast``) and the torch path train the same trials: same stopping point,
    same learning curve and test error (float64, to rounding)."""
    experiment = short_2a(p=4, budget=40)
    fast = METHODS[name]()
    slow = dataclasses.replace(fast, fast=False)
    assert fast.fast and fast.fingerprint(experiment) == slow.fingerprint(experiment)
    ours = list(fast.run_trials(experiment, [0, 1], 40, lambda *_: None))
    reference = list(slow.run_trials(experiment, [0, 1], 40, lambda *_: None))
    for a, b in zip(ours, reference, strict=True):
        assert (a.seed, a.success, a.sequences) == (b.seed, b.success, b.sequences)
        torch.testing.assert_close(a.test_error, b.test_error, rtol=0, atol=0)
        torch.testing.assert_close(torch.tensor(a.curve), torch.tensor(b.curve), rtol=1e-10,
                                   atol=1e-12)


def test_chunker_fast_path_gives_train_steps_trials():
    experiment = short_2a(p=4, budget=40)
    fast = METHODS["chunker"]()
    slow = dataclasses.replace(fast, fast=False)
    assert fast.fast and fast.fingerprint(experiment) == slow.fingerprint(experiment)
    ours = list(fast.run_trials(experiment, [0, 1], 40, lambda *_: None))
    reference = list(slow.run_trials(experiment, [0, 1], 40, lambda *_: None))
    for a, b in zip(ours, reference, strict=True):
        assert (a.seed, a.success, a.sequences, a.test_error) == (
            b.seed, b.success, b.sequences, b.test_error)
        torch.testing.assert_close(torch.tensor(a.curve), torch.tensor(b.curve), rtol=1e-6,
                                   atol=1e-7)


def test_settings_replace_the_papers_net():
    experiment = short_2a()
    paper = METHODS["rtrl"]()
    other = dataclasses.replace(paper, settings=methods.NetSettings(3, 0.05))
    assert paper.net_settings(experiment) == paper_settings("rtrl", "2a")
    assert other.net_settings(experiment) == methods.NetSettings(3, 0.05)
    assert paper.fingerprint(experiment) != other.fingerprint(experiment)
    task = experiment.make_task(0)
    batch = task.sample(1, torch.Generator().manual_seed(1))
    net = other.build(experiment)(task, torch.Generator().manual_seed(0))
    model = fully_recurrent_net(5, 3, 5, inputs_to_outputs=True, weight_range=0.2,
                                generator=torch.Generator().manual_seed(0))
    double = type(batch)(batch.inputs.double(), batch.targets.double(), batch.mask,
                         batch.lengths)
    expected = WilliamsZipser()(model, double, sum_squared_error,
                                torch.optim.SGD(model.parameters(), lr=0.05)).outputs
    torch.testing.assert_close(_learn(net, batch), expected, rtol=1e-10, atol=1e-12)
