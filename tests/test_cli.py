"""The command line, run in-process: output formats, exit codes, one-line errors."""

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from bpviz import cli, datasets
from bpviz.engine.gradcheck import LayerCheck
from bpviz.presets import PRESETS

ROOT = Path(__file__).resolve().parent.parent
DIVERGING = ["train", "--dataset", "digits", "--layers", "64-32-16-10", "--lr", "10",
             "--activation", "relu", "--init", "normal", "--init-scale", "10",
             "--output", "linear", "--loss", "squared", "--batch", "32", "--epochs", "5"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err):
    assert err.startswith("bpviz: error: ")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "Traceback" not in err


def test_presets_lists_name_layers_and_title(capsys):
    code, out, err = run(capsys, "presets")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(PRESETS)
    assert re.match(r"iris-4-5-3\s+4-5-3\s+Iris", lines[list(PRESETS).index("iris-4-5-3")])
    assert re.match(r"toy-3-4-1\s+3-4-1\s+", lines[0])


def test_datasets_lists_every_dataset_with_its_description(capsys):
    code, out, err = run(capsys, "datasets")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == datasets.dataset_names()
    assert datasets.describe("iris") in out


def test_train_json_is_one_object_with_the_documented_keys(capsys):
    code, out, err = run(capsys, "train", "--preset", "xor-2-2-1", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"settings", "layers", "epochs", "seconds", "train_loss", "test_loss",
                           "train_accuracy", "test_accuracy", "train_outputs", "test_outputs"}
    assert result["layers"] == "2-2-1"
    assert result["settings"]["preset"] == "xor-2-2-1"
    assert result["settings"]["learning_rate"] == 0.5
    assert len(result["train_loss"]) == len(result["test_loss"]) == 2000
    assert result["train_loss"][-1] < result["train_loss"][0]
    assert result["train_accuracy"] == result["test_accuracy"] == 1.0
    assert len(result["train_outputs"]) == 4 and len(result["train_outputs"][0]) == 1
    assert len(result["test_outputs"]) == 4


def test_train_prints_epoch_lines_and_final_accuracy(capsys):
    code, out, err = run(capsys, "train", "--preset", "iris-4-5-3")
    assert code == 0 and err == ""
    epochs = [line for line in out.splitlines() if line.startswith("epoch =")]
    assert 10 <= len(epochs) <= 20
    assert re.fullmatch(r"epoch = 50   loss = \d\.\d{4}   train acc = \d\.\d{4}", epochs[-1])
    assert re.search(r"final train acc = 0\.9583   test acc = 1\.0000", out)


def test_options_override_the_preset(capsys):
    code, out, err = run(capsys, "train", "--preset", "iris-4-5-3", "--layers", "4-3-3",
                         "--epochs", "3", "--batch", "8", "--no-bias", "--json")
    assert code == 0
    result = json.loads(out)
    settings = result["settings"]
    assert result["layers"] == "4-3-3"
    assert settings["hidden"] == [3] and settings["epochs"] == 3
    assert settings["mode"] == "batch" and settings["batch_size"] == 8
    assert settings["bias"] is False
    assert settings["init_scale"] == 0.01 and settings["activation"] == "tanh"  # from the preset
    assert len(result["train_loss"]) == 3


def test_every_sets_the_print_interval(capsys):
    code, out, err = run(capsys, "train", "--preset", "blobs-2-3-3", "--epochs", "6", "--every", "3")
    assert code == 0
    assert [line.split()[2] for line in out.splitlines() if line.startswith("epoch")] == ["3", "6"]


def test_regression_prints_losses_not_accuracies(capsys):
    code, out, err = run(capsys, "train", "--dataset", "sine", "--layers", "1-6-1",
                         "--output", "linear", "--epochs", "3")
    assert code == 0
    assert "acc" not in out and "final train loss = " in out


def test_gradcheck_passes_for_the_iris_preset(capsys):
    code, out, err = run(capsys, "gradcheck", "--preset", "iris-4-5-3")
    assert code == 0
    assert "layer 0->1" in out and "layer 1->2" in out
    assert out.rstrip().endswith("PASS")


