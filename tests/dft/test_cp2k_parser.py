"""Reading CP2K output files (the real fixtures in tests/data, and a tiny H2 run with forces) against pymatgen."""

from __future__ import annotations

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from echemml.dft.cp2k import Cp2kSettings, read_output, run_cp2k
from echemml.dft.cp2k.parser import scf_summary
from tests.conftest import DATA
from tests.dft.conftest import H2, require_cp2k

pytest.importorskip("pymatgen")
from pymatgen.io.cp2k.outputs import Cp2kOutput  # noqa: E402

AU100_OUT = DATA / "cp2k_au100" / "au100_field0.out"


def test_energy_is_the_last_force_eval_energy_in_ev():
    assert read_output(AU100_OUT).energy == pytest.approx(-398.256326141972920 * Hartree, rel=1e-8)


def test_electron_count_of_the_slab_is_eleven_per_gold_atom():
    assert read_output(AU100_OUT).n_valence == 12 * 11


def test_converged_run_reads_as_completed_and_converged():
    summary = read_output(AU100_OUT)
    assert summary.completed and summary.scf_converged


def test_scf_steps_are_those_printed():
    """51 Broyden steps, the last at a convergence of 6.2e-7 (the output's last step line)."""
    summary = read_output(AU100_OUT)
    assert len(summary.scf_convergence) == 51
    assert summary.scf_convergence[-1] == pytest.approx(6.2e-7)
    assert scf_summary(summary).startswith("51 SCF steps")


def test_output_without_the_kinds_print_lists_no_valence():
    """The fixture's input predates ``&PRINT / &KINDS``: at PRINT_LEVEL LOW CP2K lists no kind."""
    assert read_output(AU100_OUT).valence_charges == {}


def test_thread_count_comes_from_the_header():
    assert read_output(DATA / "cp2k_h2o" / "h2o.out").threads == 2




@pytest.fixture(scope="module")
def h2_output(tmp_path_factory):
    require_cp2k()
    folder = tmp_path_factory.mktemp("h2")
    with pytest.warns(UserWarning, match="MT Poisson"):
        run_cp2k(H2, settings=Cp2kSettings(cutoff=200, smearing_K=0), keep=folder)
    return folder / "cp2k.out"


@pytest.mark.dft
def test_forces_are_pymatgens_in_ev_per_angstrom(h2_output):
    output = Cp2kOutput(str(h2_output))
    output.parse_forces()
    expected = np.asarray(output.data["forces"][-1]) * Hartree / Bohr
    np.testing.assert_allclose(read_output(h2_output).forces, expected)


@pytest.mark.dft
def test_forces_of_h2_are_equal_and_opposite_along_the_bond(h2_output):
    forces = read_output(h2_output).forces
    assert forces.shape == (2, 3)
    assert forces[0, 2] == pytest.approx(-forces[1, 2], abs=1e-3)
    np.testing.assert_allclose(forces[:, :2], 0.0, atol=1e-6)
