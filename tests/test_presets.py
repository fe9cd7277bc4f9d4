"""The tutorial presets: the toy network's published numbers, and every classifier
reaching the accuracy its preset promises."""

import numpy as np
import pytest

from bpviz.datasets import accuracy
from bpviz.errors import BpvizError
from bpviz.presets import PRESETS, Preset, get_preset, preset_names
from bpviz.settings import Settings

CLASSIFIERS = [name for name, p in PRESETS.items() if p.min_test_accuracy is not None]


def train(settings: Settings):
    dataset, net, trainer = settings.build()
    for _ in trainer.run(settings.epochs):
        pass
    return dataset, net


def test_toy_network_reproduces_the_published_numbers():
    preset = get_preset("toy-3-4-1")
    dataset, net, trainer = preset.settings.build()
    records = {}
    for step in trainer.run(preset.settings.epochs):
        if step.step - 1 in (0, 500, 4999):
            records[step.step - 1] = step.record
    assert trainer.step_count == 5000
    assert records[4999].outputs[:, 0] == pytest.approx(
        [0.99181271, 0.9926379, 0.00744159, 0.00613513], abs=1e-8)
    assert net.predict(np.array([[1.0, 0.0, 0.0]]))[0, 0] == pytest.approx(0.99619533, abs=1e-8)
    assert net.predict(dataset.X_test)[0, 0] == pytest.approx(0.99619533, abs=1e-8)

    def mean_abs_error(record):
        return float(np.abs(record.outputs - record.targets).mean())

    assert mean_abs_error(records[0]) == pytest.approx(0.4685343254580603, abs=1e-8)
    assert mean_abs_error(records[500]) == pytest.approx(0.027359665117498422, abs=1e-8)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_preset_reaches_its_promised_accuracy(name):
    preset = PRESETS[name]
    dataset, net = train(preset.settings)
    assert accuracy(net.predict(dataset.X_test), dataset.T_test) >= preset.min_test_accuracy


@pytest.mark.parametrize("name", ["xor-2-2-1", "xor-2-2-2-1"])
def test_xor_presets_really_solve_xor(name):
    dataset, net = train(PRESETS[name].settings)
    assert np.abs(net.predict(dataset.X_train) - dataset.T_train).max() < 0.1


def test_iris_preset_reaches_90_percent_for_most_seeds():
    settings = get_preset("iris-4-5-3").settings
    passed = 0
    for seed in range(10):
        dataset, net = train(settings.with_(seed=seed))
        passed += accuracy(net.predict(dataset.X_test), dataset.T_test) >= 0.9
    assert passed >= 8  # measured: all 10


def test_digits_fast_is_fast():
    import time

    settings = get_preset("digits-fast").settings
    dataset, net, trainer = settings.build()
    start = time.perf_counter()
    for _ in trainer.run(settings.epochs):
        pass
    # About 0.15 s here; the bound leaves room for a loaded CI machine.
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_validates_and_builds(name):
    preset = PRESETS[name]
    assert isinstance(preset, Preset) and preset.name == name
    assert preset.settings.preset == name
    assert Settings.from_dict(preset.settings.to_dict()) == preset.settings
    assert preset.settings.epochs is not None
    dataset, net, trainer = preset.settings.build()
    assert net.sizes == preset.settings.sizes(dataset)
    assert preset.title and 2 <= preset.description.count(". ") + 1 <= 5
    assert (preset.min_test_accuracy is None) == (not dataset.is_classification or name == "toy-3-4-1")


def test_preset_names_are_in_menu_order():
    assert preset_names() == list(PRESETS)
    assert preset_names()[0] == "toy-3-4-1"


def test_unknown_preset_names_the_choices():
    with pytest.raises(BpvizError, match=r"unknown preset 'x'; choose one of: toy-3-4-1, "):
        get_preset("x")


@pytest.mark.parametrize("option, value", [("noise", float("nan")), ("noise", 2.0), ("n_samples", 3),
                                           ("test_fraction", float("inf")), ("data_seed", -1)])
def test_settings_refuse_a_data_option_out_of_range_when_made_not_when_built(option, value):
    with pytest.raises(BpvizError, match=option.replace("data_", "")):
        Settings(**{option: value})
    with pytest.raises(BpvizError, match=option.replace("data_", "")):
        Settings.from_dict({option: value})
