"""A small training run shared by the resume tests; run as a script it kills itself mid-run.

    python training_resume_job.py CHECKPOINT KILL_AT

trains with checkpoints every 50 steps and sends itself SIGKILL after step KILL_AT.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch
from torch import nn

from lstmlab.cells import PeepholeLSTMCell
from lstmlab.training import Adam, SequenceModel, TrainConfig, train
from lstmlab.training._batch import SequenceBatch


def build_model(seed: int) -> SequenceModel:
    generator = torch.Generator().manual_seed(seed)
    cell = PeepholeLSTMCell(2, 3, dtype=torch.float64)
    cell.reset_parameters(generator)
    readout = nn.Linear(3, 1, dtype=torch.float64)
    with torch.no_grad():
        readout.weight.uniform_(-0.5, 0.5, generator=generator)
        readout.bias.zero_()
    return SequenceModel(cell, readout, torch.sigmoid)


def sample(generator: torch.Generator) -> SequenceBatch:
    """Is the sum of the first input channel positive? Error at the last step only."""
    inputs = torch.randn(6, 2, 2, generator=generator, dtype=torch.float64)
    mask = torch.zeros(6, 2, dtype=torch.bool)
    mask[-1] = True
    targets = (inputs[..., :1].sum(0, keepdim=True) > 0).double().expand(6, 2, 1)
    return SequenceBatch(inputs, targets, mask, torch.full((2,), 6))


def config(max_steps: int, checkpoint: Path | None) -> TrainConfig:
    return TrainConfig(max_steps=max_steps, optimizer=Adam(lr=0.05), checkpoint_path=checkpoint,
                       checkpoint_seconds=float("inf"), checkpoint_steps=50)


def main(checkpoint: str, kill_at: int) -> None:
    def progress(report) -> None:
        if report.step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    train(build_model(0), sample, config(200, Path(checkpoint)),
          generator=torch.Generator().manual_seed(11), progress=progress)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
