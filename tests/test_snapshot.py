"""Snapshots without Qt: the update's summary and the light frames made while playing."""

import numpy as np

from bpviz.phases import describe_changes
from bpviz.settings import Settings
from bpviz.snapshot import LIGHT_LAYER_WEIGHTS, ChangeSummary, make_snapshot
from bpviz.step_table import csv_rows


def test_the_change_summary_finds_the_largest_change_and_the_mean_size():
    changes = [np.array([[0.5, -1.0], [0.25, 0.0]]), np.array([[-3.0], [2.0]]), np.array([[0.25]])]
    summary = ChangeSummary.of(changes)
    assert summary.largest == -3.0 and summary.largest_at == (1, 0, 0)
    assert summary.mean_abs == (0.5 + 1.0 + 0.25 + 0.0 + 3.0 + 2.0 + 0.25) / 7


def step_of(settings, steps=3):
    _, net, trainer = settings.build()
    for _ in range(steps):
        done = trainer.step()
    return net, done


def test_a_light_frame_leaves_out_only_the_large_layers_matrices_and_keeps_their_summaries():
    net, done = step_of(Settings(dataset="digits", hidden=(200, 12), mode="batch", batch_size=8))
    assert [w.size > LIGHT_LAYER_WEIGHTS for w in net.weights] == [True, False, False]  # 64×200, 200×12, 12×10
    whole = make_snapshot(net, done.record, 0, done)
    light = make_snapshot(net, done.record, 0, done, light=True)
    assert light.weight_grads[0] is None and light.weight_changes[0] is None
    for k in (1, 2):
        assert light.weight_grads[k] is done.record.weight_grads[k]
        assert light.weight_changes[k] is done.changes[k]
    assert all(g is not None for g in light.bias_grads + light.bias_changes)
    assert not light.is_preview and all(w is not None for w in light.weights)
    # The summaries are the whole matrices', light or not.
    assert light.weight_grad_norms == whole.weight_grad_norms
    np.testing.assert_allclose(whole.weight_grad_norms, [np.linalg.norm(g) for g in done.record.weight_grads],
                               rtol=1e-13)
    assert light.change_summary == whole.change_summary
    sizes = np.concatenate([np.abs(c).ravel() for c in done.changes[:3]])
    assert abs(whole.change_summary.largest) == sizes.max()
    k, i, j = whole.change_summary.largest_at
    assert done.changes[k][i, j] == whole.change_summary.largest
    np.testing.assert_allclose(whole.change_summary.mean_abs, sizes.mean(), rtol=1e-13)
    assert describe_changes(light) == describe_changes(whole) != "no update"
    # The step table leaves the cells a light frame does not have empty, and only those.
    for row, whole_row in zip(csv_rows(light), csv_rows(whole), strict=True):
        if row[:3] == ["weight", "W1", "0"]:
            assert row[11:] == ["", ""] and whole_row[11] != "" and row[:11] == whole_row[:11]
        else:
            assert row == whole_row


def test_a_small_network_light_frame_is_whole():
    net, done = step_of(Settings(dataset="digits", hidden=(32, 16)))
    light = make_snapshot(net, done.record, 0, done, light=True)
    assert all(g is not None for g in light.weight_grads + light.weight_changes)
    assert make_snapshot(net, done.record, 0).change_summary is None