def test_gradcheck_fails_with_exit_code_1(capsys, monkeypatch):
    monkeypatch.setattr(cli, "gradcheck", lambda net, X, T: [LayerCheck(1, 3e-4, 3e-4, None, 1e-6)])
    code, out, err = run(capsys, "gradcheck", "--preset", "toy-3-4-1", "--samples", "2")
    assert code == 1
    assert out.rstrip().endswith("FAIL")


BAD_INPUTS = [
    ["train", "--preset", "nope"],
    ["--preset", "nope"],
    ["gradcheck", "--preset", "nope"],
    ["train", "--dataset", "nope"],
    ["train", "--layers", "4--3"],
    ["train", "--layers", "0"],
    ["train", "--layers", "abc"],
    ["train", "--layers", "4"],
    ["train", "--layers", "5-5-3"],
    ["train", "--dataset", "iris", "--layers", "4-5-2"],
    ["train", "--lr", "0"],
    ["train", "--lr", "-0.5"],
    ["train", "--lr", "abc"],
    ["train", "--epochs", "0"],
    ["train", "--epochs", "many"],
    ["train", "--batch", "0"],
    ["train", "--batch", "10", "--mode", "full"],
    ["train", "--mode", "sometimes"],
    ["train", "--activation", "swish"],
    ["train", "--loss", "cross_entropy", "--output", "sigmoid"],
    ["train", "--every", "0"],
    ["train", "--bogus"],
    ["gradcheck", "--samples", "0"],
    ["trian"],
]


@pytest.mark.parametrize("argv", BAD_INPUTS, ids=" ".join)
def test_bad_input_is_one_line_and_exit_code_2(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err)


def test_layer_mismatch_names_the_dataset_and_the_sizes(capsys):
    code, out, err = run(capsys, "train", "--dataset", "iris", "--layers", "5-5-3")
    assert err == "bpviz: error: the dataset iris has 4 features, but the layer spec starts with 5\n"


@pytest.mark.parametrize("argv", [
    DIVERGING,  # the loss becomes infinite within an epoch
    ["train", "--dataset", "iris", "--layers", "4-8-3", "--lr", "10", "--activation", "relu",
     "--output", "linear", "--mode", "full", "--init", "normal", "--init-scale", "3", "--epochs", "5"],
])
def test_divergence_is_exit_code_3_with_advice(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code == 3
    assert_one_line_error(err)
    assert "diverged" in err and "lower learning rate" in err


def test_divergence_in_json_mode_prints_no_json(capsys):
    code, out, err = run(capsys, *DIVERGING, "--json")
    assert code == 3 and out == ""


@pytest.fixture
def fake_app(monkeypatch):
    """A stand-in for bpviz.app, so the GUI path is tested without Qt."""
    calls = []
    module = types.ModuleType("bpviz.app")
    module.run = lambda settings=None: calls.append(settings) or 0
    monkeypatch.setitem(sys.modules, "bpviz.app", module)
    return calls


def test_no_command_opens_the_window_with_the_preset(capsys, fake_app):
    assert cli.main(["--preset", "iris-4-5-3"]) == 0
    assert fake_app[0] == PRESETS["iris-4-5-3"].settings
    assert fake_app[0].preset == "iris-4-5-3"


def test_no_command_and_no_options_opens_the_window_with_defaults(fake_app):
    assert cli.main([]) == 0
    assert fake_app == [None]


def test_window_options_override_the_preset(fake_app):
    assert cli.main(["--preset", "iris-4-5-3", "--lr", "0.1", "--layers", "4-7-3"]) == 0
    assert fake_app[0].learning_rate == 0.1 and fake_app[0].hidden == (7,)


def test_verbose_works_before_and_after_the_command(capsys):
    assert cli.main(["--verbose", "presets"]) == 0
    assert cli.main(["presets", "--verbose"]) == 0


def test_python_dash_m_bpviz():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "bpviz", "presets"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "iris-4-5-3" in result.stdout
