"""The control panel, driven as a user would: typing, choosing, clicking."""

import math

import pytest
from PySide6.QtCore import QPoint, Qt

from bpviz.app.controls import ControlPanel
from bpviz.engine.activations import OUTPUT_ACTIVATIONS
from bpviz.engine.losses import LOSSES
from bpviz.presets import get_preset, preset_names
from bpviz.settings import Settings


class Recorder:
    """Collects what the panel emits."""

    def __init__(self, panel):
        self.settings, self.rates = [], []
        panel.settings_changed.connect(self.settings.append)
        panel.learning_rate_changed.connect(self.rates.append)


@pytest.fixture
def panel(qtbot):
    panel = ControlPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 900)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture
def emitted(panel):
    return Recorder(panel)


def choose(combo, key):
    """Pick the entry whose data is ``key``, as the user does (activated fires)."""
    index = combo.findData(key)
    assert index >= 0, f"{key!r} is not offered"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def type_into(qtbot, widget, text):
    """Replace the text of a line edit or spin box by typing, then press Enter."""
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def offered(combo):
    return [combo.itemData(i) for i in range(combo.count())]


def read_controls(panel) -> Settings:
    """Settings rebuilt from what every control shows (not from the panel's memory)."""
    def number(edit, kind=float):
        return None if not edit.text() else kind(edit.text())

    def data(combo):
        return combo.currentData()

    dataset_kind, _, dataset_name = data(panel.dataset_combo).partition(":")
    dataset = get_preset(dataset_name).settings.dataset if dataset_kind == "preset" else dataset_name
    text = panel.layers_edit.text()
    return Settings(
        dataset=dataset, hidden=tuple(int(s) for s in text.split("-")) if text else (),
        activation=data(panel.activation_combo), output_activation=data(panel.output_combo),
        loss=data(panel.loss_combo), reduction=data(panel.reduction_combo),
        bias=panel.bias_check.isChecked(), init=data(panel.init_combo),
        init_scale=number(panel.init_scale_edit), bias_init=float(panel.bias_init_edit.text()),
        optimizer=data(panel.optimizer_combo), learning_rate=float(panel.learning_rate_edit.text()),
        momentum=panel.momentum_spin.value(), mode=data(panel.mode_combo),
        batch_size=panel.batch_spin.value(), epochs=panel.epochs_spin.value() or None,
        seed=panel.seed_spin.value(), data_seed=panel.data_seed_spin.value(),
        n_samples=number(panel.samples_edit, int), noise=number(panel.noise_edit),
        test_fraction=number(panel.test_edit), scaling=data(panel.scaling_combo),
        shuffle=panel.shuffle_check.isChecked())


def test_starts_with_valid_default_settings(panel):
    assert panel.settings() == Settings()
    assert read_controls(panel) == Settings()
    assert panel.spec_label.text() == "4 – 5 – 3"
    assert not panel.message_label.isVisible()


def test_every_control_has_a_tooltip(panel):
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider
    kinds = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QSlider)
    controls = [w for kind in kinds for w in panel.findChildren(kind)
                if not isinstance(w.parent(), QAbstractSpinBox)]
    assert len(controls) > 20
    assert all(w.toolTip() for w in controls), [w for w in controls if not w.toolTip()]


@pytest.mark.parametrize("name", preset_names())
def test_choosing_a_preset_sets_every_control_and_emits_it_once(panel, emitted, name):
    preset = get_preset(name)
    choose(panel.dataset_combo, f"preset:{name}")
    assert len(emitted.settings) == 1
    assert emitted.settings[0] == preset.settings
    assert emitted.settings[0].preset == name
    assert panel.settings() == preset.settings
    assert read_controls(panel) == preset.settings
    assert panel.dataset_combo.currentData() == f"preset:{name}"
    assert panel.description_label.text() == preset.description
    assert emitted.rates == []


def test_presets_are_listed_after_the_datasets_with_descriptions(panel):
    keys = offered(panel.dataset_combo)
    datasets_end = max(i for i, k in enumerate(keys) if k and k.startswith("dataset:"))
    preset_indices = [i for i, k in enumerate(keys) if k and k.startswith("preset:")]
    assert len(preset_indices) == len(preset_names()) and min(preset_indices) > datasets_end
    for i in preset_indices:
        name = keys[i].partition(":")[2]
        assert panel.dataset_combo.itemData(i, Qt.ItemDataRole.ToolTipRole) == get_preset(name).description


