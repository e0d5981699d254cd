"""Readings of [H97] as `EXPERIMENT:READING`: each changes only what it says, gets its own key."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from lstmlab.cells import G2, H1, IDENTITY, LOGISTIC
from lstmlab.reproduce import Lstm1997Method
from lstmlab.reproduce._lstm1997 import network_config
from lstmlab.reproduce._readings import READINGS
from lstmlab.reproduce._registry import experiment
from lstmlab.reproduce._runner import trial_config_hash
from lstmlab.tasks import BiasedUnits, Setup1997
from lstmlab.tasks._setup import weight_count
from lstmlab.training._network1997 import Network1997, map_weights
from lstmlab.training._online1997 import online_sequence


def _changed(a: Setup1997, b: Setup1997) -> set[str]:
    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.parametrize(("name", "fields"), [
    ("4:linear-output", {"output_unit"}),
    ("5:linear-output", {"output_unit"}),
    ("2a:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
    ("2a:centred-g", {"g"}),
    ("1:caption-ranges", {"g", "h"}),
    ("1:unhalved-error", {"learning_rate"}),
    ("1:input-gate-bias", {"input_gate_bias"}),
    ("1:half-reset", {"initial_activation"}),
    ("1:sequence-updates", {"online"}),
    ("1:added-bias", {"added_gate_bias"}),
    ("1:text-bias-range", {"random_bias_like_weights"}),
    ("2b:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
    ("2b:end-errors", {"biased", "input_gate_bias", "weights"}),
    ("2a:winner", {"biased", "input_gate_bias", "weights"}),
    ("2b:winner", {"biased", "input_gate_bias", "weights"}),
    ("2c:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
    ("2a:output-gate", {"biased", "input_gate_bias", "weights", "output_gate",
                        "output_gate_bias"}),
    ("2c@q=1000,p=1000:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
    ("2c:input-gate-bias-mild", {"biased", "input_gate_bias", "weights"}),
    ("2c:input-gate-bias-staggered", {"biased", "input_gate_bias", "weights"}),
    ("2c:output-gate-bias", {"biased", "output_gate_bias", "weights"}),
    ("2c:unhalved-error", {"learning_rate"}),
    ("2c:half-reset", {"initial_activation"}),
    ("2c:mild-bias-unhalved-error", {"biased", "input_gate_bias", "weights", "learning_rate"}),
    ("4@T=1000:linear-scaled-input-bias", {"output_unit", "input_gate_bias"}),
    ("4@T=500:linear-scaled-input-bias", {"output_unit", "input_gate_bias"}),
    ("4@T=1000:linear-output-gate-bias", {"output_unit", "output_gate_bias"}),
    ("4@T=1000:linear-both-biases", {"output_unit", "input_gate_bias", "output_gate_bias"}),
    ("2c:identity-h", {"h"}),
    ("2c@q=1000,p=1000:identity-h", {"h"}),
    ("2c:caption-ranges", {"g", "h"}),
    ("2c:identity-h-output-gate-bias", {"h", "biased", "output_gate_bias", "weights"}),
    ("2c:identity-h-mild-bias", {"h", "biased", "input_gate_bias", "weights"}),
    ("2c@q=1000,p=1000:input-gate-bias-exp4", {"biased", "input_gate_bias", "weights"}),
    ("3a:fixed-stopping-set", set()),
    ("3b:fixed-stopping-set", set()),
    ("3a@T=100,N=1:fixed-stopping-set", set()),
])
def test_a_reading_changes_only_its_fields_and_the_store_key(name, fields):
    base, read = experiment(name.split(":")[0]), experiment(name)
    assert base.setup == experiment(base.name).setup  # the text's set-up, untouched
    assert read.name == name and _changed(base.setup, read.setup) == fields
    assert weight_count(read.setup) == read.setup.weights
    assert Network1997(network_config(read.setup)).num_weights == read.setup.weights
    method = Lstm1997Method()
    assert trial_config_hash(method, base, 100)[0] != trial_config_hash(method, read, 100)[0]


def test_the_readings_build_the_networks_they_name():
    linear = network_config(experiment("4:linear-output").setup)
    assert linear.output_squash is IDENTITY and network_config(
        experiment("4").setup).output_squash is LOGISTIC
    bias = experiment("2a:input-gate-bias").setup
    assert bias.biased is BiasedUnits.GATES and bias.input_gate_bias == (-3.0,)
    net = Network1997(network_config(bias), generator=torch.Generator().manual_seed(0))
    assert net.cell.bias is not None
    assert float(net.cell.bias.detach()[net.cell.input_rows][0]) == -3.0
    assert experiment("2a:centred-g").setup.g is G2
    assert experiment("2b:input-gate-bias").setup == dataclasses.replace(
        bias, experiment="2b")
    ended = experiment("2b:end-errors")
    assert ended.setup == experiment("2b:input-gate-bias").setup
    assert ended.make_task(0).end_errors and not experiment("2b").make_task(0).end_errors
    winner = experiment("2a:winner")
    assert winner.setup == bias and winner.make_task(0).winner
    assert not experiment("2a:input-gate-bias").make_task(0).winner
    assert experiment("2b:winner").make_task(0).winner
    assert experiment("2b:winner").make_task(0).random_middle


def test_every_reading_quotes_what_it_rests_on():
    for readings in READINGS.values():
        for reading in readings.values():
            assert "[H97]" in reading.rests_on and reading.change


def test_unknown_readings_and_output_units_are_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"expected a reading among \(4:linear-output, "):
        experiment("4:tanh-output")
    with pytest.raises(ValueError, match="expected a reading among \\(none\\)"):
        experiment("6a:anything")
    with pytest.raises(ValueError, match="output_unit: expected a Squash"):
        dataclasses.replace(experiment("4").setup, output_unit="tanh")
    with pytest.raises(ValueError, match="g: expected a Squash"):
        dataclasses.replace(experiment("4").setup, g=torch.sigmoid)


def test_allowed_targets_changes_only_the_tasks_targets_and_the_store_key():
    """1:allowed-targets keeps the set-up, the strings of every seed's pair and the success
    criterion; its trials train on the allowed-next sets (the criterion's own sets)."""
    base, read = experiment("1"), experiment("1:allowed-targets")
    assert read.name == "1:allowed-targets" and read.setup == base.setup
    method = Lstm1997Method()
    assert trial_config_hash(method, base, 100)[0] != trial_config_hash(method, read, 100)[0]
    for seed in (0, 4):
        plain, allowed = base.make_task(seed), read.make_task(seed)
        assert (plain.targets, allowed.targets) == ("next", "allowed")
        assert allowed.train_strings == plain.train_strings
        assert allowed.test_strings == plain.test_strings
        drawn = allowed.sample(1, torch.Generator().manual_seed(seed))
        same = plain.sample(1, torch.Generator().manual_seed(seed))
        torch.testing.assert_close(drawn.inputs, same.inputs, rtol=0, atol=0)
        torch.testing.assert_close(drawn.targets, same.choices.double().to(drawn.targets.dtype),
                                   rtol=0, atol=0)
        outputs = torch.rand(drawn.inputs.shape[:2] + (7,), generator=torch.Generator()
                             .manual_seed(1))
        assert torch.equal(allowed.is_correct(outputs, drawn), plain.is_correct(outputs, same))


def test_a_task_reading_refuses_a_task_it_does_not_know():
    from lstmlab.reproduce._readings import reading

    with pytest.raises(ValueError, match="expected an EmbeddedReber, received"):
        reading("1", "allowed-targets").task(experiment("6a").make_task(0))


def test_caption_ranges_swaps_the_ranges_of_g_and_h():
    read = experiment("1:caption-ranges")
    assert _changed(experiment("1").setup, read.setup) == {"g", "h"}
    config = network_config(read.setup)
    assert config.g is H1 and config.h is G2
    big = torch.tensor([-40.0, 40.0], dtype=torch.float64)
    torch.testing.assert_close(config.h.fn(big), torch.tensor([-2.0, 2.0], dtype=torch.float64))
    torch.testing.assert_close(config.g.fn(big), torch.tensor([-1.0, 1.0], dtype=torch.float64))


def test_unhalved_error_steps_as_eq_17_on_eq_16_without_the_half():
    """One online step of the reading (alpha 1.0) equals w - 0.5 dE/dw with E = sum_k (t - y)^2
    (eq. 16 as printed) differentiated by autograd; on a first step from the reset state the
    truncated gradient is the full one (nothing earlier to truncate)."""
    read = experiment("1:unhalved-error")
    assert _changed(experiment("1").setup, read.setup) == {"learning_rate"}
    assert read.setup.learning_rate == 2 * experiment("1").setup.learning_rate == 1.0
    net = Network1997(network_config(read.setup), generator=torch.Generator().manual_seed(3),
                      dtype=torch.float64)
    x = torch.zeros(1, 1, 7, dtype=torch.float64)
    x[0, 0, 2] = 1.0
    target = torch.zeros(1, 1, 7, dtype=torch.float64)
    target[0, 0, 4] = 1.0
    outputs, _ = net(x)
    ((target - outputs) ** 2).sum().backward()
    stepped = online_sequence(net, map_weights(lambda w: w.detach().unsqueeze(0), net.weights()),
                              x.unsqueeze(1), target.unsqueeze(1),
                              learning_rate=read.setup.learning_rate).weights
    paper_alpha = experiment("1").setup.learning_rate
    for mine, param in ((stepped.weight_ho[0], net.weight_ho),
                        (stepped.cell.weight_ih[0], net.cell.weight_ih),
                        (stepped.cell.bias[0], net.cell.bias)):
        expected = param.detach() - paper_alpha * param.grad * (
            net.cell.bias_mask if param is net.cell.bias else 1.0)
        torch.testing.assert_close(mine, expected)


def test_input_gate_bias_starts_each_input_gate_at_its_blocks_output_gate_bias():
    setup = experiment("1:input-gate-bias").setup
    net = Network1997(network_config(setup), generator=torch.Generator().manual_seed(0))
    bias = net.cell.bias.detach()
    expected = torch.tensor([-1.0, -2.0, -3.0])
    torch.testing.assert_close(bias[net.cell.input_rows], expected, rtol=0, atol=0)
    torch.testing.assert_close(bias[net.cell.output_rows], expected, rtol=0, atol=0)
    # The text's reading draws them in [-0.1, 0.1] (Table 10's "r").
    plain = Network1997(network_config(experiment("1").setup),
                        generator=torch.Generator().manual_seed(0)).cell
    drawn = plain.bias.detach()[plain.input_rows]
    assert drawn.abs().max() <= 0.1 and not torch.equal(drawn, expected)


def test_half_reset_is_in_its_key_and_absent_from_the_keys_before_it():
    """``initial_activation`` came after trials were stored: at its default (0) the canonical
    text, hence every earlier store key, leaves it out; at 0.5 it is written."""
    from lstmlab.reproduce._fingerprint import canonical

    text, half = (canonical((experiment(n).setup, network_config(experiment(n).setup)))
                  for n in ("1", "1:half-reset"))
    assert "initial_activation" not in text
    assert half.count("initial_activation=0.5") == 2


def test_sequence_updates_apply_the_summed_steps_once_at_the_sequence_end(monkeypatch):
    """The reading's trials call the loop with ``UpdateMode.SEQUENCE`` (the text's with STEP),
    and a SEQUENCE update is w - alpha * sum_t dE(t)/dw with every term at the sequence's
    starting weights: the outputs are those of a run that does not learn, the weights are the
    starting ones moved once by the summed gradient that run returns."""
    import lstmlab.reproduce._lstm1997 as lstm1997
    from lstmlab.training._online1997 import UpdateMode

    modes = []
    real = lstm1997.online_sequence

    def spy(*args, **kwargs):
        modes.append(kwargs["mode"])
        return real(*args, **kwargs)

    monkeypatch.setattr(lstm1997, "online_sequence", spy)
    method = Lstm1997Method(lstm1997.Lstm1997Settings(population=1))
    for name, mode in (("1", UpdateMode.STEP), ("1:sequence-updates", UpdateMode.SEQUENCE)):
        modes.clear()
        list(method.run_trials(experiment(name), [0], 3, lambda n, e: None))
        assert modes == [mode] * 3

    setup = experiment("1:sequence-updates").setup
    net = Network1997(network_config(setup), generator=torch.Generator().manual_seed(1),
                      dtype=torch.float64)
    weights = map_weights(lambda w: w.detach().unsqueeze(0), net.weights())
    batch = experiment("1").make_task(0).sample(1, torch.Generator().manual_seed(2))
    x, target = (t.to(torch.float64).unsqueeze(1) for t in (batch.inputs, batch.targets))
    run = {mode: online_sequence(net, weights, x, target, learning_rate=setup.learning_rate,
                                 mode=mode) for mode in UpdateMode}
    fixed, once, stepped = run[UpdateMode.NONE], run[UpdateMode.SEQUENCE], run[UpdateMode.STEP]
    torch.testing.assert_close(once.outputs, fixed.outputs, rtol=0, atol=0)
    assert not torch.equal(stepped.outputs, fixed.outputs)
    for mine, start, grad in zip(
            (once.weights.weight_ho, once.weights.cell.weight_ih, once.weights.cell.weight_hh),
            (weights.weight_ho, weights.cell.weight_ih, weights.cell.weight_hh),
            (fixed.gradient.weight_ho, fixed.gradient.cell.weight_ih,
             fixed.gradient.cell.weight_hh), strict=True):
        torch.testing.assert_close(mine, start - setup.learning_rate * grad)
    assert not torch.equal(once.weights.weight_ho, weights.weight_ho)


def test_sweep_presents_the_training_strings_in_order_epoch_after_epoch():
    """Under ``1:sweep`` the k-th training sequence is training string k mod 256 (the text's
    task picks at random), whatever the generator, and a checkpointed position resumes."""
    from lstmlab.tasks._reber import encode

    plain, swept = experiment("1").make_task(4), experiment("1:sweep").make_task(4)
    assert swept.train_strings == plain.train_strings and swept.order == "sweep"
    assert plain.state_dict() is None
    n = len(swept.train_strings)
    for k in range(n + 3):
        batch = swept.sample(1, torch.Generator().manual_seed(k))
        expected = encode([swept.train_strings[k % n]])
        torch.testing.assert_close(batch.inputs, expected.inputs, rtol=0, atol=0)
    assert swept.state_dict() == {"next": 3}
    resumed = experiment("1:sweep").make_task(4)
    resumed.load_state_dict(swept.state_dict())
    torch.testing.assert_close(resumed.sample(2, torch.Generator()).inputs,
                               encode(swept.train_strings[3:5]).inputs, rtol=0, atol=0)
    gen = torch.Generator().manual_seed(0)
    drawn = [int(i) for i in torch.randint(n, (5,), generator=torch.Generator().manual_seed(0))]
    for i in drawn:  # the text's task: the generator's draws
        torch.testing.assert_close(plain.sample(1, gen).inputs,
                                   encode([plain.train_strings[i]]).inputs, rtol=0, atol=0)

@pytest.mark.parametrize("name", ["2c", "2c@q=100,p=100"])
def test_2c_input_gate_bias_changes_only_the_gate_biases_drawn(name):
    """Seed for seed, the reading's net has the text's cell weights; its input gates start at
    -3.0 exactly, its output gates at a bias in [-0.1, 0.1] (Table 10's "r"), its cells have
    none; the cell-to-output weights are drawn after the biases, from [-0.2, 0.2]. Plus 4
    weights (Table 3's W + 4)."""
    text, read = experiment(name).setup, experiment(f"{name}:input-gate-bias").setup
    assert read.weights == text.weights + 4 and read.input_gate_bias == (-3.0, -3.0)
    for seed in range(3):
        plain = Network1997(network_config(text), generator=torch.Generator().manual_seed(seed))
        biased = Network1997(network_config(read), generator=torch.Generator().manual_seed(seed))
        assert plain.cell.bias is None
        torch.testing.assert_close(biased.cell.weight_ih, plain.cell.weight_ih, rtol=0, atol=0)
        torch.testing.assert_close(biased.cell.weight_hh, plain.cell.weight_hh, rtol=0, atol=0)
        bias = biased.cell.bias.detach() * biased.cell.bias_mask
        torch.testing.assert_close(bias[biased.cell.input_rows], torch.full((2,), -3.0),
                                   rtol=0, atol=0)
        out = bias[biased.cell.output_rows]
        assert out.abs().max() <= 0.1 and out.abs().min() > 0
        assert not biased.cell.bias_mask[2:4].any()  # the two cells: no bias
        assert biased.weight_ho.abs().max() <= 0.2


def test_2a_output_gate_adds_a_gate_like_the_input_gate_biased_at_minus_2():
    """The reading's net: 2a:input-gate-bias's cell weights drawn seed for seed, plus an
    output gate fed by the 101 inputs (101 weights, bias exactly -2.0; no recurrence), and the
    C loop trains it as the readable torch loop does (the reference for the kernel)."""
    from lstmlab.tasks import NoiseFreeLongLag

    read = experiment("2a:output-gate").setup
    assert read.weights == experiment("2a:input-gate-bias").setup.weights + 102 == 10_607
    config = network_config(read)
    assert config.output_gate and not config.recurrent and config.input_to_output
    net = Network1997(config, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    bias = net.cell.bias.detach() * net.cell.bias_mask
    torch.testing.assert_close(bias[net.cell.input_rows], torch.tensor([-3.0], dtype=bias.dtype),
                               rtol=0, atol=0)
    torch.testing.assert_close(bias[net.cell.output_rows],
                               torch.tensor([-2.0], dtype=bias.dtype), rtol=0, atol=0)
    assert net.cell.weight_ih.shape == (3, 101) and net.cell.weight_hh is None
    batch = NoiseFreeLongLag(100).sample(1, torch.Generator().manual_seed(1))
    weights = map_weights(lambda w: w.detach().unsqueeze(0), net.weights())
    runs = [online_sequence(net, weights, batch.inputs.double().unsqueeze(1),
                            batch.targets.double().unsqueeze(1), batch.mask.unsqueeze(1),
                            learning_rate=1.0, compiled=compiled) for compiled in (True, False)]
    torch.testing.assert_close(runs[0].outputs, runs[1].outputs)
    for fast, slow in zip(runs[0].weights.cell, runs[1].weights.cell, strict=True):
        if fast is not None:
            torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(runs[0].weights.weight_ho, runs[1].weights.weight_ho)


def _bias_draw(seed: int, rows: int, inputs: int) -> torch.Tensor:
    """The bias weights trial ``seed``'s net draws, recomputed from its generator: weight_ih,
    weight_hh, then bias, each (2 u - 1) * 0.2 in float64."""
    gen = torch.Generator().manual_seed(seed)
    for shape in ((rows, inputs), (rows, rows)):
        torch.rand(shape, generator=gen, dtype=torch.float64)
    return (2 * torch.rand(rows, generator=gen, dtype=torch.float64) - 1) * 0.2


def test_added_bias_adds_the_output_gate_biases_to_the_draw_and_changes_nothing_else():
    """Under ``1:added-bias`` trial ``seed``'s output-gate biases are -1, -2, -3 plus the bias
    weight drawn in [-0.2, 0.2] (the JKU simulator's ``W_mod[i][in_mod-1] += bias_out[u]``),
    recomputed here from the generator: weight_ih, weight_hh, bias, each (2 u - 1) * 0.2. The
    input gates keep the text's "r" draw (rescaled to [-0.1, 0.1]); every other weight is the
    text's, draw for draw."""
    seed = 3
    text_setup, added_setup = (experiment(n).setup for n in ("1", "1:added-bias"))
    text, added = (Network1997(network_config(s), generator=torch.Generator().manual_seed(seed),
                               dtype=torch.float64) for s in (text_setup, added_setup))
    cell = added.cell
    raw = _bias_draw(seed, cell.num_units, text_setup.input_size)
    given = torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64)
    bias = cell.bias.detach()
    torch.testing.assert_close(bias[cell.output_rows], given + raw[cell.output_rows],
                               rtol=0, atol=1e-15)
    assert not torch.equal(raw[cell.output_rows], torch.zeros(3, dtype=torch.float64))
    assert ((bias[cell.output_rows] - given).abs() <= 0.2).all()
    # the text's reading: the given values exactly; the input gates' "r" the same in both
    torch.testing.assert_close(text.cell.bias.detach()[cell.output_rows], given, rtol=0, atol=0)
    torch.testing.assert_close(bias[cell.input_rows], raw[cell.input_rows] * 0.5,
                               rtol=0, atol=1e-15)
    changed = torch.zeros(cell.num_units, dtype=torch.bool)
    changed[cell.output_rows] = True
    torch.testing.assert_close(bias[~changed], text.cell.bias.detach()[~changed], rtol=0, atol=0)
    for mine, theirs in zip(added.parameters(), text.parameters(), strict=True):
        if mine is not cell.bias:
            torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_added_bias_is_in_its_key_and_absent_from_the_keys_before_it():
    from lstmlab.reproduce._fingerprint import canonical

    text, added = (canonical((experiment(n).setup, network_config(experiment(n).setup)))
                   for n in ("1", "1:added-bias"))
    assert "added_gate_bias" not in text
    assert added.count("added_gate_bias=True") == 2

def test_2c_gate_bias_readings_start_the_gates_they_name_at_their_values():
    """2c's bias readings: the named gates start exactly at the reading's values, block by
    block; the other gates at Table 10's "r" (in [-0.1, 0.1]); the cells have no bias; alpha
    doubles under unhalved-error."""
    for name, rows, values in [("input-gate-bias-mild", "input_rows", (-1.0, -1.0)),
                               ("input-gate-bias-staggered", "input_rows", (-1.0, -3.0)),
                               ("input-gate-bias-exp4", "input_rows", (-3.0, -6.0)),
                               ("output-gate-bias", "output_rows", (-2.0, -4.0))]:
        net = Network1997(network_config(experiment(f"2c:{name}").setup),
                          generator=torch.Generator().manual_seed(0))
        bias = net.cell.bias.detach() * net.cell.bias_mask
        torch.testing.assert_close(bias[getattr(net.cell, rows)], torch.tensor(values),
                                   rtol=0, atol=0)
        other = "output_rows" if rows == "input_rows" else "input_rows"
        assert bias[getattr(net.cell, other)].abs().max() <= 0.1
        assert not net.cell.bias_mask[2:4].any()
    assert experiment("2c:identity-h-output-gate-bias").setup == dataclasses.replace(
        experiment("2c:output-gate-bias").setup, h=IDENTITY)
    assert experiment("2c:identity-h-mild-bias").setup == dataclasses.replace(
        experiment("2c:input-gate-bias-mild").setup, h=IDENTITY)
    assert experiment("2c:unhalved-error").setup.learning_rate == 0.02
    both = experiment("2c:mild-bias-unhalved-error").setup
    assert both == dataclasses.replace(experiment("2c:input-gate-bias-mild").setup,
                                       learning_rate=0.02)


@pytest.mark.parametrize("T", [100, 500, 1000])
def test_adding_bias_readings_start_the_gates_at_their_values_at_every_T(T):
    """Exp. 4's bias readings, seed for seed against the linear-output reading's net: the
    scaled input-gate biases are -3 - ln(T/100) and -6 - ln(T/100) exactly, so that the input
    gates' sum over T steps stays at T = 100's within 5 % (recomputed here with math.exp);
    the output gates start at -2, -4 instead of Table 10's "r"; every other weight is the
    linear-output reading's, draw for draw."""
    import math

    base = experiment(f"4@T={T}:linear-output").setup
    plain = Network1997(network_config(base), generator=torch.Generator().manual_seed(T))
    for name, ins, outs in [("linear-scaled-input-bias", True, False),
                            ("linear-output-gate-bias", False, True),
                            ("linear-both-biases", True, True)]:
        setup = experiment(f"4@T={T}:{name}").setup
        assert setup.output_unit is IDENTITY
        net = Network1997(network_config(setup), generator=torch.Generator().manual_seed(T))
        bias, text = net.cell.bias.detach(), plain.cell.bias.detach()
        cell = net.cell
        want_in = torch.tensor([-3.0 - math.log(T / 100), -6.0 - math.log(T / 100)]) if ins \
            else text[cell.input_rows]
        torch.testing.assert_close(bias[cell.input_rows], want_in, rtol=0, atol=1e-6)
        want_out = torch.tensor([-2.0, -4.0]) if outs else text[cell.output_rows]
        torch.testing.assert_close(bias[cell.output_rows], want_out, rtol=0, atol=0)
        if ins:
            for given, scaled in zip((-3.0, -6.0), setup.input_gate_bias, strict=True):
                summed = T / (1 + math.exp(-scaled))
                assert summed == pytest.approx(100 / (1 + math.exp(-given)), rel=0.05)
        rest = torch.ones(cell.num_units, dtype=torch.bool)
        rest[cell.input_rows] = rest[cell.output_rows] = False
        torch.testing.assert_close(bias[rest], text[rest], rtol=0, atol=0)
        for mine, theirs in zip(net.parameters(), plain.parameters(), strict=True):
            if mine is not cell.bias:
                torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_scaled_input_bias_refuses_a_set_up_that_is_not_exp_4s():
    from lstmlab.reproduce._readings import _scaled_input_gate_bias

    with pytest.raises(ValueError, match="rows 4-1 .. 4-3"):
        _scaled_input_gate_bias(experiment("5").setup)


def test_distinct_train_draws_256_different_training_strings_from_the_same_generator():
    """Reference: the pair drawn here from the data seed's generator, string by string, a
    training string kept only when new, then test strings kept only when not in training;
    the set-up, the targets and the key as 1:allowed-targets' test says."""
    from lstmlab.reproduce._readings import reading
    from lstmlab.tasks._reber import Coins, embedded_reber

    base, read = experiment("1"), experiment("1:distinct-train")
    assert read.name == "1:distinct-train" and read.setup == base.setup
    method = Lstm1997Method()
    assert trial_config_hash(method, base, 100)[0] != trial_config_hash(method, read, 100)[0]
    for seed in (0, 4):
        plain, distinct = base.make_task(seed), read.make_task(seed)
        flip = Coins(torch.Generator().manual_seed(seed % 3))
        train: list[str] = []
        while len(train) < 256:
            string = embedded_reber(flip)[0]
            if string not in train:
                train.append(string)
        test: list[str] = []
        while len(test) < 256:
            string = embedded_reber(flip)[0]
            if string not in train:
                test.append(string)
        assert distinct.train_strings == train and distinct.test_strings == test
        assert len(set(plain.train_strings)) < 128  # the text's set repeats strings
        assert train[:8] == [s for s in dict.fromkeys(plain.train_strings)][:8]
        assert (distinct.targets, distinct.order) == (plain.targets, plain.order)
    assert experiment("1:allowed-targets").make_task(0).with_distinct_training().targets == \
        "allowed"
    with pytest.raises(ValueError, match="expected an EmbeddedReber, received"):
        reading("1", "distinct-train").task(experiment("6a").make_task(0))


def test_text_bias_range_draws_the_input_gate_biases_in_the_weights_interval():
    """Under ``1:text-bias-range`` trial ``seed``'s input-gate biases are the bias draw in
    [-0.2, 0.2] recomputed here from the generator (weight_ih, weight_hh, bias: each
    (2 u - 1) * 0.2), the text's twice; the output gates' -1, -2, -3 and every other weight
    the text's, draw for draw; the text's key is unchanged."""
    from lstmlab.reproduce._fingerprint import canonical

    seed = 5
    text_setup, read_setup = (experiment(n).setup for n in ("1", "1:text-bias-range"))
    text, read = (Network1997(network_config(s), generator=torch.Generator().manual_seed(seed),
                              dtype=torch.float64) for s in (text_setup, read_setup))
    cell = read.cell
    raw = _bias_draw(seed, cell.num_units, text_setup.input_size)
    bias = cell.bias.detach()
    torch.testing.assert_close(bias[cell.input_rows], raw[cell.input_rows], rtol=0, atol=1e-15)
    assert bias[cell.input_rows].abs().max() > 0.1  # outside Table 10's [-0.1, 0.1]
    torch.testing.assert_close(text.cell.bias.detach()[cell.input_rows],
                               raw[cell.input_rows] * 0.5, rtol=0, atol=1e-15)
    torch.testing.assert_close(bias[cell.output_rows],
                               torch.tensor([-1.0, -2.0, -3.0], dtype=torch.float64),
                               rtol=0, atol=0)
    for mine, theirs in zip(read.parameters(), text.parameters(), strict=True):
        if mine is not cell.bias:
            torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    plain, changed = (canonical((experiment(n).setup, network_config(experiment(n).setup)))
                      for n in ("1", "1:text-bias-range"))
    assert "random_bias_like_weights" not in plain and "random_gate_bias=0.1" in plain
    assert "random_bias_like_weights=True" in changed and "random_gate_bias=None" in changed


@pytest.mark.parametrize(("name", "h", "g"), [("identity-h", IDENTITY, G2),
                                              ("caption-ranges", G2, H1)])
def test_2c_squash_readings_draw_the_texts_weights_and_send_y_out_times_their_h(name, h, g):
    """2c:identity-h and 2c:caption-ranges draw seed for seed the text's weights; at the first
    step (no recurrent input yet) the cell state is y^in g(net_c) with the reading's g and the
    cell sends y^out h(s_c) with its h, computed here from the weights by hand."""
    text, read = experiment("2c"), experiment(f"2c:{name}")
    assert (read.setup.h, read.setup.g) == (h, g)
    nets = [Network1997(network_config(e.setup), generator=torch.Generator().manual_seed(3),
                        dtype=torch.float64) for e in (text, read)]
    for a, b in zip(nets[0].weights().cell, nets[1].weights().cell, strict=True):
        if a is not None:
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    net = nets[1]
    x = read.make_task(0).sample(4, torch.Generator().manual_seed(1)).inputs[0].double()
    state, y, _ = net.step(x, net.initial_state(4, dtype=torch.float64))
    weight = net.cell.weight_ih.detach()  # (R, I): rows in, cells, out (cells._lstm1997)
    pre = x @ weight.mT
    cell = net.cell
    y_in = torch.sigmoid(pre[:, cell.input_rows])
    y_out = torch.sigmoid(pre[:, cell.output_rows])
    s = y_in * g.fn(pre[:, cell.cell_rows])
    torch.testing.assert_close(state.c, s)
    torch.testing.assert_close(state.h, y_out * h.fn(s))
    torch.testing.assert_close(y, torch.sigmoid(state.h @ net.weight_ho.detach().mT))


def _stopping_sets(name: str, checks: int, budget: int | None = None) -> list[torch.Tensor]:
    """The inputs (T, 256) of every stopping set seed 0 of ``name`` is judged on: by its trial's
    criterion ``checks`` times (a check that fails at its first batch, then ones that pass), or
    with ``budget``, in a whole lstm1997 run of that many sequences (a check every 100)."""
    from lstmlab.reproduce import _lstm1997
    from lstmlab.reproduce._trial_loop import Trial

    seen: list[torch.Tensor] = []
    if budget is None:
        trial = Trial(experiment(name), 0)
        for check in range(checks):
            def evaluate(batch, wrong=check == 0):
                seen.append(batch.inputs.clone())
                outputs = batch.targets.clone()
                return 1.0 - outputs if wrong else outputs

            assert trial.criterion.check(evaluate) is (check > 0)
        return seen
    evaluate = _lstm1997._evaluate

    def spy(template, weights, batch, kernel=False):
        if batch.batch_size == 256:  # a stopping set (the test set: batches of 1,000 and 560)
            seen.append(batch.inputs.clone())
        return evaluate(template, weights, batch, kernel)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_lstm1997, "_evaluate", spy)
        [result] = Lstm1997Method().run_trials(experiment(name), [0], budget, lambda n, e: None)
    assert not result.success and result.sequences == budget
    return seen


