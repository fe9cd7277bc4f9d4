"""The command line with the user's own CSV data: train on it, and one-line errors
with exit code 2 for anything wrong with the file or the options."""

import json
import types

import pytest

from bpviz import cli

LABELS = "a,b,label\n" + "".join(f"{i % 7},{(i * 3) % 5},{'yes' if i % 7 > 3 else 'no'}\n"
                                  for i in range(40))
NUMBERS = "a,b,y\n" + "".join(f"{i % 7},{(i * 3) % 5},{0.1 * i:.1f}\n" for i in range(40))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err, *words):
    assert err.startswith("bpviz: error: ") and err.count("\n") == 1
    assert "Traceback" not in err
    for word in words:
        assert word in err


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(LABELS)
    return path


@pytest.fixture
def numbers(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text(NUMBERS)
    return path


def test_train_on_a_csv_file(capsys, data):
    code, out, err = run(capsys, "train", "--data", str(data), "--target", "label",
                         "--epochs", "3", "--layers", "2-4-2", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["layers"] == "2-4-2"
    assert result["settings"]["dataset"] == "csv"
    assert result["settings"]["csv_source"]["target"] == "label"
    assert len(result["train_outputs"]) == 30 and len(result["test_outputs"]) == 10


def test_numeric_target_is_regression_with_a_linear_output(capsys, numbers):
    code, out, err = run(capsys, "train", "--data", str(numbers), "--target", "y", "--epochs", "2",
                         "--json", "--test-fraction", "0.5")
    assert code == 0, err
    result = json.loads(out)
    assert result["settings"]["output_activation"] == "linear"
    assert result["layers"].endswith("-1") and result["train_accuracy"] is None
    assert len(result["test_outputs"]) == 20


def test_classes_and_a_target_index(capsys, numbers):
    code, out, err = run(capsys, "train", "--data", str(numbers), "--target", "0", "--classes",
                         "--epochs", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["layers"].endswith("-7")  # column a holds 0..6


def test_a_second_file_is_the_test_set(capsys, data, tmp_path):
    test = tmp_path / "test.csv"
    test.write_text("a,b,label\n1,2,no\n5,1,yes\n")
    code, out, err = run(capsys, "train", "--data", str(data), "--target", "label",
                         "--test-data", str(test), "--epochs", "2", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["train_outputs"]) == 40 and len(result["test_outputs"]) == 2


@pytest.mark.parametrize("content, words", [
    ("a,b,label\n1,2,x\n2,oops,y\n", ["row 3", "column 'b'", "oops"]),
    ("a,b,label\n1,2,x\n2,3\n", ["row 3", "2 fields"]),
    ("", ["empty"]),
], ids=["not a number", "ragged", "empty"])
def test_bad_files_give_one_line_and_exit_2(capsys, tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, out, err = run(capsys, "train", "--data", str(path), "--target", "label", "--epochs", "1")
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)


@pytest.mark.parametrize("argv, words", [
    (["--target", "nope"], ["no column 'nope'"]),
    ([], ["--target"]),
    (["--target", "label", "--dataset", "iris"], ["--dataset", "--data"]),
], ids=["unknown column", "no target", "two datasets"])
def test_bad_options_exit_2(capsys, data, argv, words):
    code, _, err = run(capsys, "train", "--data", str(data), *argv, "--epochs", "1")
    assert code == 2
    assert_one_line_error(err, *words)


def test_missing_file_and_target_without_data(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--data", str(tmp_path / "gone.csv"), "--target", "x")
    assert code == 2
    assert_one_line_error(err, "no file")
    code, _, err = run(capsys, "train", "--target", "x")
    assert code == 2
    assert_one_line_error(err, "--data")


def test_gui_gets_the_settings_and_the_loaded_data(capsys, data, monkeypatch):
    seen = {}
    fake = types.ModuleType("bpviz.app")
    fake.run = lambda settings, dataset: seen.update(settings=settings, dataset=dataset) or 0
    monkeypatch.setitem(__import__("sys").modules, "bpviz.app", fake)
    assert cli.main(["--data", str(data), "--target", "label"]) == 0
    assert seen["settings"].csv_source.path == str(data)
    assert seen["dataset"].n_train == 30


def test_gui_with_a_bad_file_exits_2_before_the_window(capsys, tmp_path, monkeypatch):
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,x\n")
    fake = types.ModuleType("bpviz.app")
    fake.run = lambda *a: pytest.fail("the window must not open")
    monkeypatch.setitem(__import__("sys").modules, "bpviz.app", fake)
    code, _, err = run(capsys, "--data", str(path), "--target", "a")
    assert code == 2
    assert_one_line_error(err, "row 2", "'x'")
