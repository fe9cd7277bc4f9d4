"""Tests for bpviz.csv_data: reading users' CSV files, and refusing bad ones clearly."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpviz.csv_data import MAX_CLASSES, CsvSource, load_csv, read_table
from bpviz.errors import BpvizError

IRIS_LIKE = """sepal length,sepal width,petal width,species
5.1,3.5,0.2,setosa
4.9,3.0,0.2,setosa
4.7,3.2,0.2,setosa
4.6,3.1,0.2,setosa
7.0,3.2,1.4,versicolor
6.4,3.2,1.5,versicolor
6.9,3.1,1.5,versicolor
5.5,2.3,1.3,versicolor
6.3,3.3,2.5,virginica
5.8,2.7,1.9,virginica
7.1,3.0,2.1,virginica
6.3,2.9,1.8,virginica
"""


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_delimiter(text, delimiter):
    return text.replace(",", delimiter)


# --- good files ------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    path = write(tmp_path, with_delimiter(IRIS_LIKE, delimiter))
    table = read_table(path)
    assert table.delimiter == delimiter
    assert table.has_header
    assert table.columns == ("sepal length", "sepal width", "petal width", "species")
    assert table.n_rows == 12
    assert table.kinds == ("number", "number", "number", "text")
    assert table.rows[0] == ["5.1", "3.5", "0.2", "setosa"]
    ds = load_csv(path, "species")
    assert ds.n_train + ds.n_test == 12 and ds.n_features == 3


def test_text_classes_are_one_hot_in_sorted_order(tmp_path):
    ds = load_csv(write(tmp_path, IRIS_LIKE), "species", test_fraction=0.25, seed=3)
    assert ds.name == "data"
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert ds.target_names == ds.class_names
    assert ds.feature_names == ("sepal length", "sepal width", "petal width")
    assert set(np.unique(ds.T_train)) == {0.0, 1.0}
    assert np.all(ds.T_train.sum(axis=1) == 1)
    # Stratified: one of each class's four rows is tested.
    assert ds.n_test == 3 and sorted(ds.labels(ds.T_test)) == [0, 1, 2]
    rows = {tuple(x) for x in np.vstack([ds.X_train, ds.X_test])}
    assert (5.1, 3.5, 0.2) in rows and len(rows) == 12


def test_split_is_seeded(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    a, b = load_csv(path, -1, seed=7), load_csv(path, -1, seed=7)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.T_test, b.T_test)
    c = load_csv(path, -1, seed=8)
    assert not np.array_equal(a.X_train, c.X_train)


def test_class_names_do_not_depend_on_row_order(tmp_path):
    lines = IRIS_LIKE.splitlines()
    reordered = "\n".join([lines[0]] + lines[:0:-1]) + "\n"
    ds = load_csv(write(tmp_path, reordered), "species")
    assert ds.class_names == ("setosa", "versicolor", "virginica")


def test_no_header(tmp_path):
    text = "".join(IRIS_LIKE.splitlines(keepends=True)[1:])
    path = write(tmp_path, text)
    table = read_table(path)
    assert not table.has_header
    assert table.columns == ("column 1", "column 2", "column 3", "column 4")
    assert table.n_rows == 12
    ds = load_csv(path, 3)
    assert ds.feature_names == ("column 1", "column 2", "column 3")
    assert ds.class_names == ("setosa", "versicolor", "virginica")


def test_header_and_delimiter_can_be_forced(tmp_path):
    path = write(tmp_path, "1;2;3\n4;5;6\n7;8;9\n")
    assert read_table(path, has_header=True).columns == ("1", "2", "3")
    assert read_table(path, has_header=False).n_rows == 3
    with pytest.raises(BpvizError, match="only one column"):
        read_table(path, delimiter=",")


def test_numeric_target_is_regression(tmp_path):
    text = "x1,x2,y\n" + "".join(f"{i},{i * 0.5},{i * 0.1}\n" for i in range(10))
    ds = load_csv(write(tmp_path, text), "y", test_fraction=0.2)
    assert not ds.is_classification and ds.target_names == ("y",)
    assert ds.n_outputs == 1 and ds.n_test == 2
    assert np.allclose(np.sort(np.concatenate([ds.T_train, ds.T_test])[:, 0]), np.arange(10) * 0.1)


def test_numeric_target_as_classes(tmp_path):
    text = "x,label\n" + "".join(f"{i},{[10, 2, 1.5][i % 3]}\n" for i in range(9))
    ds = load_csv(write(tmp_path, text), "label", target_is_class=True)
    assert ds.class_names == ("1.5", "2", "10")  # sorted by value
    assert ds.n_outputs == 3


def test_two_classes_are_two_one_hot_outputs(tmp_path):
    text = "a,b,c\n" + "".join(f"{i},{i % 2},{'yes' if i % 2 else 'no'}\n" for i in range(8))
    ds = load_csv(write(tmp_path, text), "c")
    assert ds.n_outputs == 2 and ds.class_names == ("no", "yes")


def test_text_target_cannot_be_regression(tmp_path):
    with pytest.raises(BpvizError, match=r"row 2, column 'species': 'setosa' is not a number"):
        load_csv(write(tmp_path, IRIS_LIKE), "species", target_is_class=False)


def test_scaling_uses_training_rows_only(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    ds = load_csv(path, "species", scaling="minmax", test_fraction=0.5)
    assert np.allclose(ds.X_train.min(axis=0), 0) and np.allclose(ds.X_train.max(axis=0), 1)
    ds = load_csv(path, "species", scaling="zscore")
    assert np.allclose(ds.X_train.mean(axis=0), 0)


def test_second_file_is_the_test_set(tmp_path):
    train = write(tmp_path, IRIS_LIKE)
    test = write(tmp_path, "sepal length;sepal width;petal width;species\n"
                           "5.0;3.4;0.2;setosa\n6.0;2.2;1.5;virginica\n", "test.csv")
    ds = load_csv(train, "species", test_path=test, test_fraction=0.5)
    assert ds.n_train == 12 and ds.n_test == 2
    assert np.array_equal(ds.X_test, [[5.0, 3.4, 0.2], [6.0, 2.2, 1.5]])
    assert ds.labels(ds.T_test).tolist() == [0, 2]


def test_second_file_with_an_unknown_class(tmp_path):
    train = write(tmp_path, IRIS_LIKE)
    test = write(tmp_path, "sepal length,sepal width,petal width,species\n"
                           "5.0,3.4,0.2,setosa\n6.0,2.2,1.5,rosa\n", "test.csv")
    with pytest.raises(BpvizError, match=r"'test.csv': row 3, column 'species': class 'rosa'"):
        load_csv(train, "species", test_path=test)


def test_second_file_with_other_columns(tmp_path):
    train = write(tmp_path, IRIS_LIKE)
    test = write(tmp_path, "a,b,c,d\n1,2,3,setosa\n", "test.csv")
    with pytest.raises(BpvizError, match="test file 'test.csv' has columns"):
        load_csv(train, "species", test_path=test)


def test_source_round_trip_and_reload(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    source = CsvSource(str(path), "species", delimiter=",", has_header=True, name="flowers")
    assert CsvSource.from_dict(source.to_dict()) == source
    ds = source.load(scaling="zscore", seed=2)
    direct = load_csv(path, "species", scaling="zscore", seed=2, name="flowers")
    assert ds.name == "flowers" and np.array_equal(ds.X_train, direct.X_train)
    with pytest.raises(BpvizError, match="unknown CSV source"):
        CsvSource.from_dict({**source.to_dict(), "colour": 1})
    with pytest.raises(BpvizError, match="delimiter"):
        CsvSource.from_dict({**source.to_dict(), "delimiter": "|"})


def test_target_that_does_not_exist(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    with pytest.raises(BpvizError, match="no column 'colour'"):
        load_csv(path, "colour")
    with pytest.raises(BpvizError, match="no column index 4"):
        load_csv(path, 4)


# --- bad files -------------------------------------------------------------------

BAD_FILES = [
    ("missing value", "a,b,y\n1,2,p\n3,,q\n", r"row 3, column 'b': missing value"),
    ("missing target", "a,b,y\n1,2,p\n3,4,\n", r"row 3, column 'y': missing value"),
    ("text in numbers", "a,x2,y\n1,2,p\n3,4,q\n5,6,p\n7,8,q\n9,10,p\n11,12,q\n7,8,q\n9,10,p\n"
                        "11,12,q\n7,8,q\n13,abc,p\n", r"row 12, column 'x2': 'abc' is not a number"),
    ("ragged", "a,b,c,d,y\n1,2,3,4,p\n1,2,3,4,q\n1,2,3,4,p\n1,2,3,q\n", r"row 5 has 4 fields, expected 5"),
    ("inf", "x1,x2,y\n1,2,p\ninf,3,q\n", r"row 3, column 'x1': 'inf' is not a finite number"),
    ("nan", "x1,x2,y\n1,2,p\n2,nan,q\n", r"row 3, column 'x2': 'nan' is not a finite number"),
    ("overflow", "x1,x2,y\n1,2,p\n1e999,3,q\n", r"row 3, column 'x1': '1e999' is not a finite number"),
    ("nan target", "x1,y\n1,2\n2,nan\n", r"row 3, column 'y': 'nan' is not a finite number"),
    ("missing before a bad number", "a,b,y\n1,2,p\nabc,,q\n", r"row 3, column 'b': missing value"),
    ("bad number after good ones", "a,b,y\n1,2,p\n3,x,q\n", r"row 3, column 'b': 'x' is not a number"),
    ("empty", "", r"'data.csv' is empty"),
    ("blank", "\n\n  \n", r"'data.csv' is empty"),
    ("header only", "a,b,y\n", r"has a header row but no data rows"),
    ("single class", "a,b,y\n1,2,p\n3,4,p\n", r"column 'y' has only one class \('p'\)"),
    ("single column", "y\n1\n2\n3\n", r"only one column"),
]


@pytest.mark.parametrize("text, message", [case[1:] for case in BAD_FILES],
                         ids=[case[0] for case in BAD_FILES])
def test_bad_files_name_the_problem(tmp_path, text, message):
    with pytest.raises(BpvizError, match=message):
        load_csv(write(tmp_path, text), -1)


def test_ragged_row_is_refused_by_the_preview_too(tmp_path):
    with pytest.raises(BpvizError, match=r"row 3 has 2 fields, expected 3"):
        read_table(write(tmp_path, "a,b,c\n1,2,3\n4,5\n"))


def test_row_numbers_count_blank_lines_and_the_header(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,p\n\n3,x,q\n")
    with pytest.raises(BpvizError, match=r"row 4, column 'b': 'x' is not a number"):
        load_csv(path, "y")


def test_too_many_classes(tmp_path):
    text = "x,y\n" + "".join(f"{i},c{i}\n" for i in range(MAX_CLASSES + 1))
    with pytest.raises(BpvizError, match=rf"{MAX_CLASSES + 1} different values.*at most {MAX_CLASSES}"):
        load_csv(write(tmp_path, text), "y")
    numeric = "x,y\n" + "".join(f"{i},{i}\n" for i in range(60))
    with pytest.raises(BpvizError, match="60 different values"):
        load_csv(write(tmp_path, numeric), "y", target_is_class=True)


def test_file_too_large(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    size = path.stat().st_size
    with pytest.raises(BpvizError, match=rf"is {size:,} bytes; bpviz reads CSV files up to 100 bytes"):
        read_table(path, max_bytes=100)
    with pytest.raises(BpvizError, match="up to 100 bytes"):
        load_csv(path, "species", max_bytes=100)


def test_binary_file(tmp_path):
    path = tmp_path / "picture.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(BpvizError, match="'picture.csv' is not UTF-8 text"):
        read_table(path)
    path.write_bytes(b"a,b\x00,c\n1,2,3\n")
    with pytest.raises(BpvizError, match="binary"):
        load_csv(path, 0)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(BpvizError, match="there is no file"):
        read_table(tmp_path / "nothing.csv")
    with pytest.raises(BpvizError, match="is a folder"):
        load_csv(tmp_path, 0)


def test_bad_options(tmp_path):
    path = write(tmp_path, IRIS_LIKE)
    with pytest.raises(BpvizError, match="test_fraction"):
        load_csv(path, "species", test_fraction=0.95)
    with pytest.raises(BpvizError, match="scaling"):
        load_csv(path, "species", scaling="log")
    with pytest.raises(BpvizError, match="target"):
        load_csv(path, True)
    with pytest.raises(BpvizError, match="max_bytes"):
        load_csv(path, "species", max_bytes=[1])
    with pytest.raises(BpvizError, match="path must be text"):
        load_csv(path, "species", test_path=["other.csv"])
    with pytest.raises(BpvizError, match="path must be text"):
        load_csv([str(path)], "species")


def test_byte_order_mark_and_crlf(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(("\ufeff" + IRIS_LIKE.replace("\n", "\r\n")).encode("utf-8"))
    table = read_table(path)
    assert table.columns[0] == "sepal length" and table.n_rows == 12
    assert load_csv(path, "species").n_features == 3


# --- anything at all -------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
CSV_ALPHABET = st.sampled_from(list("0123456789.,;\t\n\r\"' -+eEinfaNxy") + ["nan", "inf", "\x00", "é"])


def _only_bpviz_errors(path, target):
    """Either a clear BpvizError, or a result with nothing non-finite in it."""
    try:
        read_table(path)
    except BpvizError as exc:
        assert str(exc), "an error must say what is wrong"
    for call in (lambda: load_csv(path, target),
                 lambda: load_csv(path, target, target_is_class=True, scaling="zscore")):
        try:
            dataset = call()
        except BpvizError as exc:
            assert str(exc), "an error must say what is wrong"
        else:
            assert np.isfinite(dataset.X_train).all() and np.isfinite(dataset.T_train).all()


@FUZZ
@given(data=st.binary(max_size=400), target=st.sampled_from([0, -1, 2, "y"]))
def test_arbitrary_bytes_raise_only_bpviz_errors(tmp_path, data, target):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    _only_bpviz_errors(path, target)


@FUZZ
@given(text=st.text(max_size=300) | st.lists(CSV_ALPHABET, max_size=200).map("".join),
       target=st.sampled_from([0, -1, 1]))
def test_arbitrary_text_raises_only_bpviz_errors(tmp_path, text, target):
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _only_bpviz_errors(path, target)


def test_numbers_with_spaces_and_a_row_whose_sum_overflows_load(tmp_path):
    dataset = load_csv(write(tmp_path, "x1,x2,y\n 1.5 , 2 ,p\n1e308,1e308,q\n-3,4e-3, q \n"), "y",
                       test_fraction=0.0)
    rows = {tuple(r) for r in dataset.X_train.tolist()}
    assert rows == {(1.5, 2.0), (1e308, 1e308), (-3.0, 0.004)}
    assert dataset.class_names == ("p", "q")


CELLS = st.sampled_from(["1", " 2 ", "-3.5", "1e3", "", " ", "abc", "nan", "1e999", "x y"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(2, 4).flatmap(lambda width: st.lists(st.lists(CELLS, min_size=width, max_size=width),
                                                              min_size=1, max_size=6)))
def test_the_preview_finds_each_columns_kind_as_cell_by_cell(tmp_path, rows):
    """A column is a number column when it has a number and every filled cell is one."""
    path = tmp_path / "kinds.csv"
    header = [f"c{j}" for j in range(len(rows[0]))]
    path.write_text("\n".join(",".join(r) for r in [header] + rows) + "\n", encoding="utf-8")

    def is_number(cell):
        try:
            float(cell)
            return True
        except ValueError:
            return False
    table = read_table(path, delimiter=",", has_header=True)
    columns = list(zip(*rows))  # a row of two or more cells is never a blank line
    expected = tuple("number" if any(c.strip() for c in col)
                     and all(is_number(c.strip()) for c in col if c.strip()) else "text" for col in columns)
    assert table.kinds == expected


def test_a_new_split_or_scaling_of_the_same_file_does_not_read_it_again(tmp_path, monkeypatch):
    from bpviz import csv_data

    text = "a,b,y\n" + "".join(f"{i},{i * i % 7},{'pq'[i % 2]}\n" for i in range(40))
    path = write(tmp_path, text)
    opened = []
    real_open = csv_data._open
    monkeypatch.setattr(csv_data, "_open", lambda *a: opened.append(a[0]) or real_open(*a))
    monkeypatch.setattr(csv_data, "_RACY_SECONDS", 0.0)  # the file was written just now
    csv_data._read_cached.cache_clear()
    options = [{}, {"scaling": "minmax"}, {"test_fraction": 0.5, "seed": 3}, {"scaling": "zscore", "seed": 1}]
    cached = [load_csv(path, "y", **o) for o in options]
    assert len(opened) == 1
    for o, dataset in zip(options, cached):
        csv_data._read_cached.cache_clear()
        fresh = load_csv(path, "y", **o)
        for name in ("X_train", "T_train", "X_test", "T_test"):
            np.testing.assert_array_equal(getattr(dataset, name), getattr(fresh, name))
            assert getattr(dataset, name).flags.writeable
    assert len(opened) == 1 + len(options)
    # A changed file is read again.
    path.write_text(text + "100,1,q\n", encoding="utf-8")
    assert load_csv(path, "y", test_fraction=0.0).n_train == 41
    assert len(opened) == 2 + len(options)


def test_a_file_changed_just_now_is_read_every_time(tmp_path, monkeypatch):
    """File times move in ticks of milliseconds: a rewrite at the same size within one
    tick would look unchanged, so a file changed in the last two seconds is never taken
    from the cache; a rewrite that changes its times is read again whatever its size."""
    from bpviz import csv_data

    opened = []
    real_open = csv_data._open
    monkeypatch.setattr(csv_data, "_open", lambda *a: opened.append(a[0]) or real_open(*a))
    csv_data._read_cached.cache_clear()
    text = "a,y\n" + "".join(f"{i},{'pq'[i % 2]}\n" for i in range(10))
    path = write(tmp_path, text)
    for _ in range(3):
        assert load_csv(path, "y", test_fraction=0.0).X_train[:, 0].sum() == 45
    assert len(opened) == 3
    stamp = path.stat().st_mtime_ns - 10**10  # ten seconds ago
    os.utime(path, ns=(stamp, stamp))
    monkeypatch.setattr(csv_data, "_RACY_SECONDS", 0.0)  # utime itself just changed ctime
    load_csv(path, "y", test_fraction=0.0)
    load_csv(path, "y", test_fraction=0.0)
    assert len(opened) == 4
    path.write_text(text.replace("1,q", "7,q"), encoding="utf-8")  # the same size
    os.utime(path, ns=(stamp, stamp))  # and the same modification time: ctime differs
    assert load_csv(path, "y", test_fraction=0.0).X_train[:, 0].sum() == 51