@pytest.mark.parametrize("variant", ["3a", "3b"])
def test_fixed_stopping_set_judges_every_check_on_the_set_of_the_first(variant):
    """3a:fixed-stopping-set / 3b:fixed-stopping-set: the 256 sequences of the first check,
    which are the text's reading's first set, come back at every later check, whether a check
    fails early or passes; the text's reading draws a new set each time."""
    fixed, fresh = (_stopping_sets(name, 3) for name in (f"{variant}:fixed-stopping-set",
                                                         variant))
    assert len(fixed) == len(fresh) == 3
    torch.testing.assert_close(fixed[0], fresh[0], rtol=0, atol=0)
    for later in fixed[1:]:
        torch.testing.assert_close(later, fixed[0], rtol=0, atol=0)
    assert all(not torch.equal(later[:100], fresh[0][:100]) for later in fresh[1:])


def test_fixed_stopping_set_is_the_set_of_every_check_of_a_whole_run():
    """Through the population runner (lstm1997, C checks): 3 checks in 300 sequences, one set."""
    fixed = _stopping_sets("3a:fixed-stopping-set", 3, budget=300)
    fresh = _stopping_sets("3a", 3, budget=300)
    assert len(fixed) == len(fresh) == 3
    torch.testing.assert_close(fixed[0], fresh[0], rtol=0, atol=0)
    assert all(torch.equal(later, fixed[0]) for later in fixed[1:])
    assert not any(torch.equal(later[:100], fresh[0][:100]) for later in fresh[1:])