@pytest.mark.parametrize("text, says", [
    ("4--3", "empty layer"),
    ("0", "at least one node"),
    ("abc", "'abc' is not a whole number"),
    ("2000", "more than the 1024"),
])
def test_bad_layer_text_is_flagged_and_not_applied(qtbot, panel, emitted, text, says):
    type_into(qtbot, panel.layers_edit, text)
    assert says in panel.message_label.text()
    assert panel.message_label.isVisible()
    assert panel.layers_edit.styleSheet()  # marked red
    assert emitted.settings == []
    assert panel.settings().hidden == (5,)
    assert panel.spec_label.text() == "4 – 5 – 3"


def test_layer_text_is_checked_while_typing_but_applied_only_on_enter(qtbot, panel, emitted):
    panel.layers_edit.selectAll()
    qtbot.keyClicks(panel.layers_edit, "8-")
    assert "empty layer" in panel.message_label.text()
    qtbot.keyClicks(panel.layers_edit, "8")
    assert not panel.message_label.isVisible() and not panel.layers_edit.styleSheet()
    assert emitted.settings == []
    qtbot.keyClick(panel.layers_edit, Qt.Key.Key_Return)
    assert [s.hidden for s in emitted.settings] == [(8, 8)]
    assert panel.spec_label.text() == "4 – 8 – 8 – 3"


def test_layer_text_is_applied_when_the_field_loses_focus(qtbot, panel, emitted):
    panel.activateWindow()
    panel.layers_edit.setFocus()
    panel.layers_edit.selectAll()
    qtbot.keyClicks(panel.layers_edit, "3-2")
    assert emitted.settings == []
    panel.seed_spin.setFocus()
    qtbot.waitUntil(lambda: len(emitted.settings) == 1, timeout=1000)
    assert emitted.settings[0].hidden == (3, 2)


def test_escape_puts_back_the_layers_in_use(qtbot, panel, emitted):
    panel.layers_edit.selectAll()
    qtbot.keyClicks(panel.layers_edit, "abc")
    qtbot.keyClick(panel.layers_edit, Qt.Key.Key_Escape)
    assert panel.layers_edit.text() == "5"
    assert not panel.message_label.isVisible()
    assert emitted.settings == []


def test_empty_layers_mean_no_hidden_layer_and_buttons_add_and_remove(qtbot, panel, emitted):
    qtbot.mouseClick(panel.add_layer_button, Qt.MouseButton.LeftButton)
    assert panel.settings().hidden == (5, 5) and panel.layers_edit.text() == "5-5"
    qtbot.mouseClick(panel.remove_layer_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.remove_layer_button, Qt.MouseButton.LeftButton)
    assert panel.settings().hidden == () and panel.spec_label.text() == "4 – 3"
    assert not panel.remove_layer_button.isEnabled()
    assert [s.hidden for s in emitted.settings] == [(5, 5), (5,), ()]
    type_into(qtbot, panel.layers_edit, "abc")
    qtbot.mouseClick(panel.add_layer_button, Qt.MouseButton.LeftButton)
    assert panel.layers_edit.text() == "4" and not panel.message_label.isVisible()


@pytest.mark.parametrize("output", OUTPUT_ACTIVATIONS)
def test_loss_list_offers_only_losses_that_suit_the_output(panel, emitted, output):
    choose(panel.output_combo, output)
    losses = offered(panel.loss_combo)
    assert losses == [name for name, loss in LOSSES.items() if loss.allows(output)]
    assert panel.settings().output_activation == output
    assert panel.settings().loss in losses
    assert ("cross_entropy" in losses) == (output == "softmax")
    assert ("binary_cross_entropy" in losses) == (output == "sigmoid")


def test_changing_the_output_keeps_a_matching_loss(panel, emitted):
    choose(panel.loss_combo, "cross_entropy")
    choose(panel.output_combo, "sigmoid")
    assert panel.settings().loss == "binary_cross_entropy"
    choose(panel.output_combo, "linear")
    assert panel.settings().loss == "squared"
    assert [(s.output_activation, s.loss) for s in emitted.settings] == [
        ("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy"), ("linear", "squared")]


