"""QM9 geometries from qm9pack and the evaluation reservation (indices > 120000)."""

from __future__ import annotations

import pytest

pytest.importorskip("pyscf")  # the pyscf extra brings qm9pack

from echemml import EchemmlError  # noqa: E402
from echemml.errors import ReservedIndexError  # noqa: E402
from echemml.qm9 import load_qm9, parse_index_ranges  # noqa: E402


def test_index_ranges_parse_to_sorted_unique_indices():
    assert parse_index_ranges("5-7,1,6") == [1, 5, 6, 7]


@pytest.mark.parametrize("text", ["1-", "a", "7-3"])
def test_bad_index_range_is_refused(text):
    with pytest.raises(EchemmlError):
        parse_index_ranges(text)


def test_first_molecule_is_methane():
    methane = load_qm9([1])[1]
    assert methane.get_chemical_formula() == "CH4"
    assert methane.get_distance(0, 1) == pytest.approx(1.0919, abs=1e-3)


def test_molecules_across_csv_parts_are_found():
    molecules = load_qm9([44746, 44747, 89009])
    assert [m.info["qm9_index"] for m in molecules.values()] == [44746, 44747, 89009]


def test_reserved_indices_are_refused_for_training():
    with pytest.raises(ReservedIndexError, match="reserved for evaluation"):
        load_qm9([119999, 120001])


def test_reserved_indices_load_when_explicitly_allowed():
    assert 120001 in load_qm9([120001], allow_reserved=True)


def test_available_indices_skip_uncharacterised_molecules():
    from echemml.qm9 import available_indices

    indices = available_indices()
    assert len(indices) == 130_831 and indices[-1] == 133_885
    assert 186 not in set(indices[:200].tolist())