def test_fixed_stopping_set_keeps_its_set_across_a_checkpoint():
    """A trial resumed from its checkpoint (torch.save, weights_only) judges on the set drawn
    before it was saved, though its criterion's generator has moved past those draws."""
    import io

    from lstmlab.reproduce._trial_loop import Trial

    read = experiment("3a:fixed-stopping-set")
    before = Trial(read, 0)
    [first] = before.task.stopping_batches(before.criterion.generator, 1000)
    saved = io.BytesIO()
    torch.save(before.state_dict(), saved)
    saved.seek(0)
    after = Trial(read, 0)
    after.load_state_dict(torch.load(saved, weights_only=True))
    [again] = after.task.stopping_batches(after.criterion.generator, 1000)
    torch.testing.assert_close(again.inputs, first.inputs, rtol=0, atol=0)
    assert torch.equal(again.labels, first.labels) and torch.equal(again.lengths, first.lengths)
    [moved] = Trial(experiment("3a"), 0).task.stopping_batches(after.criterion.generator, 1000)
    assert not torch.equal(moved.inputs[:100], first.inputs[:100])


def test_fixed_stopping_set_trains_and_tests_on_the_texts_sequences():
    """Only the stopping set changes: the training draws, the test set and the set-up are the
    text's; a plain task refuses a fixed set's state, the reading any task but 3a-3c's."""
    from lstmlab.reproduce._readings import reading

    plain, read = experiment("3b"), experiment("3b:fixed-stopping-set")
    assert read.setup == plain.setup
    a, b = plain.make_task(3), read.make_task(3)
    assert b.fixed_stopping_set and not a.fixed_stopping_set and a.state_dict() is None
    for draw in (lambda task: task.sample(4, torch.Generator().manual_seed(7)),
                 lambda task: next(task.test_batches(torch.Generator().manual_seed(7), 1000))):
        x, y = draw(a), draw(b)
        torch.testing.assert_close(y.inputs, x.inputs, rtol=0, atol=0)
        assert torch.equal(y.labels, x.labels) and torch.equal(y.targets, x.targets)
    b.stopping_batches(torch.Generator().manual_seed(1))
    with pytest.raises(ValueError, match="expected none for a task with fresh stopping sets"):
        a.load_state_dict(b.state_dict())
    with pytest.raises(ValueError, match="expected a TwoSequence, received Adding"):
        reading("3a", "fixed-stopping-set").task(experiment("4").make_task(0))
