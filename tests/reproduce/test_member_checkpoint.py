"""``lstm1997`` runs interrupted mid-trial and resumed from their members' checkpoints.

Reference: the same run never interrupted (the store's rows: success, sequences, test error and
curve must be equal, exactly). A resumed run must also not have started over: it presents
exactly the sequences the reference presented after the checkpoints, and no more. Interruption
is an exception raised from the runner's progress callback, or SIGKILL of a child process
running the trials (then the checkpoints are those of a real crash, written atomically).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from reproduce_fakes import bit_experiment

from lstmlab.reproduce import (
    Experiment,
    Lstm1997Method,
    Lstm1997Settings,
    ReproduceConfig,
    TrialStore,
    run,
)
from lstmlab.reproduce._adding_probe import checkpoint_weights
from lstmlab.reproduce._criteria import Criterion
from lstmlab.reproduce._lstm1997 import network_config, probe_training
from lstmlab.reproduce._member_checkpoint import CheckpointEvery, CheckpointPlace, MemberCheckpoints
from lstmlab.reproduce._registry import experiment as registered
from lstmlab.reproduce._runner import CHECKPOINT_DIR, NETS_DIR, STORE_NAME
from lstmlab.reproduce._sequential1997 import PlateauTracker
from lstmlab.tasks import ErrorPlateau, NoiseFreeLongLag
from lstmlab.tasks._stopping import RecentWindowRule, TestSetRule
from lstmlab.training._network1997 import Network1997
from lstmlab.training._pool import row


class Interrupted(Exception):
    pass


def _settings(steps: int) -> Lstm1997Settings:
    return Lstm1997Settings(population=2, curve_every=25, report_every=10,
                            checkpoint=CheckpointEvery(seconds=None, steps=steps))


def _run(experiment: Experiment, out: Path, trials: int, budget: int, steps: int,
         stop_at: int | None = None, progress=None, keep_nets: bool = False) -> int:
    """Run the trials; raise Interrupted once ``stop_at`` sequences are presented (calling
    ``progress(sequences)`` at every report). Returns the sequences presented."""
    seen = [0]

    def on_progress(update) -> None:
        if progress is not None:
            progress(update.sequences_seen)
        seen[0] = update.sequences_seen
        if stop_at is not None and update.sequences_seen >= stop_at:
            raise Interrupted

    config = ReproduceConfig(experiments=(experiment,), methods=(Lstm1997Method(_settings(steps)),),
                             trials=trials, budget=budget, out=out, write_tables=False,
                             keep_nets=keep_nets)
    run(config, on_progress)
    return seen[0]


def _rows(out: Path) -> dict[int, tuple]:
    with TrialStore(out / STORE_NAME) as store:
        rows = store._connection.execute(
            "SELECT seed, success, sequences, test_error, curve FROM trials").fetchall()
    return {row[0]: row[1:] for row in rows}


def _checkpoints(out: Path) -> dict[int, dict]:
    return {payload["seed"]: payload for payload in (
        torch.load(path, weights_only=True) for path in (out / CHECKPOINT_DIR).glob("*.pt"))}


def _interrupt_and_resume(tmp_path: Path, experiment: Experiment, trials: int, budget: int,
                          steps: int, stop_at: int, spoil=None, kill=None) -> tuple[dict, dict]:
    """Reference and interrupted-then-resumed run; returns the checkpoints found at the
    interruption. ``spoil(out)``, if given, damages checkpoints and returns their seeds;
    ``kill(out)``, if given, interrupts instead of the progress callback."""
    reference = tmp_path / "reference"
    _run(experiment, reference, trials, budget, steps)
    expected = _rows(reference)

    out = tmp_path / "interrupted"
    if kill is not None:
        kill(out)
    else:
        with pytest.raises(Interrupted):
            _run(experiment, out, trials, budget, steps, stop_at)
    stored = set(_rows(out))
    saved = _checkpoints(out)
    mid_trial = {seed: p["criterion"]["sequences"] for seed, p in saved.items()
                 if seed not in stored}
    assert mid_trial and all(0 < n < expected[seed][1] for seed, n in mid_trial.items()), \
        "the interruption must find members mid-trial with checkpoints"
    spoiled = spoil(out) if spoil is not None else set()
    usable = {seed: n for seed, n in mid_trial.items() if seed not in spoiled}

    presented = _run(experiment, out, trials, budget, steps)
    assert _rows(out) == expected
    with TrialStore(out / STORE_NAME) as store:  # a resumed trial's time counts the saved time
        wall = {seed: seconds for seed, seconds in store._connection.execute(
            "SELECT seed, wall_time FROM trials")}
    assert all(wall[seed] >= saved[seed]["elapsed"] for seed in usable)
    left = sum(expected[seed][1] - usable.get(seed, 0) for seed in expected if seed not in stored)
    assert presented == left, "resumed members continue from their checkpoints"
    assert not list((out / CHECKPOINT_DIR).glob("*.pt")), "finished trials leave no checkpoint"
    return saved, expected


@pytest.mark.parametrize("rule", [RecentWindowRule("ST3", window=20, max_mean_error=0.2),
                                  TestSetRule("all right", check_every=20)],
                         ids=["window rule", "test-set rule"])
def test_bit_task_resumes_to_the_uninterrupted_trials(tmp_path, rule):
    """Saved at 495 sequences, 11 and 64 before seeds 0 and 1 succeed (506 and 559 with the
    window rule; 500 and 540 checked every 20): the rule's state decides the outcome."""
    saved, expected = _interrupt_and_resume(tmp_path, bit_experiment(rule), trials=2,
                                            budget=600, steps=15, stop_at=990)
    closing = [seed for seed, p in saved.items()
               if expected[seed][0] and expected[seed][1] - p["criterion"]["sequences"] < 20]
    assert closing, "a member must be saved within 20 sequences of its success"
    if isinstance(rule, RecentWindowRule):
        assert all(int(saved[seed]["criterion"]["tracker"]["seen"][0]) > rule.window
                   for seed in closing)


