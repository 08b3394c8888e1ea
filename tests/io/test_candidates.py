"""Compact DFT labels: random- and TS-order candidate points whose prefixes are valid samples."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from echemml.errors import InputFileError
from echemml.io.candidates import CandidateStore, candidates_from_grid, copy_candidates
from echemml.sampling import targeted_log_weights
from tests.conftest import DATA

STORE_BEFORE_VALENCE = DATA / "candidates_before_valence.h5"  # one CP2K slab of a store written before valence charges


@pytest.fixture(scope="module")
def water_candidates(cp2k_water):
    return candidates_from_grid("water", cp2k_water, n_random=500, n_ts=800, ts_sigma=30.0, seed=3)


def test_candidate_values_are_the_grid_values_at_their_positions(water_candidates, cp2k_water):
    positions = water_candidates.positions_of(water_candidates.ts_order[:50])
    np.testing.assert_allclose(cp2k_water.interpolate(positions), water_candidates.ts_values[:50], rtol=1e-9)


def test_ts_candidates_come_in_decreasing_likelihood_and_are_positive(water_candidates):
    assert len(np.unique(water_candidates.ts_order)) == 800
    assert np.all(water_candidates.ts_values > 0)
    weights = np.exp(targeted_log_weights(water_candidates.ts_values, 30.0))
    # earlier entries of a Gumbel top-k draw are, on average, the heavier ones
    assert weights[:100].mean() > weights[-100:].mean()


def test_random_candidates_cover_the_grid_uniformly(water_candidates, cp2k_water):
    fraction_low = np.mean(water_candidates.random_values < 1e-3)
    assert fraction_low == pytest.approx(np.mean(cp2k_water.values < 1e-3), abs=0.08)


def test_store_round_trip_keeps_candidates(tmp_path, water_candidates):
    path = tmp_path / "labels.h5"
    with CandidateStore(path, "a") as store:
        store.add(water_candidates)
        assert "water" in store
        with pytest.raises(ValueError, match="already"):
            store.add(water_candidates)
    with CandidateStore(path) as store:
        loaded = store["water"]
    np.testing.assert_array_equal(loaded.ts_order, water_candidates.ts_order)
    np.testing.assert_allclose(loaded.ts_values, water_candidates.ts_values, rtol=1e-7)
    np.testing.assert_allclose(loaded.voxel, water_candidates.voxel)
    assert loaded.shape == water_candidates.shape and loaded.attrs["ts_sigma"] == 30.0


def test_ctrl_c_while_a_configuration_is_written_arrives_once_it_is_complete(tmp_path):
    import os
    import signal

    path = tmp_path / "labels.h5"
    # Python's Ctrl-C handler, whatever the runner had: one started in the background ignores SIGINT
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with CandidateStore(path, "a") as store, pytest.raises(KeyboardInterrupt):
            with store._new_group("interrupted") as group:
                os.kill(os.getpid(), signal.SIGINT)
                group["random_values"] = np.zeros(3, dtype=np.float32)
    finally:
        signal.signal(signal.SIGINT, previous)
    with CandidateStore(path) as store:
        assert "interrupted" in store


def test_valence_charges_in_the_attrs_survive_the_store(tmp_path, water_candidates):
    labelled = dataclasses.replace(water_candidates, attrs={**water_candidates.attrs,
                                                            "valence_charges": np.array([6.0, 1.0, 1.0])})
    with CandidateStore(tmp_path / "labels.h5", "a") as store:
        store.add(labelled)
    with CandidateStore(tmp_path / "labels.h5") as store:
        assert store["water"].attrs["valence_charges"].tolist() == [6.0, 1.0, 1.0]


def test_a_store_written_before_valence_charges_reads_without_them():
    with CandidateStore(STORE_BEFORE_VALENCE) as store:
        assert "valence_charges" not in store[store.names()[0]].attrs


def test_store_is_compact(tmp_path, water_candidates):
    path = tmp_path / "labels.h5"
    with CandidateStore(path, "a") as store:
        store.add(water_candidates)
    one = path.stat().st_size
    with CandidateStore(path, "a") as store:
        store.add(dataclasses.replace(water_candidates, name="water-again"))
    # 1300 candidates × (4-byte index + 4-byte density) = 10.4 kB, plus < 6 kB of structure and HDF5 headers
    assert path.stat().st_size - one < 16_000


def test_a_store_held_by_another_process_is_reported_in_use(tmp_path):
    """HDF5 locks a file open for writing; a reader that cannot wait gets a one-line error naming the file."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "labels.h5"
    CandidateStore(path, "a").close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from echemml.io.candidates import CandidateStore
        store = CandidateStore({str(path)!r}, "a")
        print("open", flush=True)
        sys.stdin.readline()
        store.close()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(InputFileError, match="in use by another process"):
            CandidateStore(path, "r", wait=1.0)
    finally:
        holder.communicate("\n", timeout=30)
    with CandidateStore(path, "r", wait=1.0) as store:  # free again once the holder closed it
        assert len(store) == 0


def test_a_copy_keeps_the_first_candidates_of_each_list_and_everything_else(water_candidates, tmp_path):
    with CandidateStore(tmp_path / "full.h5", "a") as store:
        store.add(water_candidates)
    assert copy_candidates(tmp_path / "full.h5", tmp_path / "short.h5", n_random=100, n_ts=50) == 1
    with CandidateStore(tmp_path / "short.h5") as store:
        short = store["water"]
    np.testing.assert_array_equal(short.random_order, water_candidates.random_order[:100])
    np.testing.assert_array_equal(short.ts_order, water_candidates.ts_order[:50])
    np.testing.assert_allclose(short.ts_values, water_candidates.ts_values[:50], rtol=1e-7)
    np.testing.assert_array_equal(short.atoms.positions, water_candidates.atoms.positions)
    assert short.attrs["ts_sigma"] == 30.0


def test_a_copy_never_overwrites_a_store(water_candidates, tmp_path):
    with CandidateStore(tmp_path / "full.h5", "a") as store:
        store.add(water_candidates)
    with pytest.raises(InputFileError, match="exists already"):
        copy_candidates(tmp_path / "full.h5", tmp_path / "full.h5", n_ts=10)
