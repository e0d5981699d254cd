"""The history compressor: what reaches the higher level, 2a solved through it, and the rule
it is judged by (a solution kept, not reached once)."""

import pytest
import torch

from lstmlab.competitors import Chunker, ChunkerConfig, ChunkerMethod
from lstmlab.competitors._chunker import compress, surprises, unexpected_inputs
from lstmlab.reproduce import Experiment
from lstmlab.reproduce._trial_loop import KeptSolution, TrialNet, train_trials
from lstmlab.tasks import NoiseFreeLongLag, VeryLongLag
from lstmlab.tasks._batch import concat
from lstmlab.tasks._stopping import TestSetRule
from lstmlab.training import SGD, sum_squared_error
from lstmlab.training._algorithm import StepOutcome


def one_hot(symbols, size=4):
    return torch.nn.functional.one_hot(torch.tensor(symbols), size).double()


def test_the_higher_level_receives_exactly_the_unpredicted_inputs():
    # sequence 0 1 2 3 2 1 ; the lower net predicts "next = previous + 1 (mod 4)" confidently
    symbols = [0, 1, 2, 3, 2, 1]
    inputs = one_hot(symbols).unsqueeze(1)                           # (T, 1, I)
    targets = one_hot(symbols[1:] + [2]).unsqueeze(1)                # last: as predicted
    predictions = one_hot([(s + 1) % 4 for s in symbols]).unsqueeze(1) * 0.9 + 0.05
    missed = surprises(predictions, targets, surprise=0.3)
    # after 3 the net predicts 0 but 2 comes; after 2 it predicts 3 but 1 comes
    assert missed[:, 0].tolist() == [False, False, False, True, True, False]
    unexpected = unexpected_inputs(missed)
    assert unexpected[:, 0].tolist() == [True, False, False, False, True, True]
    ((times, seen),) = compress(inputs, unexpected)
    assert times.tolist() == [0, 4, 5]
    torch.testing.assert_close(seen, one_hot([0, 2, 1]))


def test_a_near_miss_below_the_surprise_threshold_is_not_passed_up():
    targets = one_hot([1]).unsqueeze(1)
    predictions = torch.tensor([[0.0, 0.75, 0.0, 0.0]]).double().unsqueeze(1)
    assert surprises(predictions, targets, 0.3)[:, 0].tolist() == [False]
    assert surprises(predictions, targets, 0.2)[:, 0].tolist() == [True]


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="predictions"):
        surprises(torch.zeros(3, 1, 2), torch.zeros(3, 1, 4), 0.3)


def test_the_chunker_solves_a_short_experiment_2a_by_passing_up_only_two_symbols():
    """2a with p = 10: A learns the fixed middle; only the first symbol and the last reach C."""
    task = NoiseFreeLongLag(p=10)
    g = torch.Generator().manual_seed(0)
    net = Chunker(task.input_size, ChunkerConfig(learning_rate=1.0),
                  torch.Generator().manual_seed(0))
    for _ in range(1200):
        batch = task.sample(1, g)
        net.train_step(batch.inputs.double(), batch.targets.double(), batch.mask)
    test = task.sample(200, torch.Generator().manual_seed(1))
    with torch.no_grad():
        run = net(test.inputs.double(), test.targets.double())
    assert bool(task.is_correct(run["prediction"].float(), test).all())
    assert int(run["unexpected"].sum(0).max()) <= 2      # x_0, and at most the final symbol
    # Collapse: A's extra outputs have learned C's hidden state, mapped to [0, 1] (without
    # the collapse term they stay about 0.5 away; at initialisation 0.07).
    collapse = run["automatizer"][..., task.output_size:]
    gap = (collapse - (run["chunker_hidden"] + 1) / 2).abs().mean()
    assert gap < 0.01


