"""Readings of [H97] as `EXPERIMENT:READING`: each changes only what it says, gets its own key."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from lstmlab.cells.lstm1997 import IDENTITY, LOGISTIC
from lstmlab.reproduce.lstm1997 import Lstm1997Method, network_config
from lstmlab.reproduce.readings import READINGS
from lstmlab.reproduce.registry import experiment
from lstmlab.reproduce.runner import trial_config_hash
from lstmlab.tasks.setup import BiasedUnits, Setup1997, g2, weight_count
from lstmlab.training.network1997 import Network1997


def _changed(a: Setup1997, b: Setup1997) -> set[str]:
    return {f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)}


@pytest.mark.parametrize(("name", "fields"), [
    ("4:linear-output", {"output_unit"}),
    ("2a:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
    ("2a:centred-g", {"g"}),
    ("2b:input-gate-bias", {"biased", "input_gate_bias", "weights"}),
])
def test_a_reading_changes_only_its_fields_and_the_store_key(name, fields):
    base, read = experiment(name.split(":")[0]), experiment(name)
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
    assert experiment("2a:centred-g").setup.g is g2
    assert experiment("2b:input-gate-bias").setup == dataclasses.replace(
        bias, experiment="2b")


def test_every_reading_quotes_what_it_rests_on():
    for readings in READINGS.values():
        for reading in readings.values():
            assert "[H97]" in reading.rests_on and reading.change


def test_unknown_readings_and_output_units_are_refused_naming_the_choices():
    with pytest.raises(ValueError, match=r"expected a reading among \(4:linear-output\)"):
        experiment("4:tanh-output")
    with pytest.raises(ValueError, match="expected a reading among \\(none\\)"):
        experiment("6a:anything")
    with pytest.raises(ValueError, match="output_unit: expected one of logistic, linear"):
        dataclasses.replace(experiment("4").setup, output_unit="tanh")
