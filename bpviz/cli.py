"""The command line: the window by default; ``train``, ``gradcheck``, ``presets``, ``datasets``.

Exit codes: 0 success, 1 a gradient check failed, 2 bad input (one line on stderr,
never a traceback), 3 training diverged.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import time
from collections.abc import Sequence

import numpy as np

from bpviz import __version__, datasets, logs
from bpviz.allocator import reuse_freed_memory
from bpviz.csv_data import CsvSource, read_table
from bpviz.datasets import Dataset
from bpviz.engine.gradcheck import gradcheck
from bpviz.engine.training import LossMonitor
from bpviz.errors import BpvizError, DivergenceError
from bpviz.presets import PRESETS, get_preset
from bpviz.settings import Settings, parse_layers

log = logging.getLogger("bpviz.cli")

EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE, EXIT_DIVERGED = 0, 1, 2, 3
GRADCHECK_THRESHOLD = 1e-6

# Command-line option -> Settings field, for the options that map one to one.
_FIELDS = {
    "dataset": "dataset", "activation": "activation", "output": "output_activation",
    "loss": "loss", "reduction": "reduction", "lr": "learning_rate", "momentum": "momentum",
    "epochs": "epochs", "mode": "mode", "optimizer": "optimizer", "init": "init",
    "init_scale": "init_scale", "seed": "seed", "data_seed": "data_seed", "scaling": "scaling",
    "test_fraction": "test_fraction",
}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2."""

    def error(self, message: str):
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _common_options() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: a flag given before the subcommand must survive the subparser's defaults.
    common.add_argument("--verbose", "-v", action="store_true", default=argparse.SUPPRESS,
                        help="log debugging details")
    return common


def _network_options() -> argparse.ArgumentParser:
    net = _Parser(add_help=False)
    S = argparse.SUPPRESS  # only options actually given override the preset
    group = net.add_argument_group("network and training (override the preset's)")
    group.add_argument("--preset", default=S, help="start from a preset (see 'bpviz presets')")
    group.add_argument("--dataset", default=S, help="dataset name (see 'bpviz datasets')")
    group.add_argument("--layers", default=S, metavar="SPEC",
                       help="all layer sizes, input and output included, e.g. 4-5-3")
    group.add_argument("--activation", default=S, help="hidden activation: sigmoid, tanh, relu, ...")
    group.add_argument("--output", default=S, help="output activation: sigmoid, softmax, linear, ...")
    group.add_argument("--loss", default=S, help="squared, cross_entropy or binary_cross_entropy")
    group.add_argument("--reduction", default=S, help="mean or sum of the per-sample losses")
    group.add_argument("--lr", type=float, default=S, metavar="RATE", help="learning rate")
    group.add_argument("--optimizer", default=S, help="sgd, momentum or adam")
    group.add_argument("--momentum", type=float, default=S, help="momentum coefficient (optimizer momentum)")
    group.add_argument("--epochs", type=int, default=S, help="number of epochs")
    group.add_argument("--mode", default=S, help="sample (one row per update), batch or full")
    group.add_argument("--batch", type=int, default=S, metavar="N",
                       help="mini-batch size; implies --mode batch")
    group.add_argument("--init", default=S, help="weight init: uniform, normal, xavier or he")
    group.add_argument("--init-scale", type=float, default=S, metavar="X",
                       help="uniform: weights in ±X; normal: standard deviation X")
    group.add_argument("--seed", type=int, default=S, help="seed of the weights and the shuffling")
    group.add_argument("--data-seed", type=int, default=S, help="seed of generated data and splits")
    group.add_argument("--scaling", default=S, help="input scaling: none, minmax or zscore")
    group.add_argument("--no-bias", action="store_true", default=S, help="no bias terms")
    data = net.add_argument_group("your own data (instead of --dataset)")
    data.add_argument("--data", default=S, metavar="FILE.csv",
                      help="a CSV file: numeric input columns and a target column")
    data.add_argument("--target", default=S, metavar="COLUMN",
                      help="the target column's name (or its 0-based index)")
    data.add_argument("--classes", action="store_true", default=S,
                      help="a numeric target holds class labels, not values to fit")
    data.add_argument("--test-data", default=S, metavar="FILE2.csv",
                      help="a second file with the same columns as the test set")
    data.add_argument("--test-fraction", type=float, default=S, metavar="X",
                      help="share of the rows kept for testing (default 0.25)")
    return net


