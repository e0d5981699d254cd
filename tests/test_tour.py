"""The tour in --quick mode: its numbers recomputed independently, findings stated only where
their intervals support them, and the CLI prints them (the README's sample block included)."""

import io
import math
import re
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from chromium import chromium_path, missing
from lstmlab.cli import app
from lstmlab.stats import Interval
from lstmlab.tasks._pronouns import WORD_TO_ID, PronounData
from lstmlab.tour import TourConfig, run_tour, summary
from lstmlab.tour._causal import query_steps, subject_changed
from lstmlab.tour._summary import fmt, interval, pct

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def result():
    return run_tour(TourConfig.quick())


def _cell(model):
    cell = torch.nn.LSTMCell(model.recurrent.input_size, model.recurrent.hidden_size).double()
    cell.load_state_dict({k[:-3]: v for k, v in model.recurrent.state_dict().items()})
    return cell


def test_seeds_are_independent_runs(result):
    assert [s.seed for s in result.seeds] == [0, 1, 2]
    first, second = result.seeds[:2]
    assert not torch.equal(first.test.tokens[:5], second.test.tokens[:5])
    assert first.state_dicts["LSTM"]["recurrent.weight_hh_l0"].dtype == torch.float64
    assert not torch.equal(first.state_dicts["LSTM"]["recurrent.weight_hh_l0"],
                           second.state_dicts["LSTM"]["recurrent.weight_hh_l0"])


def test_accuracy_recomputed_one_sentence_at_a_time(result):
    """Each pronoun of the first seed re-scored by torch's LSTMCell on its example alone."""
    data, model = result.test, result.models["LSTM"]
    his, her = WORD_TO_ID["his"], WORD_TO_ID["her"]
    cell = _cell(model)
    correct = []
    with torch.no_grad():
        for n, p, gender in zip(data.query_example.tolist(), data.query_pronoun.tolist(),
                                data.query_gender.tolist(), strict=True):
            h = c = torch.zeros(1, cell.hidden_size, dtype=torch.float64)
            for t in range(p):
                h, c = cell(model.embedding(data.tokens[n, t : t + 1]), (h, c))
            logits = model.head(h)[0]
            correct.append(int(logits[her] > logits[his]) == gender)
    assert result.lstm.accuracy == pytest.approx(sum(correct) / len(correct), abs=1e-12)
    text = " ".join(summary(result))
    accuracies = interval([s.lstm.accuracy for s in result.seeds])
    assert f"LSTM {pct(accuracies)}" in text


def _forced_run(model, data, units, where, value):
    """The LSTM over the whole test set with f[units] = value where ``where`` (T, N): torch's
    equations in a plain loop, independent of lstmlab's patched_run."""
    w_ih, w_hh = model.recurrent.weight_ih_l0, model.recurrent.weight_hh_l0
    bias = model.recurrent.bias_ih_l0 + model.recurrent.bias_hh_l0
    with torch.no_grad():
        x = model.embedding(data.tokens)  # (N, T, E)
        h = c = torch.zeros(x.shape[0], model.hidden_size, dtype=torch.float64)
        hs = []
        for t in range(x.shape[1]):
            i, f, g, o = (x[:, t] @ w_ih.T + h @ w_hh.T + bias).chunk(4, dim=-1)
            f = f.sigmoid()
            f[:, units] = torch.where(where[t][:, None], torch.full_like(f[:, units], value),
                                      f[:, units])
            c = f * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            hs.append(h)
        hidden = torch.stack(hs)  # (T, N, H)
        logits = model.head(hidden[data.query_pronoun - 1, data.query_example])
    return (logits[:, WORD_TO_ID["her"]] > logits[:, WORD_TO_ID["his"]]).long() \
        == data.query_gender


def test_interventions_recomputed_by_a_plain_loop(result):
    first, model = result.first, result.models["LSTM"]
    data, measures = first.test, first.interventions
    units = list(measures.units)
    masks = query_steps(data)
    forced = _forced_run(model, data, units, masks["forget in between"], 0.0)
    assert measures.all_units == pytest.approx(float(forced.double().mean()), abs=1e-12)
    kept = _forced_run(model, data, units, masks["keep at the subject"], 1.0)
    changed = subject_changed(data)
    assert measures.changed_units["keep at the subject"] == pytest.approx(
        float(kept[changed].double().mean()), abs=1e-12)
    base = _forced_run(model, data, units, torch.zeros_like(masks["forget in between"]), 0.0)
    assert measures.all_base == pytest.approx(float(base.double().mean()), abs=1e-12)
    assert measures.all_base == pytest.approx(first.lstm.accuracy, abs=1e-12)
    for control in measures.controls:  # the control never touches a gender unit
        assert len(control) == len(units) and not set(control) & set(units)


