"""The control panel: the lecturer's choice of dataset, network and training.

Every user change goes through ``Settings`` (and, for the batch size, the loaded
dataset) before it leaves the panel, so the window only ever receives valid
settings. Play, Step, Reset and the speed live in the main window's toolbar.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QFrame, QGroupBox, QHBoxLayout, QLabel, QPushButton,
                               QScrollArea, QVBoxLayout, QWidget)

from bpviz import datasets
from bpviz.app.widgets import (LogSlider, ParsedLineEdit, choice_combo, number_parser, select,
                               set_choices, whole_spin)
from bpviz.datasets import Dataset
from bpviz.engine.activations import ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.engine.losses import LOSSES
from bpviz.engine.network import DEFAULT_INIT_SCALE
from bpviz.engine.training import batch_size_for
from bpviz.errors import BpvizError
from bpviz.presets import get_preset, preset_names
from bpviz.settings import (CSV_DATASET, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_LEARNING_RATE,
                            MIN_LEARNING_RATE, Settings, parse_layers)

# Which loader options mean something for which dataset (see datasets.load):
# iris, xor and toy have fixed rows and splits; digits is real data without noise.
_FIXED_ROWS = frozenset({"iris", "xor", "toy"})
_NO_NOISE = frozenset({"digits"})
_MAX_SEED = 2**31 - 1  # QSpinBox holds a C int
_MESSAGE_STYLE = "color: #a00000; font-weight: bold;"
# The datasets the panel keeps for sizes and checks (one per split of a file): at most
# this many, and at most this many bytes (a 60,000-row MNIST CSV is 380 MB a split).
_MAX_LOADED = 16
_MAX_LOADED_BYTES = 512 * 2**20

_ACTIVATION_TIPS = {
    "sigmoid": "squashes any input into 0…1; its slope is at most ¼, so deep sigmoid nets learn slowly",
    "tanh": "squashes into −1…1 and is centred on 0; usually learns faster than sigmoid",
    "relu": "0 for negative input, the input itself otherwise; cheap, and its slope is 1 or 0",
    "leaky_relu": "like ReLU but with a small slope for negative input, so no node goes silent",
    "linear": "passes the weighted sum through unchanged; for regression outputs",
    "softmax": "turns the outputs into probabilities that add up to 1; for one class out of several",
}
_LOSS_LABELS = {"squared": "squared error", "cross_entropy": "cross-entropy",
                "binary_cross_entropy": "binary cross-entropy"}
_LOSS_TIPS = {
    "squared": "half the squared difference between output and target; works with any output",
    "cross_entropy": "−log of the probability given to the right class; goes with a softmax output",
    "binary_cross_entropy": "cross-entropy for yes/no outputs; goes with a sigmoid output",
}
_INIT_ROWS = {  # init -> (label of its scale, what the scale means)
    "uniform": ("Range ±r", "weights start uniformly between −r and +r"),
    "normal": ("Spread σ", "weights start from a normal distribution with this standard deviation"),
    "xavier": ("Gain", "multiplies Xavier/Glorot's range √(6 / (fan-in + fan-out))"),
    "he": ("Gain", "multiplies He's standard deviation √(2 / fan-in)"),
}


def _parse_hidden(text: str) -> tuple[int, ...]:
    """'8-8' -> (8, 8); empty text means no hidden layer at all."""
    if not text.strip():
        return ()
    sizes = parse_layers(text)
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise BpvizError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)}")
    return sizes


def _format_hidden(hidden: tuple[int, ...]) -> str:
    return "-".join(map(str, hidden))


class ControlPanel(QWidget):
    """Dataset, network and training controls.

    settings_changed(Settings): a validated change that needs a rebuild, once per
        user change. learning_rate_changed(float): a live change, no rebuild.
    """

    settings_changed = Signal(object)
    learning_rate_changed = Signal(float)

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings if settings is not None else Settings()
        self._dataset: Dataset | None = None
        self._loaded: dict[tuple, Dataset] = {}
        self._csv_source = None  # the last CSV file shown: its combo entry stays
        self._messages: dict[str, str] = {}
        # Controls that show one Settings field each, by field name.
        self._fields: dict[str, ParsedLineEdit] = {}
        self._choices: dict[str, QComboBox] = {}
        self._spins: dict[str, QAbstractSpinBox] = {}
        self._checks: dict[str, QCheckBox] = {}
        content = QWidget()
        column = QVBoxLayout(content)
        for title, build in (("Data", self._build_data), ("Network", self._build_network),
                             ("Training", self._build_training)):
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            # Big projector fonts in a narrow dock: put the field under its label.
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            build(form)
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.message_label = self._note_label()
        self.playing_label = self._note_label("Training is running: changes here rebuild the "
                                              "network and start again; the learning rate "
                                              "changes live.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.message_label)
        layout.addWidget(self.playing_label)
        self.set_settings(self._settings)

    # --- public API -------------------------------------------------------------------

    def settings(self) -> Settings:
        return self._settings

    def set_settings(self, settings: Settings, dataset: Dataset | None = None) -> None:
        """Show ``settings`` in every control (a preset, a session); emits nothing.
        ``dataset``: the settings' data, already loaded (a large CSV file is not read twice)."""
        if dataset is not None:
            self._loaded[self._data_key(settings)] = dataset
        self._settings = settings
        self._messages.clear()
        try:
            self._dataset = self._load(settings)
        except BpvizError as exc:
            self._dataset = None
            self._messages["dataset"] = str(exc)
        self._show(settings, force=True)
        self._show_messages()

    def show_playing(self, playing: bool) -> None:
        """Controls stay usable while training runs; say what a change will do."""
        self.playing_label.setVisible(playing)

    # --- building -----------------------------------------------------------------------

    @staticmethod
    def _note_label(text: str = "") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setContentsMargins(8, 4, 8, 4)
        label.setVisible(False)
        return label

    def _field(self, form: QFormLayout, label, key: str, parse, tooltip: str,
               **options) -> ParsedLineEdit:
        """A text field for settings field ``key``; only parsed values are applied."""
        field = ParsedLineEdit(parse, **options)
        field.setToolTip(tooltip)
        field.problem_changed.connect(lambda message: self._set_message(key, message))
        field.committed.connect(lambda value: self._apply(key, **{key: value}))
        self._fields[key] = field
        if label is not None:
            form.addRow(label, field)
        return field

    def _choice(self, form: QFormLayout, label: str, key: str, entries, tooltip: str,
                **also) -> QComboBox:
        """A combo for settings field ``key``; a choice also applies the changes ``also``."""
        combo = choice_combo(entries, tooltip)
        combo.activated.connect(lambda i: self._apply(key, **{key: combo.itemData(i)}, **also))
        self._choices[key] = combo
        form.addRow(label, combo)
        return combo

    def _spin(self, form: QFormLayout, label: str, key: str, spin: QAbstractSpinBox) -> QAbstractSpinBox:
        spin.valueChanged.connect(lambda value: self._apply(key, **{key: value}))
        self._spins[key] = spin
        form.addRow(label, spin)
        return spin

    def _check(self, form: QFormLayout, label: str, key: str, text: str, tooltip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setToolTip(tooltip)
        box.clicked.connect(lambda checked: self._apply(key, **{key: checked}))
        self._checks[key] = box
        form.addRow(label, box)
        return box

    def _build_data(self, form: QFormLayout) -> None:
        entries = [(name, f"dataset:{name}", datasets.describe(name)) for name in datasets.dataset_names()]
        entries.append(("", None, ""))
        for name in preset_names():
            preset = get_preset(name)
            entries.append((f"Preset: {name} — {preset.title}", f"preset:{name}", preset.description))
        self.dataset_combo = choice_combo(entries, "")
        self.dataset_combo.activated.connect(self._on_dataset_activated)
        form.addRow("Dataset", self.dataset_combo)
        self.description_label = QLabel()
        self.description_label.setWordWrap(True)
        self.description_label.setObjectName("description")  # coloured by the theme's style sheet
        form.addRow(self.description_label)
        self.samples_edit = self._field(
            form, "Samples", "n_samples",
            number_parser("the number of samples", whole=True, low=datasets.MIN_SAMPLES,
                          high=datasets.MAX_SAMPLES, optional=True),
            "How many points to generate (training and test together). Leave empty for the "
            "dataset's usual size.")
        self.noise_edit = self._field(
            form, "Noise", "noise",
            number_parser("the noise", low=0.0, high=datasets.MAX_NOISE, optional=True),
            "How much the generated points are jittered, 0 to 1 (0.1 means 10%). Noisy data "
            "shows a network that cannot fit every point. Empty: the dataset's default.")
        self.test_edit = self._field(
            form, "Test fraction", "test_fraction",
            number_parser("the test fraction", low=0.0, high=datasets.MAX_TEST_FRACTION, optional=True),
            "The share of the data kept back for testing, 0 to 0.9. The network never trains "
            "on it, so it shows how well the network generalises. Empty: the default.")
        self.data_seed_spin = self._spin(form, "Data seed", "data_seed", whole_spin(
            0, _MAX_SEED, "The random seed that generates and splits the data: the same seed "
            "always gives the same points."))
        self.scaling_combo = self._choice(
            form, "Scaling", "scaling",
            [("none", "none", "the inputs as they are"),
             ("min-max to 0…1", "minmax", "each input shifted and stretched to run from 0 to 1"),
             ("z-score", "zscore", "each input shifted to mean 0 and scaled to standard deviation 1")],
            "Rescale the inputs (using the training data only). Inputs of very different sizes "
            "make some weights learn much faster than others.")
        self.data_info_label = QLabel()
        self.data_info_label.setWordWrap(True)
        form.addRow(self.data_info_label)

    def _build_network(self, form: QFormLayout) -> None:
        self.layers_edit = self._field(
            form, None, "hidden", _parse_hidden,
            "The sizes of the hidden layers, e.g. 5, or 32-16 for two layers. Empty means no "
            "hidden layer (a single-layer perceptron). Press Enter to apply, Esc to undo.",
            format=_format_hidden)
        self.layers_edit.setPlaceholderText("none")
        self.remove_layer_button = QPushButton("−")
        self.remove_layer_button.setToolTip("Remove the last hidden layer")
        self.remove_layer_button.clicked.connect(lambda: self._set_layers(self._settings.hidden[:-1]))
        self.add_layer_button = QPushButton("+")
        self.add_layer_button.setToolTip("Add a hidden layer the size of the last one")
        self.add_layer_button.clicked.connect(
            lambda: self._set_layers((*self._settings.hidden, (self._settings.hidden or (4,))[-1])))
        row = QHBoxLayout()
        row.addWidget(self.layers_edit, 1)
        for button in (self.remove_layer_button, self.add_layer_button):
            button.setFixedWidth(button.fontMetrics().height() * 2)
            row.addWidget(button)
        form.addRow("Hidden layers", row)
        self.spec_label = QLabel()
        self.spec_label.setToolTip("The whole network, inputs – hidden layers – outputs; the input "
                                   "and output sizes come from the dataset.")
        self.spec_label.setStyleSheet("font-weight: bold;")
        form.addRow("Network", self.spec_label)

        def activations(names):
            return [(n.replace("_", " "), n, f"{ACTIVATIONS[n].formula}: {_ACTIVATION_TIPS[n]}")
                    for n in names]
        self.activation_combo = self._choice(
            form, "Activation", "activation", activations(HIDDEN_ACTIVATIONS),
            "The function every hidden node applies to its weighted sum")
        self.output_combo = choice_combo(
            activations(OUTPUT_ACTIVATIONS),
            "The function the output nodes apply; the loss list offers only losses that suit it")
        self.output_combo.activated.connect(self._on_output_activated)
        form.addRow("Output layer", self.output_combo)
        self.loss_combo = self._choice(
            form, "Loss", "loss", [], "How wrong the output is; backpropagation follows its "
            "slope. Only losses that suit the output activation are offered.")
        self.bias_check = self._check(form, "Bias", "bias", "use biases",
                                      "A bias is a weight from an input that is always 1; it lets "
                                      "a node shift its threshold")
        self.init_combo = self._choice(
            form, "Weight init", "init",
            [("uniform ±r", "uniform", _INIT_ROWS["uniform"][1]),
             ("normal σ", "normal", _INIT_ROWS["normal"][1]),
             ("Xavier", "xavier", "range scaled to the layer sizes; suits sigmoid and tanh"),
             ("He", "he", "spread scaled to the layer's inputs; suits ReLU")],
            "How the weights are chosen before training starts",
            init_scale=None)  # each init reads the scale differently: start from its default
        self.init_scale_label = QLabel()
        self.init_scale_edit = self._field(
            form, self.init_scale_label, "init_scale",
            number_parser("the init scale", low=0.0, low_open=True, optional=True), "")
        self.bias_init_edit = self._field(form, "Starting bias", "bias_init",
                                          number_parser("the starting bias"),
                                          "The value every bias starts from (usually 0)")
        self.seed_spin = self._spin(form, "Seed", "seed", whole_spin(
            0, _MAX_SEED, "The random seed for the starting weights and the sample order: the "
            "same seed gives the same run again"))

    def _build_training(self, form: QFormLayout) -> None:
        self.learning_rate_slider = LogSlider(MIN_LEARNING_RATE, MAX_LEARNING_RATE)
        self.learning_rate_slider.setToolTip(
            f"The learning rate η, on a log scale from {MIN_LEARNING_RATE:g} to {MAX_LEARNING_RATE:g}: "
            "how far each update moves the weights. Takes effect at once, without a restart.")
        self.learning_rate_slider.log_value_changed.connect(self._on_learning_rate_slid)
        self.learning_rate_edit = self._field(
            form, None, "learning_rate",
            number_parser("the learning rate", low=MIN_LEARNING_RATE, high=MAX_LEARNING_RATE),
            "Type a learning rate and press Enter; too large and the loss jumps about or "
            "explodes, too small and nothing seems to happen")
        form.addRow("Learning rate", self.learning_rate_edit)
        form.addRow(self.learning_rate_slider)
        self.optimizer_combo = self._choice(
            form, "Optimiser", "optimizer",
            [("plain SGD", "sgd", "w ← w − η·∂L/∂w"),
             ("momentum", "momentum", "v ← μ·v − η·∂L/∂w;  w ← w + v: keeps rolling in "
                                      "the direction it has been going"),
             ("Adam", "adam", "adapts the step size of every weight; try a learning "
                              "rate near 0.001")],
            "How the gradient is turned into a weight change")
        momentum = QDoubleSpinBox()
        momentum.setRange(0.0, 0.999)
        momentum.setDecimals(3)
        momentum.setSingleStep(0.05)
        momentum.setKeyboardTracking(False)
        momentum.setToolTip("Momentum μ (0 to below 1): how much of the last change is kept; "
                            "0.9 is usual. Only for the momentum optimiser.")
        self.momentum_spin = self._spin(form, "Momentum μ", "momentum", momentum)
        self.mode_combo = self._choice(
            form, "Mode", "mode",
            [("one sample at a time", "sample", "update after every single sample"),
             ("mini-batch", "batch", "update after each batch of the size below"),
             ("full batch", "full", "update once per epoch, after seeing every training sample")],
            "How many samples are seen before each weight update")
        self.batch_spin = self._spin(form, "Batch size", "batch_size",
                                     whole_spin(1, datasets.MAX_SAMPLES, ""))
        self.shuffle_check = self._check(
            form, "Shuffle", "shuffle", "every epoch",
            "Shuffle the training samples at the start of every epoch (a full batch always uses "
            "them all, so order does not matter)")
        self.reduction_combo = self._choice(
            form, "Batch loss", "reduction",
            [("mean", "mean", "divide the batch's loss by its size: the step does not "
                              "grow with the batch"),
             ("sum", "sum", "add up the losses of the batch, as the classic tutorials do")],
            "How the losses of the samples in one batch are combined")
        self.epochs_spin = whole_spin(0, MAX_EPOCHS, "Stop after this many passes over the "
                                      "training data; 0 means no limit", special="no limit")
        self.epochs_spin.valueChanged.connect(lambda value: self._apply("epochs", epochs=value or None))
        form.addRow("Epochs", self.epochs_spin)

    # --- user changes -------------------------------------------------------------------

    def _on_dataset_activated(self, index: int) -> None:
        kind, _, name = self.dataset_combo.itemData(index).partition(":")
        if kind == "dataset":
            self._apply("dataset", dataset=name)
            return
        if kind == CSV_DATASET:
            self._apply("dataset", csv_source=self._csv_source)
            return
        settings = replace(get_preset(name).settings, preset=name)
        try:
            self._load(settings)
        except BpvizError as exc:
            self._set_message("dataset", str(exc))
            self._show(self._settings)
            return
        self.set_settings(settings)
        self.settings_changed.emit(settings)

    def _set_layers(self, hidden: tuple[int, ...]) -> None:
        # A button press overrides whatever half-typed text the field holds.
        self.layers_edit.set_problem("")
        self._apply("hidden", hidden=hidden)

    def _on_learning_rate_slid(self, value: float) -> None:
        # The slider overrides whatever half-typed rate the field holds.
        self.learning_rate_edit.set_problem("")
        self._apply("learning_rate", learning_rate=value)

    def _on_output_activated(self, index: int) -> None:
        output = self.output_combo.itemData(index)
        loss = self._settings.loss
        if not LOSSES[loss].allows(output):
            loss = next((name for name, spec in LOSSES.items() if spec.canonical == output), "squared")
        self._apply("output_activation", output_activation=output, loss=loss)

    def _apply(self, source: str, **changes) -> bool:
        """Try a user change; emit the new settings, or show why not and keep the old."""
        old = self._settings
        try:
            new = old.with_(**changes)
            dataset = self._load(new)
            new, note = self._fit(new, dataset, batch_typed=source == "batch_size")
        except BpvizError as exc:
            if source in self._fields:
                self._fields[source].set_problem(str(exc))
            else:
                self._set_message(source, str(exc))
                self._show(old)
            return False
        # Messages about fields still being corrected stay; the others are answered.
        self._messages = {k: m for k, m in self._messages.items() if k in self._fields}
        if note:
            self._messages["note"] = note
        self._settings, self._dataset = new, dataset
        self._show(new)
        self._show_messages()
        if source == "learning_rate":
            self.learning_rate_changed.emit(new.learning_rate)
        elif new != old:
            self.settings_changed.emit(new)
        return True

    def _fit(self, settings: Settings, dataset: Dataset, batch_typed: bool) -> tuple[Settings, str]:
        """Adjust settings that no longer suit the dataset; a typed batch size is refused."""
        notes = []
        if settings.mode == "batch" and settings.batch_size > dataset.n_train:
            if batch_typed:
                batch_size_for(settings.mode, settings.batch_size, dataset.n_train)
            settings = settings.with_(batch_size=dataset.n_train)
            notes.append(f"The batch size is now {dataset.n_train}, the size of the training set.")
        if dataset.n_outputs == 1 and settings.output_activation == "softmax":
            loss = "binary_cross_entropy" if settings.loss == "cross_entropy" else settings.loss
            settings = settings.with_(output_activation="sigmoid", loss=loss)
            notes.append("A softmax over one output is always 1, so the output now uses sigmoid.")
        return settings, " ".join(notes)

    def _load(self, settings: Settings) -> Dataset:
        """The dataset as far as sizes go (unscaled), cached by its loader options."""
        key = self._data_key(settings)
        if key not in self._loaded:
            held = sum(d.X_train.nbytes + d.X_test.nbytes for d in self._loaded.values())
            if len(self._loaded) >= _MAX_LOADED or held > _MAX_LOADED_BYTES:
                self._loaded.clear()
            if settings.csv_source is not None:
                self._loaded[key] = settings.csv_source.load(test_fraction=settings.test_fraction,
                                                             seed=settings.data_seed)
                return self._loaded[key]
            self._loaded[key] = datasets.load(settings.dataset, seed=settings.data_seed,
                                              n_samples=settings.n_samples, noise=settings.noise,
                                              test_fraction=settings.test_fraction)
        return self._loaded[key]

    @staticmethod
    def _data_key(settings: Settings) -> tuple:
        return (settings.dataset, settings.csv_source, settings.data_seed, settings.n_samples,
                settings.noise, settings.test_fraction)

    def _show_csv_entry(self, source) -> None:
        """The user's file as an entry under the built-in datasets, "data: file.csv"."""
        self._csv_source = source
        index = self.dataset_combo.findData(f"{CSV_DATASET}:")
        label = f"data: {Path(source.path).name}"
        if index < 0:
            index = len(datasets.dataset_names())
            self.dataset_combo.insertItem(index, label, f"{CSV_DATASET}:")
        self.dataset_combo.setItemText(index, label)
        self.dataset_combo.setItemData(index, source.path, Qt.ItemDataRole.ToolTipRole)

    # --- showing ------------------------------------------------------------------------

    def _set_message(self, key: str, message: str) -> None:
        if message:
            self._messages[key] = message
        else:
            self._messages.pop(key, None)
        self._show_messages()

    def _show_messages(self) -> None:
        problems = [m for k, m in self._messages.items() if k != "note"]
        text = "\n".join(problems + ([self._messages["note"]] if "note" in self._messages else []))
        self.message_label.setText(text)
        self.message_label.setStyleSheet(_MESSAGE_STYLE if problems else "color: #004a9f;")
        self.message_label.setVisible(bool(text))

    def _show(self, s: Settings, force: bool = False) -> None:
        """Fill every control from ``s`` without signals. A text field the user is
        still correcting keeps its text (and its red mark) unless ``force``."""
        dataset = self._dataset
        preset = get_preset(s.preset) if s.preset in preset_names() else None
        if preset is not None and s != preset.settings:
            preset = None
        own = s.csv_source is not None
        if own:
            self._show_csv_entry(s.csv_source)
        select(self.dataset_combo, f"preset:{s.preset}" if preset else
               f"{CSV_DATASET}:" if own else f"dataset:{s.dataset}")
        if own:
            description = dataset.description if dataset is not None else s.csv_source.path
        else:
            description = preset.description if preset else datasets.describe(s.dataset)
        self.description_label.setText(description)
        self.dataset_combo.setToolTip(f"Choose a dataset or a ready-made preset. {description}")

        one_output = dataset is not None and dataset.n_outputs == 1
        self.output_combo.model().item(self.output_combo.findData("softmax")).setEnabled(not one_output)
        select(self.output_combo, s.output_activation)
        set_choices(self.loss_combo, [(_LOSS_LABELS[name], name, f"{loss.formula}: {_LOSS_TIPS[name]}")
                                      for name, loss in LOSSES.items() if loss.allows(s.output_activation)])
        for key, field in self._fields.items():
            if force or not field.problem():
                field.set_value(getattr(s, key))
        for key, combo in self._choices.items():
            select(combo, getattr(s, key))
        for key, spin in self._spins.items():
            with QSignalBlocker(spin):
                spin.setValue(getattr(s, key))
        with QSignalBlocker(self.epochs_spin):
            self.epochs_spin.setValue(s.epochs or 0)
        for key, box in self._checks.items():
            box.setChecked(getattr(s, key))
        self.learning_rate_slider.set_log_value(s.learning_rate)

        generated = s.dataset not in _FIXED_ROWS and not own
        split = generated or (own and s.csv_source.test_path is None)
        self.samples_edit.setEnabled(generated)
        for widget in (self.test_edit, self.data_seed_spin):
            widget.setEnabled(split)
        self.noise_edit.setEnabled(generated and s.dataset not in _NO_NOISE)
        self.noise_edit.setPlaceholderText("default")
        if dataset is not None:
            n = dataset.n_train + dataset.n_test
            self.samples_edit.setPlaceholderText(f"default ({n})" if s.n_samples is None else "default")
            self.test_edit.setPlaceholderText(f"default ({dataset.n_test / n:.2g})")
            self.data_info_label.setText(f"{dataset.n_train} training and {dataset.n_test} test "
                                         f"samples; {dataset.n_features} inputs, {dataset.n_outputs} outputs")
        else:
            self.data_info_label.setText("The dataset could not be loaded.")
        inputs, outputs = (dataset.n_features, dataset.n_outputs) if dataset else ("?", "?")
        self.spec_label.setText(" – ".join(map(str, (inputs, *s.hidden, outputs))))
        self.remove_layer_button.setEnabled(bool(s.hidden))
        self.add_layer_button.setEnabled(len(s.hidden) < MAX_HIDDEN_LAYERS)

        self.bias_init_edit.setEnabled(s.bias)
        label, meaning = _INIT_ROWS[s.init]
        self.init_scale_label.setText(label)
        self.init_scale_edit.setPlaceholderText(f"default ({DEFAULT_INIT_SCALE.get(s.init, 1.0):g})")
        self.init_scale_edit.setToolTip(f"The {label.lower()} of the starting weights: {meaning}. "
                                        "Empty: the usual default.")
        self.momentum_spin.setEnabled(s.optimizer == "momentum")
        self.batch_spin.setEnabled(s.mode == "batch")
        self.batch_spin.setToolTip("Samples per update in mini-batch mode, 1 to "
                                   f"{dataset.n_train if dataset else '?'} (the training set)")
        self.shuffle_check.setEnabled(s.mode != "full")