def test_experiment_1_reber_resumes_to_the_uninterrupted_trials(tmp_path):
    """Experiment 1's test-set rule (checked every 100 sequences) across the interruption."""
    _interrupt_and_resume(tmp_path, registered("1"), trials=2, budget=260, steps=30, stop_at=240)


def test_experiment_4_adding_resumes_to_the_uninterrupted_trials(tmp_path):
    """Experiment 4's ST3 window tracker (2000 sequences, partly filled) across the
    interruption; 3 trials so a waiting seed joins the resumed population."""
    experiment = replace(registered("4"), eval_batch_size=100,
                         make_task=lambda seed: _ShortTest(registered("4").make_task(seed)))
    saved, _ = _interrupt_and_resume(tmp_path, experiment, trials=3, budget=60, steps=10,
                                     stop_at=40)
    assert all(p["criterion"]["tracker"]["errors"].shape == (1, 2000) for p in saved.values())


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import test_member_checkpoint as t
    from reproduce_fakes import bit_experiment

    out, marker = Path(sys.argv[1]), Path(sys.argv[3])

    def hang(sequences):  # at step 30, after step 15's checkpoint: wait to be killed
        if sequences >= 60:
            marker.touch()
            time.sleep(120)

    t._run(bit_experiment(t.WINDOW), out, 2, 200, 15, progress=hang)
    """
)
WINDOW = RecentWindowRule("ST3", window=20, max_mean_error=0.2)


def test_killed_process_resumes_to_the_uninterrupted_trials(tmp_path):
    """SIGKILL of a process mid-trial: the resumed run (in this process, so the config hash
    must agree across processes) continues from the checkpoints the killed one left."""
    marker = tmp_path / "waiting-for-the-kill"

    def kill(out: Path) -> None:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(out),
                                  str(Path(__file__).parent), str(marker)])
        deadline = time.monotonic() + 120
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL and marker.exists()

    _interrupt_and_resume(tmp_path, bit_experiment(WINDOW), trials=2, budget=200, steps=15,
                          stop_at=0, kill=kill)


class _ShortTest:
    """A task with a test set of 100 sequences (its own is 2560 of length 100: slow here)."""

    def __init__(self, task) -> None:
        self._task, self.test_size = task, 100

    def __getattr__(self, name):
        return getattr(self._task, name)

    def test_batches(self, generator, batch_size=256):
        from lstmlab.tasks._batch import fresh_batches

        return fresh_batches(self._task.sample, self.test_size, generator, batch_size)


class _StagedLag(NoiseFreeLongLag):
    """2a with p = 5 built sequentially (plateau window 25), checked every 50 sequences."""

    def __init__(self) -> None:
        super().__init__(5)
        self.setup = replace(self.setup, add_cells_after=ErrorPlateau(window=25,
                                                                      min_decrease=0.1))
        self.stopping = (TestSetRule("ABS(0.25)", check_every=50),)
        self.test_size = 200


def test_sequential_construction_resumes_in_phase_one(tmp_path):
    """2a's phase state (plateau tracker, the held-aside cell output weights) across the
    interruption: a member saved before its cell was added gets it at the same sequence."""
    experiment = Experiment(name="2a", title="2a, p = 5", make_task=lambda seed: _StagedLag(),
                            setup=_StagedLag().setup, published=(), trials=2, budget=300)
    saved, _ = _interrupt_and_resume(tmp_path, experiment, trials=2, budget=300, steps=20,
                                     stop_at=60)
    assert any(p["construction"]["plateau"]["fired_at"] is None for p in saved.values())


def test_unusable_checkpoints_are_set_aside_with_a_warning(tmp_path, caplog):
    """A torn file and another seed's checkpoint are not used (warning, renamed *.rejected):
    those trials start from zero and still end with the reference's numbers."""
    def spoil(out: Path) -> set[int]:
        files = sorted((out / CHECKPOINT_DIR).glob("*.pt"))
        assert len(files) == 2
        files[1].write_bytes(files[0].read_bytes())  # seed 0's state under seed 1's name
        files[0].write_bytes(files[0].read_bytes()[:100])  # torn
        return {0, 1}

    rule = RecentWindowRule("ST3", window=20, max_mean_error=0.2)
    with caplog.at_level(logging.WARNING, logger="lstmlab.reproduce._member_checkpoint"):
        _interrupt_and_resume(tmp_path, bit_experiment(rule, trials=2), trials=2, budget=200,
                              steps=15, stop_at=60, spoil=spoil)
    warnings = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
    assert len(warnings) == 2 and any("expected {" in w for w in warnings)
    assert len(list((tmp_path / "interrupted" / CHECKPOINT_DIR).glob("*.rejected"))) == 2