def test_query_masks_follow_the_sentences(result):
    data = result.test
    masks = query_steps(data)
    n, s, p = (int(data.query_example[1]), int(data.query_subject[1]),
               int(data.query_pronoun[1]))
    assert masks["keep at the subject"][:, n].nonzero().squeeze(1).tolist()[1] == s
    between = masks["forget in between"][:, n].nonzero().squeeze(1).tolist()
    assert set(range(s + 1, p)) <= set(between) and s not in between and p not in between
    boundary = masks["keep across the boundary"][:, n].nonzero().squeeze(1).tolist()
    previous_pronoun = int(data.query_pronoun[0])
    assert boundary[-(s - previous_pronoun):] == list(range(previous_pronoun + 1, s + 1))


def test_forget_split_recomputed_from_the_weights(result):
    """The change of the input term at subject words, from W_f and the embedding alone."""
    first, model = result.first, result.models["LSTM"]
    data, units = first.test, list(first.gates.gender_units)
    size = model.hidden_size
    w_f = model.recurrent.weight_ih_l0[size : 2 * size][units]
    with torch.no_grad():
        term = (model.embedding(data.tokens) @ w_f.T).mean(-1).T  # (T, N)
    masks = query_steps(data)
    expected = (term[masks["keep at the subject"]].mean()
                - term[masks["forget in between"]].mean())
    assert first.split.subject[0] == pytest.approx(float(expected), abs=1e-10)
    bias = (model.recurrent.bias_ih_l0 + model.recurrent.bias_hh_l0).detach()[size : 2 * size]
    bias = bias[units]
    assert first.split.between[2] == pytest.approx(float(bias.mean()), abs=1e-12)


def test_gate_numbers_recomputed_from_the_trace(result):
    data, layer, g = result.test, result.trace, result.gates
    units = list(g.gender_units)
    between = [layer.forget[t, n, units].mean()
               for n, s, p in zip(data.query_example, data.query_subject, data.query_pronoun,
                                  strict=True)
               for t in range(s + 1, p)]
    assert g.forget_between == pytest.approx(float(torch.stack(between).mean()), rel=1e-9)
    changes = subject_changed(data)
    f_change = torch.stack([layer.forget[s, n, units].mean() for n, s in zip(
        data.query_example[changes], data.query_subject[changes], strict=True)]).mean()
    assert g.forget_at_change == pytest.approx(float(f_change), rel=1e-9)
    text = " ".join(summary(result))
    change = interval([s.gates.forget_at_change for s in result.seeds])
    assert f"f = {fmt(change)} at a subject that changes" in text


def test_gradient_at_the_subject_by_plain_autograd(result):
    """dL/dh_s for one pronoun, by backpropagating through torch's LSTMCell with h_s nudged."""
    from lstmlab.tour._analysis import gradient_by_lag

    data, model = result.test, result.models["LSTM"]
    n, s, p = (int(data.query_example[0]), int(data.query_subject[0]),
               int(data.query_pronoun[0]))
    cell = _cell(model)
    x = model.embedding(data.tokens[n, :p]).detach()
    nudges = torch.zeros(p, 1, cell.hidden_size, dtype=torch.float64, requires_grad=True)
    h = c = torch.zeros(1, cell.hidden_size, dtype=torch.float64)
    for t in range(p):
        h, c = cell(x[t : t + 1], (h, c))
        h = h + nudges[t]
    loss = torch.nn.functional.cross_entropy(model.head(h), data.tokens[n, p : p + 1],
                                             reduction="sum")
    (grad,) = torch.autograd.grad(loss, nudges)
    ratio = grad[s].norm() / grad[p - 1].norm()
    one = PronounData(data.tokens[n : n + 1], data.lengths[n : n + 1],
                      data.subject_gender[n : n + 1], torch.tensor([0]), torch.tensor([s]),
                      torch.tensor([p]), data.query_gender[:1])
    _, at_subject = gradient_by_lag(model, one)
    assert [a for a in at_subject if not math.isnan(a)] == pytest.approx([float(ratio)],
                                                                          rel=1e-9)


INTERVAL = re.compile(r"\[([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?), ([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\]")


