"""The tour in --quick mode: its numbers recomputed independently, and the CLI prints them."""

import io
import math
import os
import re
import shutil

import pytest
import torch
from typer.testing import CliRunner

from lstmlab.cli import app
from lstmlab.tasks.pronouns import WORD_TO_ID
from lstmlab.tour import TourConfig, run_tour, summary


@pytest.fixture(scope="module")
def result():
    return run_tour(TourConfig.quick())


def _pct(x):
    return "n/a" if math.isnan(x) else f"{x:.1%}"


def test_accuracy_recomputed_one_sentence_at_a_time(result):
    """Each pronoun re-scored by running the LSTM on its example alone, step by step."""
    data, model = result.test, result.models["LSTM"]
    his, her = WORD_TO_ID["his"], WORD_TO_ID["her"]
    cell = torch.nn.LSTMCell(model.recurrent.input_size, model.recurrent.hidden_size)
    cell.load_state_dict({k[:-3]: v for k, v in model.recurrent.state_dict().items()})
    correct = []
    with torch.no_grad():
        for n, p, gender in zip(data.query_example.tolist(), data.query_pronoun.tolist(),
                                data.query_gender.tolist(), strict=True):
            h = c = torch.zeros(1, cell.hidden_size)
            for t in range(p):
                h, c = cell(model.embedding(data.tokens[n, t : t + 1]), (h, c))
            logits = model.head(h)[0]
            correct.append(int(logits[her] > logits[his]) == gender)
    assert result.lstm.accuracy == pytest.approx(sum(correct) / len(correct), abs=1e-6)
    lines = summary(result)
    assert f"LSTM {_pct(sum(correct) / len(correct))}" in lines[1]
    assert f"simple RNN {_pct(result.rnn.accuracy)}" in lines[1]


def test_gate_numbers_recomputed_from_the_trace(result):
    data, layer, g = result.test, result.trace, result.gates
    units = list(g.gender_units)
    between = [layer.forget[t, n, units].mean()
               for n, s, p in zip(data.query_example, data.query_subject, data.query_pronoun,
                                  strict=True)
               for t in range(s + 1, p)]
    assert g.forget_between == pytest.approx(float(torch.stack(between).mean()), rel=1e-5)
    first = data.query_example[:-1] != data.query_example[1:]
    changes = [(n, s) for q, (n, s) in enumerate(zip(data.query_example, data.query_subject,
                                                      strict=True))
               if q > 0 and not first[q - 1] and data.query_gender[q] != data.query_gender[q - 1]]
    f_change = torch.stack([layer.forget[s, n, units].mean() for n, s in changes]).mean()
    assert g.forget_at_change == pytest.approx(float(f_change), rel=1e-5)
    text = " ".join(summary(result))
    assert f"f = {float(f_change):.3f} at a subject that changes" in text
    assert f"{g.forget_between:.3f} between subject and pronoun" in text
    # The retention of the first query's subject write, straight from the product of f.
    n, s, p = (int(data.query_example[0]), int(data.query_subject[0]),
               int(data.query_pronoun[0]))
    kept = layer.forget[s + 1 : p, n, units].prod(0).mean()
    assert float(kept) > 0
    assert re.search(r"retention prod f = 5-10: \d\.\d{3}", text)
    # The forget gate by word read: the mean over every real step reading "she".
    she = (data.tokens.T == WORD_TO_ID["she"]) & (layer.mask if layer.mask is not None else True)
    f_she = float(layer.forget[:, :, units].mean(-1)[she].mean())
    assert g.forget_by_word["she"] == pytest.approx(f_she, rel=1e-5)


def test_gradient_at_the_subject_by_plain_autograd(result):
    """dL/dh_s for one pronoun, by backpropagating through torch's own LSTM with h_s perturbed."""
    data, model = result.test, result.models["LSTM"]
    n, s, p = (int(data.query_example[0]), int(data.query_subject[0]),
               int(data.query_pronoun[0]))
    cell = torch.nn.LSTMCell(model.recurrent.input_size, model.recurrent.hidden_size)
    cell.load_state_dict({k[:-3]: v for k, v in model.recurrent.state_dict().items()})
    x = model.embedding(data.tokens[n, :p]).detach()
    nudges = torch.zeros(p, 1, cell.hidden_size, requires_grad=True)
    h = c = torch.zeros(1, cell.hidden_size)
    for t in range(p):
        h, c = cell(x[t : t + 1], (h, c))
        h = h + nudges[t]
    loss = torch.nn.functional.cross_entropy(model.head(h), data.tokens[n, p : p + 1],
                                             reduction="sum")
    (grad,) = torch.autograd.grad(loss, nudges)
    ratio = grad[s].norm() / grad[p - 1].norm()
    # Recompute the library's mean over pronouns for this query alone.
    from lstmlab.tasks.pronouns import PronounData
    from lstmlab.tour.analysis import gradient_by_lag

    one = PronounData(data.tokens[n : n + 1], data.lengths[n : n + 1],
                      data.subject_gender[n : n + 1], torch.tensor([0]), torch.tensor([s]),
                      torch.tensor([p]), data.query_gender[:1])
    _, at_subject = gradient_by_lag(model, one)
    assert [a for a in at_subject if not math.isnan(a)] == pytest.approx([float(ratio)],
                                                                          rel=1e-4)
    first = result.lstm.gradient_at_subject[0]
    assert f"5-10: {first:.3g} vs" in " ".join(summary(result))