def test_criterion_and_plateau_state_round_trip():
    """A restored Criterion / PlateauTracker holds every attribute of the saved one, and a
    criterion refuses the state of another rule."""
    task = bit_experiment(RecentWindowRule("ST3", window=5, max_mean_error=0.2)).make_task(0)
    saved = Criterion(task, torch.Generator().manual_seed(3), curve_every=2)
    for k in range(7):
        saved.observe(torch.tensor([k % 2 == 0]), torch.tensor([0.1 * k]), None)
    restored = Criterion(task, torch.Generator(), curve_every=2)
    restored.load_state_dict(saved.state_dict())
    skip = {"generator", "tracker", "task"}
    assert {n: v for n, v in vars(restored).items() if n not in skip} == \
           {n: v for n, v in vars(saved).items() if n not in skip}
    assert torch.equal(restored.generator.get_state(), saved.generator.get_state())
    for name, value in vars(saved.tracker).items():
        mine = getattr(restored.tracker, name)
        assert torch.equal(mine, value) if isinstance(value, torch.Tensor) else mine == value

    plateau = PlateauTracker(ErrorPlateau(window=2))
    for error in (3.0, 2.0, 1.0):
        plateau.observe(error)
    again = PlateauTracker(ErrorPlateau(window=2))
    again.load_state_dict(plateau.state_dict())
    assert vars(again) == vars(plateau)

    other = bit_experiment(TestSetRule("all right")).make_task(0)
    with pytest.raises(ValueError, match="state\\['tracker'\\]: expected no recent-window"):
        Criterion(other, torch.Generator()).load_state_dict(saved.state_dict())


def test_checkpoints_fall_due_by_steps_or_seconds(tmp_path):
    def due(every: CheckpointEvery, steps: int) -> bool:
        return MemberCheckpoints(CheckpointPlace(tmp_path, "h"), "4", "lstm1997", every).due(steps)

    assert CheckpointEvery().seconds == 60.0 and not due(CheckpointEvery(), 1)
    assert due(CheckpointEvery(seconds=0.0), 1)
    assert due(CheckpointEvery(seconds=None, steps=5), 10)
    assert not due(CheckpointEvery(seconds=None, steps=5), 11)
    with pytest.raises(ValueError, match="steps: expected >= 1 or None, received 0"):
        CheckpointEvery(steps=0)
    with pytest.raises(ValueError, match="seconds: expected >= 0 or None, received -1"):
        CheckpointEvery(seconds=-1)


def test_kept_nets_are_the_trials_networks_at_their_stops(tmp_path):
    """``keep_nets``: each finished trial's network is written at its stop. Reference: the
    same seeds trained without checks or stopping (``probe_training``) to the number of
    sequences each trial stored; seed 0 stops by its rule, seed 1 at the budget. Interrupted
    and resumed, the run keeps the same nets; without ``keep_nets`` it writes none."""
    experiment = bit_experiment(RecentWindowRule("ST3", window=20, max_mean_error=0.2))
    out = tmp_path / "kept"
    with pytest.raises(Interrupted):
        _run(experiment, out, trials=2, budget=530, steps=15, stop_at=700, keep_nets=True)
    _run(experiment, out, trials=2, budget=530, steps=15, keep_nets=True)
    stored = _rows(out)
    assert stored[0][:2] == (1, 506) and stored[1][:2] == (0, 530)
    template = Network1997(network_config(experiment.setup), dtype=torch.float64)
    paths = sorted((out / NETS_DIR).glob("*.pt"))
    assert len(paths) == 2
    for path in paths:
        seed, sequences, kept = checkpoint_weights(path, template)
        assert sequences == stored[seed][1]
        *_, (presented, _, trained, _) = probe_training(experiment, [seed], sequences,
                                                        sequences)
        assert presented == sequences
        torch.testing.assert_close(kept, row(trained, 0), rtol=0, atol=0)
    plain = tmp_path / "plain"
    _run(experiment, plain, trials=2, budget=530, steps=15)
    assert _rows(plain) == stored
    assert not (plain / NETS_DIR).exists()


def test_keep_nets_needs_the_lstm1997_method(tmp_path):
    from lstmlab.competitors import GuessMethod

    with pytest.raises(ValueError, match="--keep-nets: expected with --method lstm1997"):
        ReproduceConfig((registered("3a"),), (GuessMethod(),), out=tmp_path, keep_nets=True)
