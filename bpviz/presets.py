"""The classic "backpropagation from scratch in NumPy" tutorials, as ready-made runs.

Each preset is a named, validated ``Settings`` plus a note for the lecturer. The
numbers in the descriptions were measured with this engine; ``min_test_accuracy`` is
what the test suite holds every classification preset to.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpviz.errors import BpvizError
from bpviz.settings import Settings


@dataclass(frozen=True)
class Preset:
    """A named run: ``settings`` (with ``preset`` set to ``name``), a menu ``title``
    and a ``description`` for the lecturer (which tutorial it replays, what to watch)."""

    name: str
    title: str
    description: str
    settings: Settings
    min_test_accuracy: float | None = None


def _preset(name: str, title: str, description: str, min_test_accuracy: float | None = None,
            **settings) -> Preset:
    return Preset(name, title, " ".join(description.split()), Settings(preset=name, **settings),
                  min_test_accuracy)


_ALL = (
    _preset(
        "toy-3-4-1", "The 'neural network in 11 lines' toy: 3-4-1, sigmoid, full batch",
        """Replays the classic 'a neural network in 11 lines of Python' tutorial: four
        3-bit rows whose target is the first bit, no biases, weights drawn as
        2*random-1 with seed 1, full-batch updates with the summed squared error and a
        learning rate of 1. After 5,000 updates the outputs are 0.9918, 0.9926, 0.0074,
        0.0061, exactly the published numbers, and the unseen row [1, 0, 0] gives 0.9962.
        Watch the third input: it is always 1, so its weights act as the missing bias.""",
        dataset="toy", hidden=(4,), activation="sigmoid", output_activation="sigmoid",
        loss="squared", reduction="sum", bias=False, init="uniform", init_scale=1.0,
        seed=1, optimizer="sgd", learning_rate=1.0, mode="full", epochs=5000, shuffle=False,
    ),
    _preset(
        "xor-2-2-1", "XOR with two hidden sigmoids, one sample at a time",
        """The textbook XOR network from the step-by-step backpropagation tutorials: two
        inputs, two hidden sigmoids, one sigmoid output, squared error, one update per
        sample (shuffled) with a learning rate of 0.5. With this seed it solves XOR: after
        2,000 epochs every output is within 0.1 of its target. Watch the loss sit on a
        plateau at 0.125 (every output near 0.5) for a few hundred epochs, then fall once
        one hidden unit has become a NOR detector (on only for 0,0) and the other an AND
        detector (on only for 1,1).""",
        min_test_accuracy=1.0,
        dataset="xor", hidden=(2,), activation="sigmoid", output_activation="sigmoid",
        loss="squared", init="uniform", init_scale=1.0, seed=1, optimizer="sgd",
        learning_rate=0.5, mode="sample", epochs=2000,
    ),
    _preset(
        "xor-2-2-2-1", "XOR through two hidden layers, full batch",
        """The deeper XOR from the 'two hidden layers' tutorials: 2-2-2-1 sigmoids,
        full-batch gradient descent on the summed squared error with a learning rate of
        0.1. It is slow on purpose: the deltas reaching the first layer are small (each
        sigmoid derivative is at most 0.25), so that layer learns last. With normal(0, 1)
        weights and this seed it solves XOR within 6,000 epochs (every output within 0.1
        of its target); other seeds can stall on a plateau for tens of thousands.""",
        min_test_accuracy=1.0,
        dataset="xor", hidden=(2, 2), activation="sigmoid", output_activation="sigmoid",
        loss="squared", reduction="sum", init="normal", init_scale=1.0, seed=12,
        optimizer="sgd", learning_rate=0.1, mode="full", epochs=6000,
    ),
    _preset(
        "iris-4-5-3", "Iris: 4-5-3, tanh hidden, softmax output, per-sample SGD",
        """Replays the well-known 'NumPy neural network on Iris' walkthrough: 4-5-3, tanh
        hidden layer, softmax output trained with squared error (through the full softmax
        Jacobian), weights uniform in ±0.01, one shuffled sample per update, learning rate
        0.05, 50 epochs. The published run reached 0.9333 train and 0.9667 test accuracy;
        this one reaches 0.9583 and 1.0. Watch setosa separate within the first epoch
        while versicolor and virginica take most of the run.""",
        min_test_accuracy=0.9,
        dataset="iris", hidden=(5,), activation="tanh", output_activation="softmax",
        loss="squared", init="uniform", init_scale=0.01, seed=3, optimizer="sgd",
        learning_rate=0.05, mode="sample", epochs=50,
    ),
    _preset(
        "digits-64-32-16-10", "Handwritten digits: 64-32-16-10 sigmoids, per-sample SGD",
        """The 'MLP from scratch on the 8x8 digits' tutorial: pixels min-max scaled to
        [0, 1], a 75/25 split, two sigmoid hidden layers, ten sigmoid outputs with squared
        error and plain per-sample SGD at a learning rate of 0.5, 25 epochs (a few seconds).
        It reaches about 0.98 test accuracy, passing 0.95 within the first ten epochs. One epoch
        is 1,346 single-sample updates; compare its noisy loss curve with digits-fast.""",
        min_test_accuracy=0.97,
        dataset="digits", hidden=(32, 16), activation="sigmoid", output_activation="sigmoid",
        loss="squared", init="xavier", init_scale=None, seed=0, data_seed=1, scaling="minmax",
        optimizer="sgd", learning_rate=0.5, mode="sample", epochs=25,
    ),
    _preset(
        "blobs-2-3-3", "Three blobs: 2-3-3, sigmoid hidden, softmax with cross-entropy",
        """The 'softmax classifier with one hidden layer' tutorial on three Gaussian blobs:
        three sigmoid hidden units, a softmax output trained with cross-entropy (so the
        output delta is simply a − t), per-sample SGD at 0.1 for 30 epochs; about 0.97
        test accuracy. Open the decision-boundary view: with three hidden units each one
        draws one of the lines that cut the plane between the blobs.""",
        min_test_accuracy=0.95,
        dataset="blobs", hidden=(3,), activation="sigmoid", output_activation="softmax",
        loss="cross_entropy", init="xavier", init_scale=None, seed=0, optimizer="sgd",
        learning_rate=0.1, mode="sample", epochs=30,
    ),
    _preset(
        "digits-fast", "Handwritten digits in a fraction of a second: mini-batch momentum",
        """The same digits and split as digits-64-32-16-10, trained the modern way: tanh
        hidden layers, softmax with cross-entropy, mini-batches of 32 with momentum 0.9
        at a learning rate of 0.05, 16 epochs. It passes 0.97 test accuracy in well under
        a second. Compare the loss curve with the per-sample run: fewer, smoother steps
        that each carry a whole batch's averaged gradient.""",
        min_test_accuracy=0.97,
        dataset="digits", hidden=(32, 16), activation="tanh", output_activation="softmax",
        loss="cross_entropy", init="xavier", init_scale=None, seed=0, data_seed=1,
        scaling="minmax", optimizer="momentum", momentum=0.9, learning_rate=0.05,
        mode="batch", batch_size=32, epochs=16,
    ),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in _ALL}


def preset_names() -> list[str]:
    """Every preset name, in menu order."""
    return list(PRESETS)


def get_preset(name: str) -> Preset:
    """The preset called ``name``; BpvizError naming the choices if there is none."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise BpvizError(f"unknown preset '{name}'; choose one of: {', '.join(PRESETS)}") from None