def test_every_summary_sentence_carries_a_number(result):
    for line in summary(result):
        assert re.search(r"\d", line), line


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "report"
    return CliRunner().invoke(app, ["tour", "--quick", "--out", str(out)]), out


def test_cli_quick_tour_prints_the_summary_and_writes_the_report(result, cli_run):
    run, out = cli_run
    assert run.exit_code == 0, run.output
    flat = " ".join(run.output.split())
    for line in summary(result)[1:]:  # line 0 holds the wall-clock training times
        assert " ".join(line.split()) in flat
    for name in ("index.html", "explorer.html", "figures/gate_heatmaps.png",
                 "figures/gate_heatmaps.svg", "figures/retention_map.png",
                 "figures/forget_events.png", "figures/saturation.png",
                 "figures/gradient_flow.png", "figures/gender_units.png",
                 "figures/accuracy_by_distance.png"):
        assert (out / name).stat().st_size > 1000, name
    index = (out / "index.html").read_text()
    assert index.count("data:image/png;base64,") == 8
    assert "c_t = f_t * c_{t-1} + i_t * g_t" in index


@pytest.fixture(scope="module")
def page():
    """Debian's chromium through Playwright (tests/reports/conftest.py has the same for its
    directory); skipped cleanly without it."""
    executable = next((p for p in (os.environ.get("LSTMLAB_CHROMIUM"),
                                   "/usr/lib/chromium/chromium", shutil.which("chromium"))
                       if p and os.path.exists(p)), None)
    if executable is None:
        pytest.skip("Debian chromium not installed (make browser, or apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.errors = errors
        yield page
        browser.close()


def _non_white(png):
    import matplotlib.pyplot as plt

    image = plt.imread(io.BytesIO(png), format="png")[..., :3]
    return int((image < 0.95).any(axis=-1).sum())


@pytest.mark.browser
def test_tour_index_renders_offline(cli_run, page):
    _, out = cli_run
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((out / "index.html").as_uri())
    widths = page.eval_on_selector_all("img", "els => els.map(e => e.naturalWidth)")
    assert len(widths) == 8 and all(width > 100 for width in widths)
    assert page.text_content("h1").startswith("lstmlab tour")
    assert _non_white(page.screenshot(full_page=True)) > 50_000
    assert page.errors == []
    assert all(url.startswith(("file://", "data:")) for url in requests)


@pytest.mark.browser
def test_tour_explorer_shows_the_trace(cli_run, result, page):
    """The tour's explorer: hovering shows the trace's own numbers for the figure example."""
    from lstmlab.reports.explorer import format_values
    from lstmlab.tour.report import figure_example

    _, out = cli_run
    page.goto((out / "explorer.html").as_uri())
    unit = result.gates.gender_units[0]
    assert page.input_value("#unit") == str(unit)  # opens on the top gender unit
    n = figure_example(result)
    words = result.test.words(n)
    names = ("input", "forget", "candidate", "output", "cell", "hidden")
    values = {row: getattr(result.trace, name)[:, n].double().numpy()
              for row, name in zip("ifgoch", names, strict=True)}
    page.hover('rect.cell[data-row="c"][data-t="3"]')
    assert page.text_content("#tip") == format_values(words, values, 3, unit)
    assert _non_white(page.screenshot()) > 5000


@pytest.mark.slow
def test_default_tour_trains_within_three_minutes_and_learns_agreement():
    """The `make demo` configuration (about 50 s of CPU on one quiet core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as `lstmlab tour` runs
    try:
        full = run_tour(TourConfig())
    finally:
        torch.set_num_threads(threads)
    assert sum(full.train_seconds.values()) < 180
    assert full.lstm.accuracy > 0.95
    assert full.gates.forget_at_change < full.gates.forget_between
