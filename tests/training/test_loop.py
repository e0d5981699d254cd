"""The training loop: resume after a kill gives the very same weights, the NaN guard keeps the
last good checkpoint, stopping criteria and progress reports, atomic checkpoints."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close
from training_resume_job import build_model, config, sample

from lstmlab.training import (
    RTRL,
    SGD,
    NonFiniteError,
    TrainConfig,
    TruncatedBPTT,
    sum_squared_error,
    train,
)
from lstmlab.training._batch import SequenceBatch
from lstmlab.training._checkpoint import load_checkpoint, save_checkpoint


def straight_run(steps: int = 200):
    model = build_model(0)
    train(model, sample, config(steps, None), generator=torch.Generator().manual_seed(11))
    return model


def assert_same_weights(received, expected):
    for (key, p), q in zip(received.named_parameters(), expected.parameters(), strict=True):
        assert_close(p, q, rtol=0, atol=0, msg=key)


def test_resume_after_exception_is_as_if_never_stopped(tmp_path):
    expected = straight_run()
    path = tmp_path / "run.pt"

    def crash(report):
        if report.step == 130:
            raise KeyboardInterrupt  # after the checkpoint of step 100

    with pytest.raises(KeyboardInterrupt):
        train(build_model(0), sample, config(200, path),
              generator=torch.Generator().manual_seed(11), progress=crash)
    assert load_checkpoint(path)["step"] == 100
    model = build_model(5)  # other initial weights: the checkpoint must overwrite them
    result = train(model, sample, config(200, path), generator=torch.Generator().manual_seed(99))
    assert (result.resumed_from, result.steps) == (100, 200)
    assert_same_weights(model, expected)


def test_resume_after_sigkill_is_as_if_never_stopped(tmp_path):
    path = tmp_path / "run.pt"
    job = Path(__file__).with_name("training_resume_job.py")
    finished = subprocess.run([sys.executable, str(job), str(path), "120"], timeout=120,
                              capture_output=True, text=True)
    assert finished.returncode == -signal.SIGKILL, finished.stderr
    assert load_checkpoint(path)["step"] == 100
    model = build_model(5)
    result = train(model, sample, config(200, path), generator=torch.Generator().manual_seed(99))
    assert result.resumed_from == 100
    assert_same_weights(model, straight_run())


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    calls = []

    def poisoned(generator):
        calls.append(1)
        batch = sample(generator)
        if len(calls) == 57:
            batch.inputs[2, 0, 0] = float("nan")
        return batch

    with pytest.raises(NonFiniteError, match=r"diverged at step 57 \(loss = nan.*"
                                             r"last good checkpoint \(step 50\) is kept at"):
        train(build_model(0), poisoned, config(200, path),
              generator=torch.Generator().manual_seed(11))
    saved = load_checkpoint(path)
    assert saved["step"] == 50
    good = straight_run(50)
    for key, q in good.state_dict().items():
        assert_close(saved["model"][key], q, rtol=0, atol=0, msg=key)


def test_stop_criterion_progress_and_final_checkpoint(tmp_path):
    path = tmp_path / "run.pt"
    reports, seen = [], []

    def stop(info):
        seen.append(info)
        return info.step == 7

    result = train(build_model(0), sample, TrainConfig(max_steps=50, optimizer=SGD(lr=0.1),
                                                       checkpoint_path=path, report_every=3),
                   generator=torch.Generator().manual_seed(1), stop=stop, progress=reports.append)
    assert (result.steps, result.stopped) == (7, True)
    assert [r.step for r in reports] == [3, 6, 7]
    assert load_checkpoint(path)["step"] == 7
    # The criterion sees the outputs the step's loss was computed from.
    info = seen[-1]
    assert_close(sum_squared_error(info.outputs, info.batch.targets, info.batch.mask),
                 torch.tensor(info.loss, dtype=torch.float64), rtol=1e-12, atol=0)
    assert result.loss == info.loss
    # A finished run resumed does nothing more.
    again = train(build_model(0), sample, TrainConfig(max_steps=50, optimizer=SGD(lr=0.1),
                                                      checkpoint_path=path),
                  generator=torch.Generator().manual_seed(1), stop=stop)
    assert (again.steps, again.stopped, again.resumed_from) == (7, True, 7)


def test_progress_is_reported_at_the_end_of_the_budget_too():
    reports = []
    train(build_model(0), sample, TrainConfig(max_steps=8, optimizer=SGD(lr=0.1), report_every=3),
          generator=torch.Generator().manual_seed(1), progress=reports.append)
    assert [(r.step, r.max_steps) for r in reports] == [(3, 8), (6, 8), (8, 8)]


@pytest.mark.parametrize("algorithm", [TruncatedBPTT(2), RTRL(online=True)])
def test_other_algorithms_resume_too(tmp_path, algorithm):
    def run(steps, path):
        model = build_model(0)
        settings = TrainConfig(max_steps=steps, optimizer=SGD(lr=0.3, momentum=0.5),
                               algorithm=algorithm, checkpoint_path=path, checkpoint_steps=5)
        train(model, sample, settings, generator=torch.Generator().manual_seed(3))
        return model

    expected = run(12, None)
    run(5, tmp_path / "run.pt")
    assert_same_weights(run(12, tmp_path / "run.pt"), expected)


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    save_checkpoint(path, {"step": 1, "w": torch.ones(2)})

    def torn(obj, handle):
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", torn)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"step": 2, "w": torch.zeros(2)})
    assert load_checkpoint(path)["step"] == 1


def test_bad_batch_names_the_attribute():
    def flat(generator):
        batch = sample(generator)
        return SequenceBatch(batch.inputs, batch.targets, batch.mask[:, :1], batch.lengths)

    with pytest.raises(ValueError, match=r"batch.mask: expected \(6, 2\)"):
        train(build_model(0), flat, config(3, None), generator=torch.Generator())

    def float_mask(generator):  # the losses select steps with torch.where: a bool is needed
        batch = sample(generator)
        return SequenceBatch(batch.inputs, batch.targets, batch.mask.double(), batch.lengths)

    with pytest.raises(ValueError, match=r"batch.mask: expected dtype torch.bool"):
        train(build_model(0), float_mask, config(3, None), generator=torch.Generator())


def test_checkpoints_follow_the_clock(tmp_path, monkeypatch):
    """checkpoint_seconds = 0: a checkpoint after every step; a huge value: only at the end."""
    import lstmlab.training._loop as loop

    saved_steps = []
    real_save = loop.save_checkpoint
    monkeypatch.setattr(loop, "save_checkpoint",
                        lambda path, payload: (saved_steps.append(payload["step"]),
                                               real_save(path, payload)))
    for seconds, expected in ((0.0, [1, 2, 3, 4]), (1e9, [4])):
        saved_steps.clear()
        path = tmp_path / f"every-{seconds}.pt"
        train(build_model(0), sample, TrainConfig(max_steps=4, optimizer=SGD(lr=0.1),
                                                  checkpoint_path=path, checkpoint_seconds=seconds),
              generator=torch.Generator().manual_seed(1))
        assert saved_steps == expected


def test_without_the_guard_a_nan_does_not_stop_training():
    def poisoned(generator):
        batch = sample(generator)
        batch.inputs[2, 0, 0] = float("nan")
        return batch

    unguarded = dataclasses.replace(config(5, None), guard=False)
    result = train(build_model(0), poisoned, unguarded,
                   generator=torch.Generator().manual_seed(11))
    assert result.steps == 5 and result.loss != result.loss  # NaN, reported, not raised
    with pytest.raises(NonFiniteError, match="diverged at step 1"):
        train(build_model(0), poisoned, config(5, None),
              generator=torch.Generator().manual_seed(11))


def test_check_none_lets_another_kind_of_batch_through():
    """A token matrix (B, T) is not a time-first batch: the default check names the attribute;
    with ``check=None`` an algorithm made for it trains on it (the tour's case)."""
    from lstmlab.training._algorithm import StepOutcome

    def tokens(generator):
        return torch.randint(4, (3, 5), generator=generator)

    def count_ones(model, batch, loss, optimizer):
        optimizer.zero_grad()
        value = (batch == 1).double().sum() * sum(p.sum() for p in model.parameters())
        value.backward()
        optimizer.step()
        return StepOutcome(value.detach(), batch)

    settings = TrainConfig(max_steps=3, optimizer=SGD(lr=0.1), algorithm=count_ones)
    with pytest.raises(ValueError, match=r"received a Tensor without inputs, targets"):
        train(build_model(0), tokens, settings, generator=torch.Generator().manual_seed(1))
    model, before = build_model(0), build_model(0)
    train(model, tokens, dataclasses.replace(settings, check=None),
          generator=torch.Generator().manual_seed(1))
    draws = torch.Generator().manual_seed(1)
    ones = sum(int((tokens(draws) == 1).sum()) for _ in range(3))
    for p, q in zip(model.parameters(), before.parameters(), strict=True):
        assert_close(p, q - 0.1 * ones)  # d(value)/dθ = number of ones, every step
