"""inspect on long inputs: 128 KiB of text runs, windows stated, progress reported; per-pair
views never grow with T (the figures and the explorer show bounded windows)."""

import json
import re

import torch
from typer.testing import CliRunner

from lstmlab.cli import app
from lstmlab.reports import inspect_model
from lstmlab.reports._inspection import EXPLORER_WINDOW, FIGURE_WINDOW

runner = CliRunner()


def test_128_kib_of_text(tmp_path):
    torch.save(torch.nn.LSTM(6, 4).state_dict(), tmp_path / "m.pt")
    words = [f"w{k % 50:02d}" for k in range(128 * 1024 // 4)]  # 4 bytes per token with space
    text = " ".join(words)
    assert len(text.encode()) >= 128 * 1024 - 1
    run = runner.invoke(app, ["inspect", str(tmp_path / "m.pt"), "--text", text,
                              "--out", str(tmp_path / "r")])
    assert run.exit_code == 0, run.output
    flat = " ".join(run.output.split())
    assert f"Long input ({len(words)} steps)" in flat
    assert "a fixed random vector (seed 0)" in flat  # 50 distinct tokens > width 6
    page = (tmp_path / "r" / "explorer.html").read_text()
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>',
                                page, re.DOTALL).group(1).replace("<\\/", "</"))
    assert all(len(ex["words"]) == EXPLORER_WINDOW for ex in data["examples"])


def test_progress_reports_every_stage(tmp_path):
    torch.save(torch.nn.LSTM(3, 4, bidirectional=True).state_dict(), tmp_path / "m.pt")
    stages = []
    _, lines = inspect_model(tmp_path / "m.pt", text=" ".join(["a b c"] * 100),
                             out=tmp_path / "r",
                             progress=lambda stage, done, total: stages.append((stage, done,
                                                                                 total)))
    done = [d for _, d, _ in stages]
    assert done == sorted(done) and stages[-1][1] == stages[-1][2]
    assert [s for s, _, _ in stages if s.startswith("analysed")] == [
        f"analysed layer 0 · {d}" for d in ("forward", "reverse")]
    assert any(f"figures show {FIGURE_WINDOW} tokens" in line for line in lines)
