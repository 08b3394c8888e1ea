"""Bad files give InputFileError naming the file and the problem, for every reader."""

from __future__ import annotations

import gzip

import pytest

from echemml import InputFileError, read_density, write_density
from echemml.io import detect_format


@pytest.fixture(scope="module")
def good_files(tmp_path_factory, cp2k_water):
    folder = tmp_path_factory.mktemp("good")
    small = cp2k_water.with_values(cp2k_water.values)
    paths = {"cube": folder / "water.cube", "chgcar": folder / "CHGCAR"}
    for path in paths.values():
        write_density(small, path)
    return {fmt: path.read_text() for fmt, path in paths.items()}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_one_line_error(path, match):
    with pytest.raises(InputFileError, match=match) as info:
        read_density(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message


NAMES = {"cube": "bad.cube", "chgcar": "CHGCAR"}


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_missing_file(tmp_path, fmt):
    assert_one_line_error(tmp_path / NAMES[fmt], "no such file")


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_empty_file(tmp_path, fmt):
    assert_one_line_error(write(tmp_path, NAMES[fmt], ""), "empty")


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_truncated_grid(tmp_path, fmt, good_files):
    text = good_files[fmt]
    assert_one_line_error(write(tmp_path, NAMES[fmt], text[: len(text) * 2 // 3]), "truncated")


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_truncated_header(tmp_path, fmt, good_files):
    head = "\n".join(good_files[fmt].splitlines()[:4])
    assert_one_line_error(write(tmp_path, NAMES[fmt], head), "truncated")


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_garbled_value(tmp_path, fmt, good_files):
    lines = good_files[fmt].splitlines()
    lines[-100] = lines[-100].replace("E", "Q", 1)
    assert_one_line_error(write(tmp_path, NAMES[fmt], "\n".join(lines)), "garbled grid values")


@pytest.mark.parametrize("fmt", ["cube", "chgcar"])
def test_nan_values(tmp_path, fmt, good_files):
    lines = good_files[fmt].splitlines()
    fields = lines[-50].split()
    fields[0] = "NaN"
    lines[-50] = " ".join(fields)
    assert_one_line_error(write(tmp_path, NAMES[fmt], "\n".join(lines)), "NaN")


def test_garbled_cube_header(tmp_path, good_files):
    lines = good_files["cube"].splitlines()
    lines[3] = "   54    zero    0.0    0.0"
    assert_one_line_error(write(tmp_path, "bad.cube", "\n".join(lines)), "voxel vector")


def test_chgcar_with_unknown_species(tmp_path, good_files):
    lines = good_files["chgcar"].splitlines()
    lines[5] = "   Xx   Yy"
    assert_one_line_error(write(tmp_path, "CHGCAR", "\n".join(lines)), "species")


def test_broken_gzip(tmp_path, good_files):
    path = tmp_path / "water.cube.gz"
    path.write_bytes(gzip.compress(good_files["cube"].encode())[:5000])
    assert_one_line_error(path, "cannot read")


def test_binary_garbage(tmp_path):
    path = tmp_path / "noise.dat"
    path.write_bytes(bytes(range(256)) * 10)
    assert_one_line_error(path, "not a text file|unknown format")


def test_format_detected_from_content_when_name_is_silent(tmp_path, good_files):
    assert detect_format(write(tmp_path, "a.dat", good_files["cube"])) == "cube"
    assert detect_format(write(tmp_path, "b.dat", good_files["chgcar"])) == "chgcar"


def test_unknown_format(tmp_path):
    assert_one_line_error(write(tmp_path, "notes.txt", "hello\nworld\nthis is not a grid\n"), "unknown format")