def test_softmax_is_not_offered_for_a_single_output(panel, emitted):
    choose(panel.loss_combo, "cross_entropy")
    choose(panel.dataset_combo, "dataset:xor")
    assert (panel.settings().output_activation, panel.settings().loss) == ("sigmoid", "binary_cross_entropy")
    softmax = panel.output_combo.findData("softmax")
    assert not panel.output_combo.model().item(softmax).isEnabled()
    assert "sigmoid" in panel.message_label.text()
    assert len(emitted.settings) == 2


def test_slider_and_field_stay_in_sync_and_change_the_rate_live(qtbot, panel, emitted):
    slider, field = panel.learning_rate_slider, panel.learning_rate_edit
    slider.setValue(slider.maximum())
    assert float(field.text()) == 10.0 and emitted.rates == [10.0]
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    assert float(field.text()) == 1e-5 and emitted.rates[-1] == 1e-5
    type_into(qtbot, field, "0.3")
    assert emitted.rates[-1] == 0.3 and panel.settings().learning_rate == 0.3
    assert slider.value() == round((math.log10(0.3) + 5) * 100)
    assert emitted.settings == []


@pytest.mark.parametrize("text, says", [
    ("abc", "'abc' is not a number"),
    ("20", "at most 10, got 20"),
    ("0", "at least 1e-05"),
    ("", "the learning rate is empty"),
])
def test_bad_learning_rate_is_flagged_not_applied(qtbot, panel, emitted, text, says):
    position = panel.learning_rate_slider.value()
    type_into(qtbot, panel.learning_rate_edit, text)
    assert panel.message_label.isVisible() and says in panel.message_label.text()
    assert emitted.rates == [] and emitted.settings == []
    assert panel.learning_rate_slider.value() == position
    assert panel.settings().learning_rate == 0.05
    panel.learning_rate_slider.setValue(500)  # the slider overrides the bad text
    assert float(panel.learning_rate_edit.text()) == 1.0 and emitted.rates == [1.0]
    assert not panel.message_label.isVisible()


def test_batch_size_only_for_mini_batches_and_never_above_the_training_set(qtbot, panel, emitted):
    assert not panel.batch_spin.isEnabled()
    choose(panel.mode_combo, "batch")
    assert panel.batch_spin.isEnabled()
    type_into(qtbot, panel.batch_spin, "500")
    assert "between 1 and 120" in panel.message_label.text()
    assert panel.batch_spin.value() == 32 and panel.settings().batch_size == 32
    type_into(qtbot, panel.batch_spin, "16")
    assert not panel.message_label.isVisible()
    assert [(s.mode, s.batch_size) for s in emitted.settings] == [("batch", 32), ("batch", 16)]
    choose(panel.mode_combo, "full")
    assert not panel.batch_spin.isEnabled() and not panel.shuffle_check.isEnabled()


def test_a_smaller_dataset_lowers_the_batch_size_and_says_so(panel, emitted):
    choose(panel.mode_combo, "batch")
    choose(panel.dataset_combo, "dataset:xor")
    assert panel.settings().batch_size == 4
    assert "batch size is now 4" in panel.message_label.text()


def test_checkboxes_and_spin_boxes_apply_at_once(qtbot, panel, emitted):
    box = panel.bias_check
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert panel.settings().bias is False and not panel.bias_init_edit.isEnabled()
    type_into(qtbot, panel.epochs_spin, "0")
    assert panel.settings().epochs is None and panel.epochs_spin.text() == "no limit"
    qtbot.keyClick(panel.seed_spin, Qt.Key.Key_Up)
    assert panel.settings().seed == 1
    assert [len(emitted.settings), emitted.rates] == [3, []]


def test_dataset_options_apply_where_they_mean_something(qtbot, panel, emitted):
    assert not panel.noise_edit.isEnabled() and not panel.samples_edit.isEnabled()
    choose(panel.dataset_combo, "dataset:circle")
    assert panel.noise_edit.isEnabled()
    type_into(qtbot, panel.noise_edit, "2")
    assert "noise" in panel.message_label.text()
    type_into(qtbot, panel.noise_edit, "0.2")
    type_into(qtbot, panel.samples_edit, "60")
    type_into(qtbot, panel.test_edit, "0.25")
    choose(panel.scaling_combo, "zscore")
    s = panel.settings()
    assert (s.dataset, s.noise, s.n_samples, s.test_fraction) == ("circle", 0.2, 60, 0.25)
    assert s.scaling == "zscore"
    assert "45 training and 15 test" in panel.data_info_label.text()
    assert len(emitted.settings) == 5
    choose(panel.dataset_combo, "dataset:digits")
    assert not panel.noise_edit.isEnabled() and panel.samples_edit.isEnabled()


