"""The inspector's equations: every number, parsed back from the text at 10
decimals, is the engine's (z, a, δ, ∂L/∂w, the new weight), and the terms shown
multiply and add up to the result. No Qt."""

import re

import numpy as np
import pytest

from bpviz import step_table
from bpviz.engine.network import Network
from bpviz.engine.optimizers import make_optimizer
from bpviz.engine.training import Trainer
from bpviz.equations import (
    PAUSED_MESSAGE, Equation, RunInfo, edge_panel, node_panel, number,
)
from bpviz.snapshot import make_snapshot

P = 10
TOL = 0.5e-10 + 1e-15  # half a unit in the 10th decimal
NUMBER = re.compile(r"[−-]?\d+\.\d+")


def numbers(text: str) -> list[float]:
    return [float(m.replace("−", "-")) for m in NUMBER.findall(text)]


def result(eq: Equation) -> float:
    return numbers(eq.forms[-1])[-1]


def close(shown: float, exact: float) -> bool:
    return abs(shown - exact) <= TOL * max(1.0, abs(exact))


def step_snapshot(sizes=(3, 4, 2), hidden="sigmoid", out="sigmoid", loss="squared", optimizer="sgd",
                  batch_size=1, reduction="mean", seed=0, steps=1, keep_before=True, lr=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(8, sizes[0]))
    T = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 8)]
    net = Network(sizes, hidden, out, loss, init="uniform", init_scale=1.0, bias_init=0.1,
                  seed=seed, reduction=reduction)
    trainer = Trainer(net, X, T, make_optimizer(optimizer, lr), batch_size=batch_size, seed=seed)
    for _ in range(steps):
        before = net.get_params()
        st = trainer.step()
    snap = make_snapshot(net, st.record, int(st.sample_indices[0]), st, before if keep_before else None,
                         step=trainer.step_count, epoch=trainer.epoch, batch_index=trainer.batch_index,
                         n_batches=trainer.n_batches)
    info = RunInfo(loss, reduction, optimizer, lr, 0.9, batch_size, len(X))
    return snap, info


CASES = [
    ("sigmoid", "sigmoid", "squared"),
    ("tanh", "tanh", "squared"),
    ("relu", "relu", "squared"),
    ("leaky_relu", "linear", "squared"),
    ("tanh", "softmax", "squared"),
    ("relu", "softmax", "cross_entropy"),
    ("sigmoid", "sigmoid", "binary_cross_entropy"),
]


@pytest.mark.parametrize("hidden,out,loss", CASES)
def test_node_equations_match_the_engine(hidden, out, loss):
    snap, info = step_snapshot(hidden=hidden, out=out, loss=loss, steps=3)
    W, b = snap.forward_params
    for k in range(1, snap.n_layers):
        for j in range(snap.sizes[k]):
            panel = node_panel(snap, info, k, j, P)
            z, a, d = (snap.pre_activations[k - 1][j], snap.activations[k][j], snap.deltas[k - 1][j])
            eq_z = panel.equation("z")
            assert close(result(eq_z), z)
            terms = numbers(eq_z.forms[1])
            expected = [x for m in range(snap.sizes[k - 1])
                        for x in (W[k - 1][m, j], snap.activations[k - 1][m])] + [b[k - 1][j]]
            assert len(terms) == len(expected)
            assert all(close(s, e) for s, e in zip(terms, expected))
            pairs = np.array(terms[:-1]).reshape(-1, 2)
            assert abs(pairs.prod(axis=1).sum() + terms[-1] - z) < 1e-8
            assert close(result(panel.equation("a")), a)
            eq_d = panel.equation("δ")
            assert close(result(eq_d), d)
            if k < snap.n_layers - 1:
                fprime = result(panel.equation("f′(z)"))
                s = result(panel.equation("Σₖ wⱼₖ·δₖ"))
                assert abs(fprime * s - d) < 1e-9
                shown = np.array(numbers(panel.equation("Σₖ wⱼₖ·δₖ").forms[0])).reshape(-1, 2)
                np.testing.assert_allclose(shown[:, 0], W[k][j], atol=TOL)
                np.testing.assert_allclose(shown[:, 1], snap.deltas[k], atol=TOL)
            elif loss != "squared":
                a_shown, t_shown = numbers(eq_d.forms[1])
                assert close(a_shown, a) and close(t_shown, snap.target[j])
                assert abs(a_shown - t_shown - d) < 1e-9
            elif out == "softmax":
                aj, diff, s = numbers(eq_d.forms[2])
                assert abs(aj * (diff - s) - d) < 1e-9
            g = result(panel.equation("∂L/∂b"))
            assert close(g, snap.bias_grads[k - 1][j])
            assert close(g, d)  # one sample: ∂L/∂b = δ
            new_b = panel.equation("new b")
            old, eta, grad, new = numbers(new_b.text().split("=", 2)[2])
            assert close(old, b[k - 1][j]) and eta == info.learning_rate and close(grad, g)
            assert close(new, snap.biases[k - 1][j])