def build_parser() -> argparse.ArgumentParser:
    common, network = _common_options(), _network_options()
    parser = _Parser(prog="bpviz", parents=[common, network],
                     description="Watch backpropagation happen. Without a command, opens the window.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    train = commands.add_parser("train", parents=[common, network], help="train and print the loss")
    train.add_argument("--every", type=int, metavar="N", help="print every N epochs (default: 10-20 lines)")
    train.add_argument("--json", action="store_true", help="print one JSON object instead")
    check = commands.add_parser("gradcheck", parents=[common, network],
                                help="compare backprop with central differences")
    check.add_argument("--samples", type=int, default=10, metavar="N",
                       help="training rows to check on (default 10)")
    check.add_argument("--threshold", type=float, default=GRADCHECK_THRESHOLD,
                       help=f"largest relative error that passes (default {GRADCHECK_THRESHOLD:g})")
    commands.add_parser("presets", parents=[common], help="list the presets")
    commands.add_parser("datasets", parents=[common], help="list the datasets")
    return parser


# --------------------------------------------------------------------- settings
def settings_from_args(args: argparse.Namespace) -> tuple[Settings, Dataset]:
    """The preset (or the defaults) with every option given on the command line applied,
    and its dataset. Raises BpvizError for anything that does not fit."""
    given = vars(args)
    base = get_preset(given["preset"]).settings if "preset" in given else Settings()
    changes = {field: given[option] for option, field in _FIELDS.items() if option in given}
    if given.get("no_bias"):
        changes["bias"] = False
    if "batch" in given:
        if given.get("mode", "batch") != "batch":
            raise BpvizError(f"--batch needs --mode batch, not --mode {given['mode']}")
        changes.update(batch_size=given["batch"], mode="batch")
    if "data" in given:
        changes["csv_source"] = _csv_source(given)
    elif "target" in given or "classes" in given or "test_data" in given:
        raise BpvizError("--target, --classes and --test-data go with --data FILE.csv")
    settings = base.with_(**changes) if changes else base
    dataset = settings.load_dataset()
    if "data" in given and not {"output", "batch"} & set(given):
        settings = settings.for_dataset(dataset)
    if "layers" in given:
        sizes = parse_layers(given["layers"])
        if len(sizes) < 2:
            raise BpvizError(f"the layer spec '{given['layers']}' needs at least an input and an "
                             f"output size, e.g. {dataset.n_features}-5-{dataset.n_outputs}")
        if sizes[0] != dataset.n_features:
            raise BpvizError(f"the dataset {dataset.name} has {dataset.n_features} features, "
                             f"but the layer spec starts with {sizes[0]}")
        if sizes[-1] != dataset.n_outputs:
            raise BpvizError(f"the dataset {dataset.name} has {dataset.n_outputs} outputs, "
                             f"but the layer spec ends with {sizes[-1]}")
        settings = settings.with_(hidden=sizes[1:-1])
    log.debug("settings: %s", settings)
    return settings, dataset


def _csv_source(given: dict) -> CsvSource:
    """The CsvSource of --data, --target, --classes and --test-data."""
    if "dataset" in given:
        raise BpvizError("give either --dataset or --data, not both")
    if "target" not in given:
        raise BpvizError("--data needs --target COLUMN: the column to predict")
    target: str | int = given["target"]
    if re.fullmatch(r"\s*-?\d+\s*", target):  # an index, unless a column has that name
        if target.strip() not in read_table(given["data"]).columns:
            target = int(target)
    return CsvSource(given["data"], target, target_is_class=True if given.get("classes") else None,
                     test_path=given.get("test_data"))


def _has_network_options(args: argparse.Namespace) -> bool:
    return any(name not in ("command", "verbose") for name in vars(args))


def _positive(value: int | None, option: str) -> None:
    if value is not None and value < 1:
        raise BpvizError(f"{option} must be a whole number of at least 1, got {value}")


# --------------------------------------------------------------------- commands
def _gui(args: argparse.Namespace) -> int:
    settings, dataset = settings_from_args(args) if _has_network_options(args) else (None, None)
    try:
        from bpviz.app import run
    except ImportError as exc:
        raise BpvizError(f"the window cannot start: {exc}") from None
    if settings is None or settings.csv_source is None:
        return run(settings)  # a built-in dataset loads quickly: the window loads it
    return run(settings, dataset)


def _every(epochs: int) -> int:
    """A round print interval (1, 2, 5, 10, 20, 50, ...) giving 10 to 20 lines."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * 20 >= epochs:
                return step * factor
        step *= 10


def _format_loss(loss: float) -> str:
    return f"{loss:.4f}" if 1e-3 <= loss < 1e4 else f"{loss:.4e}"


def _train(args: argparse.Namespace) -> int:
    reuse_freed_memory()
    settings, dataset = settings_from_args(args)
    _positive(args.every, "--every")
    if settings.epochs is None:
        raise BpvizError("give the number of epochs with --epochs")
    epochs = settings.epochs
    every = args.every or _every(epochs)
    dataset, net, trainer = settings.build(dataset)
    classify, has_test = dataset.is_classification, dataset.n_test > 0
    monitor = LossMonitor()
    initial_loss = net.loss_of(dataset.X_train, dataset.T_train)
    if math.isfinite(initial_loss):  # so a loss that explodes in the first epoch is caught
        monitor.check(initial_loss)
    train_losses: list[float] = []
    test_losses: list[float | None] = []
    width = len(str(epochs))
    if not args.json:
        print(f"training {settings.layer_spec(dataset)} {settings.activation}/"
              f"{settings.output_activation} on {dataset.name} ({dataset.n_train} train, "
              f"{dataset.n_test} test): {settings.loss} loss, {settings.optimizer} "
              f"lr {settings.learning_rate:g}, {settings.mode} mode, {epochs} epochs")
    start = time.perf_counter()
    try:
        for step in trainer.run(epochs):
            if not step.epoch_done:
                continue
            epoch = step.epoch + 1
            loss = net.loss_of(dataset.X_train, dataset.T_train)
            monitor.check(loss)
            train_losses.append(loss)
            test_losses.append(net.loss_of(dataset.X_test, dataset.T_test) if has_test else None)
            if not args.json and (epoch % every == 0 or epoch == epochs):
                line = f"epoch = {epoch:{width}d}   loss = {_format_loss(loss)}"
                if classify:
                    line += f"   train acc = {datasets.accuracy(net.predict(dataset.X_train), dataset.T_train):.4f}"
                print(line, flush=True)
    except DivergenceError as exc:
        raise DivergenceError(
            f"training diverged ({exc}); try a lower learning rate than {settings.learning_rate:g} "
            f"or another init than {settings.init}") from None
    seconds = time.perf_counter() - start
    log.debug("trained %d epochs in %.3f s", epochs, seconds)
    train_out, test_out = net.predict(dataset.X_train), net.predict(dataset.X_test)
    train_acc = datasets.accuracy(train_out, dataset.T_train) if classify else None
    test_acc = datasets.accuracy(test_out, dataset.T_test) if classify and has_test else None
    if args.json:
        json.dump({
            "settings": settings.to_dict(),
            "layers": settings.layer_spec(dataset),
            "epochs": epochs,
            "seconds": seconds,
            "train_loss": train_losses,
            "test_loss": test_losses,
            "train_accuracy": train_acc,
            "test_accuracy": test_acc,
            "train_outputs": train_out.tolist(),
            "test_outputs": test_out.tolist(),
        }, sys.stdout)
        print()
        return EXIT_OK
    if classify:
        test_text = f"{test_acc:.4f}" if test_acc is not None else "n/a (no test set)"
        print(f"final train acc = {train_acc:.4f}   test acc = {test_text}   ({seconds:.2f} s)")
    else:
        test_text = _format_loss(test_losses[-1]) if has_test else "n/a (no test set)"
        print(f"final train loss = {_format_loss(train_losses[-1])}   test loss = {test_text}   "
              f"({seconds:.2f} s)")
    return EXIT_OK


def _gradcheck(args: argparse.Namespace) -> int:
    settings, dataset = settings_from_args(args)
    _positive(args.samples, "--samples")
    if not (math.isfinite(args.threshold) and args.threshold > 0):
        raise BpvizError(f"--threshold must be a positive number, got {args.threshold}")
    net = settings.build_network(dataset)
    n = min(args.samples, dataset.n_train)
    # Rows spread over the training set, so a class-sorted set (iris) gives every class.
    rows = np.linspace(0, dataset.n_train - 1, n).round().astype(int)
    print(f"gradient check of {settings.layer_spec(dataset)} {settings.activation}/"
          f"{settings.output_activation}, {settings.loss} loss, at the initial weights, "
          f"on {n} rows of {dataset.name}")
    checks = gradcheck(net, dataset.X_train[rows], dataset.T_train[rows])
    print("relative error ‖bp − numeric‖ / (‖bp‖ + ‖numeric‖) per layer "
          "(largest entry-wise relative and absolute errors beside it):")
    for check in checks:
        biases = "-" if check.max_rel_error_biases is None else f"{check.max_rel_error_biases:.2e}"
        print(f"layer {check.layer - 1}->{check.layer}   {check.rel_error:.2e}   (entries: weights "
              f"{check.max_rel_error_weights:.2e}, biases {biases}, absolute {check.max_abs_error:.1e})")
    worst = max(check.rel_error for check in checks)
    passed = bool(worst < args.threshold)
    print(f"largest relative error {worst:.2e} {'<' if passed else '>='} {args.threshold:g}: "
          f"{'PASS' if passed else 'FAIL'}")
    return EXIT_OK if passed else EXIT_CHECK_FAILED


def _presets(args: argparse.Namespace) -> int:
    rows = [(p.name, p.settings.layer_spec(p.settings.load_dataset()), p.title) for p in PRESETS.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for name, spec, title in rows:
        print(f"{name:<{widths[0]}}  {spec:<{widths[1]}}  {title}")
    return EXIT_OK


def _datasets(args: argparse.Namespace) -> int:
    names = datasets.dataset_names()
    width = max(map(len, names))
    for name in names:
        print(f"{name:<{width}}  {datasets.describe(name)}")
    return EXIT_OK


_COMMANDS = {None: _gui, "train": _train, "gradcheck": _gradcheck,
             "presets": _presets, "datasets": _datasets}


def main(argv: Sequence[str] | None = None) -> int:
    """Run bpviz with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    logs.setup(verbose=getattr(args, "verbose", False))
    log.info("bpviz %s started: %s", __version__, " ".join(sys.argv[1:] if argv is None else argv) or "(window)")
    try:
        return _COMMANDS[args.command](args)
    except DivergenceError as exc:
        log.info("%s", exc)
        return _fail(str(exc), EXIT_DIVERGED)
    except BpvizError as exc:
        log.info("refused: %s", exc)
        return _fail(str(exc), EXIT_USAGE)
    except KeyboardInterrupt:
        print("bpviz: interrupted", file=sys.stderr)
        return 130


def _fail(message: str, code: int) -> int:
    print(f"bpviz: error: {' '.join(message.split())}", file=sys.stderr)
    return code