def test_init_scale_row_follows_the_init_and_empty_means_default(qtbot, panel, emitted):
    choose(panel.init_combo, "normal")
    assert panel.init_scale_label.text() == "Spread σ"
    assert panel.init_scale_edit.text() == "" and panel.init_scale_edit.placeholderText() == "default (0.1)"
    type_into(qtbot, panel.init_scale_edit, "0.2")
    type_into(qtbot, panel.init_scale_edit, "")
    type_into(qtbot, panel.init_scale_edit, "-1")
    assert "above 0" in panel.message_label.text()
    assert [(s.init, s.init_scale) for s in emitted.settings] == [
        ("normal", None), ("normal", 0.2), ("normal", None)]


def test_optimiser_choice_and_momentum(qtbot, panel, emitted):
    assert not panel.momentum_spin.isEnabled()
    choose(panel.optimizer_combo, "momentum")
    assert panel.momentum_spin.isEnabled()
    type_into(qtbot, panel.momentum_spin, "0.5")
    assert (panel.settings().optimizer, panel.settings().momentum) == ("momentum", 0.5)
    assert len(emitted.settings) == 2


@pytest.mark.parametrize("settings", [
    Settings(),
    Settings(dataset="spiral", hidden=(16, 8, 4), activation="relu", output_activation="sigmoid",
             loss="binary_cross_entropy", reduction="sum", bias=False, init="he", init_scale=None,
             bias_init=0.25, optimizer="adam", learning_rate=0.0031, momentum=0.75, mode="batch",
             batch_size=10, epochs=None, seed=12345, data_seed=9, n_samples=300, noise=0.15,
             test_fraction=0.3, scaling="minmax", shuffle=False),
    Settings(dataset="sine", hidden=(), output_activation="linear", init="normal", init_scale=0.01,
             learning_rate=1e-5, mode="full", epochs=1_000_000),
], ids=["default", "everything-changed", "perceptron"])
def test_set_settings_round_trips_and_emits_nothing(qtbot, panel, emitted, settings):
    panel.set_settings(settings)
    assert panel.settings() == settings
    assert read_controls(panel) == settings
    assert emitted.settings == [] and emitted.rates == []
    assert not panel.message_label.isVisible()


def test_set_settings_with_each_preset_round_trips(panel, emitted):
    for name in preset_names():
        preset = get_preset(name)
        panel.set_settings(preset.settings)
        assert read_controls(panel) == preset.settings
        assert panel.settings().preset == preset.settings.preset
    assert emitted.settings == []


def test_a_change_after_a_preset_leaves_the_preset(qtbot, panel, emitted):
    name = preset_names()[0]
    choose(panel.dataset_combo, f"preset:{name}")
    qtbot.keyClick(panel.seed_spin, Qt.Key.Key_Up)
    assert emitted.settings[-1].preset is None
    assert panel.dataset_combo.currentData() == f"dataset:{get_preset(name).settings.dataset}"


def test_playing_hint(panel):
    panel.show_playing(True)
    assert panel.playing_label.isVisible() and panel.layers_edit.isEnabled()
    panel.show_playing(False)
    assert not panel.playing_label.isVisible()


@pytest.mark.parametrize("limit, kept", [(512 * 2**20, 3), (0, 1)])
def test_the_panel_keeps_few_loaded_datasets_by_count_and_bytes(qtbot, panel, emitted, monkeypatch, limit, kept):
    from bpviz.app import controls

    monkeypatch.setattr(controls, "_MAX_LOADED_BYTES", limit)
    choose(panel.dataset_combo, "dataset:circle")
    panel._loaded.clear()
    for _ in range(3):  # each data seed is another split: another dataset
        qtbot.keyClick(panel.data_seed_spin, Qt.Key.Key_Up)
    assert [s.data_seed for s in emitted.settings[-3:]] == [1, 2, 3]
    assert len(panel._loaded) == kept