@pytest.mark.parametrize("hidden,out,loss", CASES)
def test_edge_equations_match_the_engine(hidden, out, loss):
    snap, info = step_snapshot(hidden=hidden, out=out, loss=loss, steps=2)
    for k in range(len(snap.weights)):
        for i in range(snap.sizes[k]):
            for j in range(snap.sizes[k + 1]):
                panel = edge_panel(snap, info, k, i, j, P)
                grad = panel.equation("∂L/∂w")
                a, d = numbers(grad.forms[1])
                assert close(a, snap.activations[k][i]) and close(d, snap.deltas[k][j])
                assert close(result(grad), snap.weight_grads[k][i, j])
                assert abs(a * d - result(grad)) < 1e-9
                old, eta, g, new = numbers(panel.equation("new w").forms[1] + " " +
                                           panel.equation("new w").forms[2])
                assert close(old, snap.weights_before[k][i, j]) and eta == info.learning_rate
                assert close(g, snap.weight_grads[k][i, j])
                assert close(new, snap.weights[k][i, j])
                assert abs(old - eta * g - new) < 1e-9


def test_hidden_delta_is_the_chain_rule_over_the_next_layer():
    snap, info = step_snapshot(sizes=(2, 3, 3, 2), hidden="tanh", out="sigmoid")
    panel = node_panel(snap, info, 1, 2, P)
    text = panel.text()
    assert "δ = f′(z)·Σₖ wⱼₖ·δₖ" in text
    assert "(1 − a²)" in text
    assert "over the 3 nodes of layer 2" in text


def test_output_delta_forms():
    snap, info = step_snapshot(out="sigmoid", loss="squared")
    assert "(a − t)·a·(1 − a)" in node_panel(snap, info, 2, 0).text()
    snap, info = step_snapshot(out="softmax", loss="cross_entropy")
    text = node_panel(snap, info, 2, 0).text()
    assert "a − t" in text and "cancels" in text
    snap, info = step_snapshot(out="softmax", loss="squared")
    assert "∂aₖ/∂zⱼ = aₖ·([k = j] − aⱼ)" in node_panel(snap, info, 2, 1).text()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_other_optimisers_show_their_rule_and_the_change(optimizer):
    snap, info = step_snapshot(optimizer=optimizer, steps=3, lr=0.05)
    panel = edge_panel(snap, info, 0, 1, 2, P)
    text = panel.text()
    assert make_optimizer(optimizer, 0.1).rule.split(";")[0] in text
    assert close(result(panel.equation("Δw")), snap.weight_changes[0][1, 2])
    old, change, new = numbers(panel.equation("new w").forms[1]) + [result(panel.equation("new w"))]
    assert close(old, snap.weights_before[0][1, 2]) and close(change, snap.weight_changes[0][1, 2])
    assert close(new, snap.weights[0][1, 2])


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_batch_gradient_is_the_batch_sum_and_says_so(reduction):
    snap, info = step_snapshot(batch_size=4, reduction=reduction)
    panel = edge_panel(snap, info, 1, 0, 1, P)
    grad = panel.equation("∂L/∂w")
    assert close(result(grad), snap.weight_grads[1][0, 1])
    assert ("(1/4)·Σₙ" in grad.text()) == (reduction == "mean")
    assert "batch of 4" in panel.text()
    own = panel.equation("this sample's aᵢ·δⱼ")
    assert close(result(own), snap.activations[1][0] * snap.deltas[1][1])
    bias = node_panel(snap, info, 2, 1, P).equation("∂L/∂b")
    assert close(result(bias), snap.bias_grads[1][1])


