"""Settings: one frozen, validated description of a training run.

The control panel, the presets, the command line and saved sessions all produce a
``Settings``; ``build()`` turns it into a dataset, a network and a trainer. Nothing
downstream ever sees raw text.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from bpviz import datasets
from bpviz.csv_data import CsvSource
from bpviz.datasets import Dataset
from bpviz.engine.activations import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from bpviz.engine.losses import LOSSES, REDUCTIONS, get_loss
from bpviz.engine.network import INITS, Network
from bpviz.engine.optimizers import OPTIMIZERS, check_learning_rate, make_optimizer
from bpviz.engine.training import MODES, Trainer, batch_size_for
from bpviz.errors import BpvizError, check_fields

MIN_LEARNING_RATE, MAX_LEARNING_RATE = 1e-5, 10.0
MAX_LAYER_SIZE = 1024
MAX_HIDDEN_LAYERS = 12
MAX_EPOCHS = 1_000_000
# ``dataset`` of a run on the user's own file; ``csv_source`` says which file and how.
CSV_DATASET = "csv"


def parse_layers(text: str) -> tuple[int, ...]:
    """Parse a layer spec such as ``"4-5-3"`` or ``"4, 5, 3"`` into sizes.

    Raises BpvizError with a message saying what is wrong (empty parts, zero, text).
    """
    if not isinstance(text, str) or not text.strip():
        raise BpvizError("the layer spec is empty; write sizes like 4-5-3")
    parts = re.split(r"\s*[-,x ]\s*", text.strip())
    sizes = []
    for part in parts:
        if part == "":
            raise BpvizError(f"the layer spec '{text}' has an empty layer; write sizes like 4-5-3")
        if not part.isdecimal():  # not isdigit: '²'.isdigit() is true, but int('²') fails
            raise BpvizError(f"'{part}' in the layer spec '{text}' is not a whole number")
        if len(part.lstrip("0")) > 9:  # int() refuses thousands of digits; all are too large anyway
            raise BpvizError(f"a layer of {part[:9]}… nodes is more than the {MAX_LAYER_SIZE} bpviz allows")
        size = int(part)
        if size < 1:
            raise BpvizError(f"every layer needs at least one node; '{text}' has a layer of {size}")
        if size > MAX_LAYER_SIZE:
            raise BpvizError(f"a layer of {size} nodes is more than the {MAX_LAYER_SIZE} bpviz allows")
        sizes.append(size)
    return tuple(sizes)


@dataclass(frozen=True)
class Settings:
    """Everything that defines a run. ``hidden`` holds only the hidden layer sizes:
    input and output sizes follow from the dataset.

    The user's own data: ``dataset`` is CSV_DATASET and ``csv_source`` names the file
    (scaling, test_fraction and data_seed apply to it; n_samples and noise do not).
    ``with_`` keeps the two consistent: giving a csv_source sets the dataset, and
    choosing a built-in dataset drops the csv_source."""

    dataset: str = "iris"
    hidden: tuple[int, ...] = (5,)
    activation: str = "tanh"
    output_activation: str = "softmax"
    loss: str = "squared"
    reduction: str = "mean"
    bias: bool = True
    init: str = "uniform"
    init_scale: float | None = 0.5
    bias_init: float = 0.0
    optimizer: str = "sgd"
    learning_rate: float = 0.05
    momentum: float = 0.9
    mode: str = "sample"
    batch_size: int = 32
    epochs: int | None = 50
    seed: int = 0
    data_seed: int = 0
    n_samples: int | None = None
    noise: float | None = None
    test_fraction: float | None = None
    scaling: str = "none"
    shuffle: bool = True
    preset: str | None = field(default=None, compare=False)
    csv_source: CsvSource | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise BpvizError naming the first setting that is out of range."""
        choices = {
            "activation": HIDDEN_ACTIVATIONS, "output_activation": OUTPUT_ACTIVATIONS,
            "loss": tuple(LOSSES), "reduction": REDUCTIONS, "init": INITS,
            "optimizer": OPTIMIZERS, "mode": MODES, "scaling": datasets.SCALINGS,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise BpvizError(f"unknown {name.replace('_', ' ')} '{getattr(self, name)}'; "
                                 f"choose one of: {', '.join(allowed)}")
        if self.csv_source is not None or self.dataset == CSV_DATASET:
            if not isinstance(self.csv_source, CsvSource) or self.dataset != CSV_DATASET:
                raise BpvizError(f"the dataset '{CSV_DATASET}' goes with a CSV source, and a CSV "
                                 f"source with the dataset '{CSV_DATASET}' (got dataset "
                                 f"'{self.dataset}', CSV source {self.csv_source!r})")
        elif self.dataset not in datasets.dataset_names():
            raise BpvizError(f"unknown dataset '{self.dataset}'; choose one of: "
                             f"{', '.join(datasets.dataset_names())}")
        get_loss(self.loss, self.output_activation)
        datasets.check_options(self.data_seed, self.n_samples, self.noise, self.test_fraction, self.scaling)
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise BpvizError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}")
        for size in self.hidden:
            if not isinstance(size, (int, np.integer)) or not 1 <= size <= MAX_LAYER_SIZE:
                raise BpvizError(f"hidden layer sizes must be whole numbers from 1 to {MAX_LAYER_SIZE}, got {size}")
        lr = check_learning_rate(self.learning_rate)
        if not MIN_LEARNING_RATE <= lr <= MAX_LEARNING_RATE:
            raise BpvizError(f"the learning rate must be between {MIN_LEARNING_RATE:g} and "
                             f"{MAX_LEARNING_RATE:g}, got {lr:g}")
        if not 0.0 <= self.momentum < 1.0:
            raise BpvizError(f"momentum must be at least 0 and below 1, got {self.momentum}")
        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise BpvizError(f"the batch size must be a whole number of at least 1, got {self.batch_size}")
        if self.epochs is not None and not (isinstance(self.epochs, (int, np.integer)) and 1 <= self.epochs <= MAX_EPOCHS):
            raise BpvizError(f"the epochs limit must be a whole number from 1 to {MAX_EPOCHS:,}, got {self.epochs}")
        if not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**32:
            raise BpvizError(f"the seed must be a whole number from 0 to {2**32 - 1}, got {self.seed}")
        if self.init_scale is not None and not (math.isfinite(self.init_scale) and self.init_scale > 0):
            raise BpvizError(f"the init scale must be a positive number, got {self.init_scale}")
        if not math.isfinite(self.bias_init):
            raise BpvizError(f"the bias init must be a finite number, got {self.bias_init}")

    def with_(self, **changes) -> Settings:
        """A copy with some fields changed (validated); drops the preset name."""
        if changes.get("csv_source") is not None:
            changes.setdefault("dataset", CSV_DATASET)
        elif changes.get("dataset", CSV_DATASET) != CSV_DATASET:
            changes.setdefault("csv_source", None)
        return replace(self, preset=changes.pop("preset", None), **changes)

    def for_dataset(self, dataset: Dataset) -> Settings:
        """These settings made to suit ``dataset``: a single output cannot use softmax
        (always 1), so regression gets a linear output (squared loss) and a single
        class column a sigmoid; a batch larger than the training set shrinks to it."""
        changes = {}
        if dataset.n_outputs == 1 and self.output_activation == "softmax":
            if dataset.is_classification:
                changes["output_activation"] = "sigmoid"
                if self.loss == "cross_entropy":
                    changes["loss"] = "binary_cross_entropy"
            else:
                changes.update(output_activation="linear", loss="squared")
        if self.mode == "batch" and self.batch_size > dataset.n_train:
            changes["batch_size"] = dataset.n_train
        return self.with_(**changes) if changes else self

    def data_options(self) -> tuple:
        """The fields that decide the loaded dataset: equal options, equal data."""
        return (self.dataset, self.csv_source, self.data_seed, self.n_samples, self.noise,
                self.test_fraction, self.scaling)

    def sizes(self, dataset: Dataset) -> tuple[int, ...]:
        return (dataset.n_features, *self.hidden, dataset.n_outputs)

    def layer_spec(self, dataset: Dataset) -> str:
        return "-".join(map(str, self.sizes(dataset)))

    def load_dataset(self) -> Dataset:
        if self.csv_source is not None:
            return self.csv_source.load(scaling=self.scaling, test_fraction=self.test_fraction,
                                        seed=self.data_seed)
        return datasets.load(self.dataset, seed=self.data_seed, n_samples=self.n_samples,
                             noise=self.noise, test_fraction=self.test_fraction, scaling=self.scaling)

    def build_network(self, dataset: Dataset) -> Network:
        return Network(self.sizes(dataset), self.activation, self.output_activation, self.loss,
                       bias=self.bias, init=self.init, init_scale=self.init_scale,
                       bias_init=self.bias_init, seed=self.seed, reduction=self.reduction)

    def build_optimizer(self):
        options = {"momentum": self.momentum} if self.optimizer == "momentum" else {}
        return make_optimizer(self.optimizer, self.learning_rate, **options)

    def build(self, dataset: Dataset | None = None) -> tuple[Dataset, Network, Trainer]:
        """The dataset (loaded unless given), a fresh network and its trainer."""
        dataset = dataset if dataset is not None else self.load_dataset()
        net = self.build_network(dataset)
        batch = batch_size_for(self.mode, self.batch_size, dataset.n_train)
        trainer = Trainer(net, dataset.X_train, dataset.T_train, self.build_optimizer(),
                          batch_size=batch, shuffle=self.shuffle, seed=self.seed)
        return dataset, net, trainer

    def to_dict(self) -> dict:
        """JSON-ready; ``csv_source`` appears only when set, so built-in runs read as before."""
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        if self.csv_source is None:
            del d["csv_source"]
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Settings:
        """Build from a dict (a saved session, JSON); unknown keys are an error."""
        check_fields(data, cls, "settings", "setting(s)")
        values = dict(data)
        if "hidden" in values:
            hidden = values["hidden"]
            if not isinstance(hidden, (list, tuple)) or not all(isinstance(h, int) and not isinstance(h, bool) for h in hidden):
                raise BpvizError("'hidden' must be a list of whole numbers")
            values["hidden"] = tuple(hidden)
        try:
            if values.get("csv_source") is not None:
                values["csv_source"] = CsvSource.from_dict(values["csv_source"])
            return cls(**values)
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            raise BpvizError(f"bad settings: {exc}") from None
