"""The 1997 network: [H97] Table 10's weight counts, output timing, populations."""

import pytest
import torch
from torch.testing import assert_close

from lstmlab.training._network1997 import (
    Network1997,
    Network1997Config,
    population_weights,
)
from lstmlab.training._network1997_table10 import (
    EXPERIMENT_1_3X2,
    EXPERIMENT_1_4X1,
    EXPERIMENT_3,
    EXPERIMENT_4,
    EXPERIMENT_5,
    EXPERIMENT_6A,
    EXPERIMENT_6B,
    experiment_2ab,
    experiment_2c,
)
from lstmlab.training._pool import row, stack

F64 = torch.float64


@pytest.mark.parametrize(("config", "weights"), [
    (EXPERIMENT_1_4X1, 264),
    (EXPERIMENT_1_3X2, 276),
    (experiment_2ab(100), 10_504),
    (experiment_2c(50), 364),  # Table 3's column w for p = 50, 100, 200, 500, 1000
    (experiment_2c(100), 664),
    (experiment_2c(200), 1_264),
    (experiment_2c(500), 3_064),
    (experiment_2c(1000), 6_064),
    (EXPERIMENT_3, 102),
    (EXPERIMENT_4, 93),
    (EXPERIMENT_5, 93),
    (EXPERIMENT_6A, 156),
    (EXPERIMENT_6B, 308),
])
def test_weight_counts_of_table_10(config, weights):
    network = Network1997(config)
    assert network.num_weights == weights
    # The count is also what the parameters hold, less the masked-out cell biases.
    held = sum(p.numel() for p in network.parameters())
    absent = network.cell.num_units - int(network.cell.bias_mask.sum())
    assert held - (absent if network.cell.bias is not None else 0) == weights


def test_table_10_gate_biases_are_set_per_block():
    cell = Network1997(EXPERIMENT_3, generator=torch.Generator().manual_seed(0)).cell
    assert_close(cell.bias[cell.input_rows], torch.tensor([-1.0, -3.0, -5.0]), rtol=0, atol=0)
    assert_close(cell.bias[cell.output_rows], torch.tensor([-2.0, -4.0, -6.0]), rtol=0, atol=0)
    assert cell.bias[cell.cell_rows].abs().max() <= 0.1


def test_experiment_1_draws_weights_in_0_2_and_random_gate_biases_in_0_1():
    cell = Network1997(EXPERIMENT_1_4X1, generator=torch.Generator().manual_seed(0)).cell
    assert 0.15 < cell.weight_hh.abs().max() <= 0.2
    assert 0.05 < cell.bias[cell.input_rows].abs().max() <= 0.1
    assert_close(cell.bias[cell.output_rows], torch.tensor([-1.0, -2.0, -3.0, -4.0]),
                 rtol=0, atol=0)


def test_forward_is_cell_then_logistic_outputs_of_the_same_step():
    """§5's timing: y^k(t) reads y^c(t) (and x(t) for 2a's input-to-output weights)."""
    config = experiment_2ab(4)
    network = Network1997(config, generator=torch.Generator().manual_seed(1), dtype=F64)
    inputs = torch.randn(6, 3, 5, dtype=F64)
    outputs, final = network(inputs)
    state = network.cell.initial_state(3, dtype=F64)
    for t, x in enumerate(inputs):
        state, _ = network.cell(x, state)
        net_k = state.h @ network.weight_ho.T + x @ network.weight_io.T
        assert_close(outputs[t], torch.sigmoid(net_k), rtol=1e-13, atol=1e-13)
    assert_close(final.c, state.c, rtol=1e-13, atol=1e-13)


def test_output_bias_enters_the_outputs():
    network = Network1997(EXPERIMENT_4, generator=torch.Generator().manual_seed(2), dtype=F64)
    inputs = torch.randn(3, 2, 2, dtype=F64)
    outputs, final = network(inputs)
    net_k = final.h @ network.weight_ho.T + network.bias_o
    assert_close(outputs[-1], torch.sigmoid(net_k), rtol=1e-13, atol=1e-13)


def test_population_weights_match_separately_built_networks_and_run_together():
    network = Network1997(EXPERIMENT_6A, dtype=F64)
    seeds = (3, 4, 5)
    weights = population_weights(network, [torch.Generator().manual_seed(s) for s in seeds])
    inputs = torch.randn(7, 3, 2, 8, dtype=F64)  # (T, K, B, I)
    outputs, _ = network(inputs, weights=weights)
    for k, seed in enumerate(seeds):
        alone = Network1997(EXPERIMENT_6A, generator=torch.Generator().manual_seed(seed),
                            dtype=F64)
        for got, want in zip(row(weights, k)[1:], alone.weights()[1:], strict=True):
            assert_close(got, want, rtol=0, atol=0)
        expected, _ = alone(inputs[:, k])
        assert_close(outputs[:, k], expected, rtol=1e-12, atol=1e-12)


def test_stack_then_member_round_trips():
    networks = [Network1997(EXPERIMENT_1_4X1, generator=torch.Generator().manual_seed(s))
                for s in (0, 1)]
    stacked = stack([n.weights() for n in networks])
    assert stacked.weight_io is None and stacked.cell.weight_hh.shape == (2, 12, 12)
    got, want = row(stacked, 1), networks[1].weights()
    for a, b in zip((*got.cell, got.weight_ho), (*want.cell, want.weight_ho), strict=True):
        assert_close(a, b, rtol=0, atol=0)


def test_bad_inputs_raise_value_errors():
    network = Network1997(EXPERIMENT_4)
    with pytest.raises(ValueError, match="inputs"):
        network(torch.zeros(5, 2, 3))
    with pytest.raises(ValueError, match="output_size"):
        Network1997(Network1997Config(input_size=3, output_size=0, num_blocks=1))


def test_load_weights_puts_a_member_into_a_module():
    network = Network1997(EXPERIMENT_4, dtype=F64)
    weights = population_weights(network, [torch.Generator().manual_seed(s) for s in (7, 8)])
    network.load_weights(row(weights, 1))
    inputs = torch.randn(5, 3, 2, dtype=F64)
    expected, _ = network(inputs[:, None].expand(5, 2, 3, 2), weights=weights)
    received, _ = network(inputs)
    assert_close(received, expected[:, 1], rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="weight_ho"):
        network.load_weights(row(weights, 0)._replace(weight_ho=torch.zeros(2, 2)))