def test_the_last_short_batch_of_an_epoch():
    snap, info = step_snapshot(batch_size=3, steps=3)  # 8 samples: batches of 3, 3, 2
    assert "batch of 2" in edge_panel(snap, info, 0, 0, 0).text()


def test_while_playing_there_are_no_wrong_numbers():
    snap, info = step_snapshot(keep_before=False)
    assert snap.forward_params is None
    for panel in (node_panel(snap, info, 1, 0), edge_panel(snap, info, 0, 0, 0)):
        assert PAUSED_MESSAGE in panel.text()
        assert not numbers(panel.text())
    # input values need no pass
    assert close(numbers(node_panel(snap, info, 0, 1, P).text())[-1], snap.activations[0][1])


def test_a_preview_shows_this_samples_gradient_and_no_update():
    rng = np.random.default_rng(1)
    net = Network((2, 3, 1), "sigmoid", "sigmoid", "squared", seed=1)
    X, T = rng.normal(size=(1, 2)), np.array([[1.0]])
    snap = make_snapshot(net, net.backprop(X, T), 0)
    info = RunInfo()
    panel = edge_panel(snap, info, 0, 1, 2, P)
    eq = panel.equation("∂ℓ/∂w")
    assert close(result(eq), snap.activations[0][1] * snap.deltas[0][2])
    assert "next step" in panel.text() and "new w" not in panel.text()
    assert close(result(node_panel(snap, info, 1, 2, P).equation("z")), snap.pre_activations[0][2])


def test_big_fan_in_shows_the_first_terms_and_a_count():
    snap, info = step_snapshot(sizes=(30, 3, 2))
    eq = node_panel(snap, info, 1, 0, 4).equation("z")
    assert "… (24 more)" in eq.text()
    assert close(result(node_panel(snap, info, 1, 0, P).equation("z")), snap.pre_activations[0][0])


@pytest.mark.parametrize("precision", range(2, 11))
def test_every_number_has_the_chosen_decimals(precision):
    snap, info = step_snapshot(hidden="tanh", out="softmax", loss="cross_entropy")
    text = node_panel(snap, info, 1, 1, precision).text() + edge_panel(snap, info, 1, 2, 0, precision).text()
    found = NUMBER.findall(text.replace("η = 0.5", ""))
    assert found
    decimals = {len(x.split(".")[1]) for x in found} - {1}  # η = 0.5 is a setting, shown exact
    assert decimals == {precision}


def test_number_format():
    assert number(-0.25, 2) == "−0.25"
    assert number(-0.0001, 2) == "0.00"
    assert number(float("nan"), 3) == "NaN"


def test_csv_and_latex_hold_the_snapshot():
    snap, info = step_snapshot(steps=2)
    rows = step_table.parse_csv(step_table.to_csv(snap))
    np.testing.assert_array_equal(step_table.column(rows, "node", "a"),
                                  np.concatenate(snap.activations))
    nodes = [r for r in rows if r["kind"] == "node" and r["layer"] != "0"]
    np.testing.assert_array_equal([float(r["delta"]) for r in nodes], np.concatenate(snap.deltas))
    np.testing.assert_array_equal([float(r["z"]) for r in nodes], np.concatenate(snap.pre_activations))
    for name, key, arrays in (("value", "weight", snap.weights), ("grad", "weight", snap.weight_grads),
                              ("change", "weight", snap.weight_changes),
                              ("value_before", "weight", snap.weights_before),
                              ("value", "bias", snap.biases), ("grad", "bias", snap.bias_grads)):
        np.testing.assert_array_equal(step_table.column(rows, key, name),
                                      np.concatenate([a.ravel() for a in arrays]))
    tex = step_table.to_latex(snap, precision=6)
    assert tex.count("\\begin{tabular}") == 2
    w = snap.weights[1][2, 0]
    assert f"$w^{{(2)}}_{{20}}$ & ${w:.6f}$".replace("$-", "$-") in tex
    node = step_table.to_latex(snap, step_table.Scope("node", 2, 1), 3)
    assert node.count("$w^{(2)}") == snap.sizes[1] and "$b^{(2)}_{1}$" in node