def test_every_number_carries_an_interval_and_findings_exclude_zero(result):
    lines = summary(result)
    assert lines[0].startswith("SMOKE RUN")
    for line in lines[2:]:
        assert INTERVAL.search(line) or line.startswith("Not supported"), line
    findings = [line for line in lines if line.startswith("Finding:")]
    for line in findings:  # the last interval of a finding is its difference: 0 excluded
        low, high = (float(v) for v in INTERVAL.findall(line)[-1])
        assert low > 0 or high < 0, line
    for line in lines:
        if line.startswith("Not supported"):
            low, high = (float(v) for v in INTERVAL.findall(line)[-1])
            assert low <= 0 <= high or "above 0" in line or "below 0" in line, line


def test_a_finding_needs_its_interval():
    from lstmlab.tour._summary import _causal_finding

    assert _causal_finding(Interval(0.2, 0.1, 0.3), "X").startswith("Finding: X")
    assert _causal_finding(Interval(0.2, -0.1, 0.3), "X").startswith(
        "Not supported by this run: that X")
    assert "is below 0" in _causal_finding(Interval(-0.2, -0.3, -0.1), "X")


def test_workers_give_the_same_numbers_as_one_process():
    """Seeds trained in spawned processes equal the same seeds trained here."""
    import dataclasses

    tiny = dataclasses.replace(TourConfig.quick(), seeds=2, train_examples=40, test_examples=20,
                               training=dataclasses.replace(TourConfig.quick().training,
                                                            max_steps=3))
    here = run_tour(tiny)
    there = run_tour(dataclasses.replace(tiny, workers=2))
    assert summary(here) == summary(there)


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "report"
    return CliRunner().invoke(app, ["tour", "--quick", "--out", str(out)]), out


def _flat(text):
    return " ".join(text.split())


def test_cli_quick_tour_prints_the_summary_and_writes_the_report(result, cli_run):
    run, out = cli_run
    assert run.exit_code == 0, run.output
    flat = _flat(run.output)
    for line in summary(result):
        assert _flat(line) in flat
    for name in ("index.html", "explorer.html", "figures/gate_heatmaps.png",
                 "figures/gate_heatmaps.svg", "figures/retention_map.png",
                 "figures/forget_events.png", "figures/saturation.png",
                 "figures/gradient_flow.png", "figures/gender_units.png",
                 "figures/accuracy_by_distance.png", "figures/interventions.png",
                 "figures/forget_split.png"):
        assert (out / name).stat().st_size > 1000, name
    index = (out / "index.html").read_text()
    assert index.count("data:image/png;base64,") == 10
    assert "c_t = f_t * c_{t-1} + i_t * g_t" in index
    assert "SMOKE RUN" in index


def _readme_block():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- tour-quick: begin -->\n```\n(.*?)```\n<!-- tour-quick: end -->",
                      text, re.S)
    assert match, "README.md has no tour-quick block"
    return match.group(1)


def test_readme_sample_block_is_what_the_command_prints(cli_run):
    """The README's sample output is `lstmlab tour --quick` verbatim, except the wall-clock
    line and the report's path (both vary by machine and folder)."""
    run, _ = cli_run
    lines = _readme_block().splitlines()
    assert lines[0] == "$ lstmlab tour --quick"

    def comparable(text):  # everything before the report's paths and the time
        return _flat(text.split("Report:", 1)[0])

    assert "Report:" in run.output
    assert comparable("\n".join(lines[1:])) == comparable(run.output)


@pytest.fixture(scope="module")
def page():
    """Debian's chromium through Playwright (tests/chromium.py's rule: skipped without it, a
    failure in CI)."""
    executable = chromium_path()
    if executable is None:
        missing("Debian chromium not installed (make browser, or apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright not installed (pip install -e '.[dev]')")
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
    assert len(widths) == 10 and all(width > 100 for width in widths)
    assert page.text_content("h1").startswith("lstmlab tour")
    assert _non_white(page.screenshot(full_page=True)) > 50_000
    assert page.errors == []
    assert all(url.startswith(("file://", "data:")) for url in requests)


@pytest.mark.browser
def test_tour_explorer_shows_the_trace(cli_run, result, page):
    """The tour's explorer: hovering shows the trace's own numbers for the figure example."""
    from lstmlab.reports._explorer import format_values
    from lstmlab.tour._report import figure_example

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
def test_default_tour_separates_the_models_and_states_its_findings():
    """The `make demo` configuration (5 seeds in 2 processes; minutes on 2 cores)."""
    full = run_tour(TourConfig())
    lines = summary(full)
    assert all(s.lstm.accuracy > 0.9 for s in full.seeds)
    assert any(line.startswith("Finding: the LSTM is more accurate than the simple RNN")
               for line in lines), lines