def test_a_sequence_is_judged_alike_alone_and_in_a_padded_batch():
    """2c has random lengths: the time stamps C reads must not depend on the batch's T."""
    task = VeryLongLag(q=5, p=3)
    net = ChunkerMethod()._learner(task, torch.Generator().manual_seed(0))
    optimizer = net.optimizer.build(net.model.parameters())
    evaluate = net.evaluate
    data = torch.Generator().manual_seed(1)
    for _ in range(20):
        net.algorithm(net.model, task.sample(1, data), sum_squared_error, optimizer)
    alone = [task.sample(1, torch.Generator().manual_seed(s)) for s in range(6)]
    together = concat(alone)
    assert len(set(together.lengths.tolist())) > 1
    outputs = evaluate(together)
    for k, single in enumerate(alone):
        n = int(single.lengths[0])
        torch.testing.assert_close(outputs[:n, k], evaluate(single)[:, 0], rtol=0, atol=1e-6)


def test_a_solution_counts_only_once_kept_for_keep_further_sequences():
    """The kept-solution rule, step by step: reached at a met judgement, voided by a wrong
    training sequence or a failed judgement, kept after ``keep`` more sequences."""
    rule = KeptSolution(keep=300)
    assert not rule.update(100, all_right=True, verdict=False) and rule.reached is None
    assert not rule.update(200, all_right=True, verdict=True) and rule.reached == 200
    assert not rule.update(250, all_right=True, verdict=None) and rule.reached == 200
    assert not rule.update(260, all_right=False, verdict=None) and rule.reached is None
    assert not rule.update(300, all_right=True, verdict=True) and rule.reached == 300
    assert not rule.update(400, all_right=True, verdict=False) and rule.reached is None
    assert not rule.update(500, all_right=True, verdict=True) and rule.reached == 500
    assert not rule.update(799, all_right=True, verdict=None)
    assert rule.update(800, all_right=True, verdict=None) and rule.reached == 500
    assert KeptSolution(keep=0).update(100, all_right=True, verdict=True)   # reached once
    with pytest.raises(ValueError, match="keep"):
        KeptSolution(keep=-1)


def _scripted(wrong_training_at=(), failing_checks_from=None):
    """A learner that outputs the targets (right) except on the listed training sequences, and
    is judged right by every check until sequence ``failing_checks_from``."""
    def build(task, generator):
        count = [0]

        def learn(model, batch, loss, optimizer):
            count[0] += 1
            outputs = 1 - batch.targets if count[0] in wrong_training_at else batch.targets
            return StepOutcome(loss(outputs, batch.targets, batch.mask), outputs)

        def evaluate(batch):
            bad = failing_checks_from is not None and count[0] >= failing_checks_from
            return 1 - batch.targets if bad else batch.targets

        return TrialNet(torch.nn.Linear(1, 1), learn, SGD(0.1), evaluate)

    return build


class _SmallLongLag(NoiseFreeLongLag):
    """2a with p = 4, checked every 100 sequences on 200 (the test's scale, not the paper's)."""

    def __init__(self):
        super().__init__(p=4)
        self.stopping = (TestSetRule("ABS(0.25) on 200 sequences", check_every=100),)
        self.test_size = 200


@pytest.mark.parametrize(("script", "success", "sequences"), [
    # right from the first check (100) on: kept by 100 + 150
    (_scripted(), True, 100),
    # reached at 100, voided by a wrong training sequence at 150, reached again at 200
    (_scripted(wrong_training_at={150}), True, 200),
    # reached at 100, lost at the check of 200 and never again: not kept
    (_scripted(failing_checks_from=200), False, 600),
])
def test_the_chunkers_trials_succeed_where_the_solution_was_reached_and_then_kept(
        script, success, sequences):
    experiment = Experiment(name="2a", title="2a, small", make_task=lambda seed:
                            _SmallLongLag(), setup=None, published=(), trials=1, budget=600)
    (result,) = train_trials(script, experiment, [0], 600, lambda *a: None, curve_every=50,
                             stopping=lambda: KeptSolution(keep=150))
    assert (result.success, result.sequences) == (success, sequences)
    assert result.curve[-1][0] == (sequences + 150 if success else 600)


def test_the_chunker_method_is_judged_by_the_kept_rule_and_says_so():
    method = ChunkerMethod()
    assert method.keep == 10_000
    assert ("kept", 10_000) in method.fingerprint(None)
    assert ChunkerMethod(keep=1).fingerprint(None) != method.fingerprint(None)
