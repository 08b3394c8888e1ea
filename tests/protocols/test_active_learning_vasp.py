"""echemml learn with VASP as the labeller, where VASP is not installed (as on these machines).

The tiny slab run of tests/protocols/slab_learning.py with ``dft.engine: vasp``: each
candidate's SCFs get pymatgen's inputs (MPStaticSet, VASP's dipole-layer field, POTCAR.spec
as no POTCAR library is set up) in the run folder's ``dft/NAME/``, custodian is asked to
run them, and a VASP that cannot run makes the job a recorded failure: nothing enters the
data and the run stops cleanly.
"""

from __future__ import annotations

import shutil

import pytest
from pymatgen.io.vasp import Incar
from tests.protocols.slab_learning import write_slab_settings

from echemml.io.candidates import CandidateStore
from echemml.io.samples import SampleSet
from echemml.protocols import ActiveLearning, load_settings

pytestmark = pytest.mark.skipif(shutil.which("vasp_std") is not None, reason="VASP is installed: it would run")


def test_a_vasp_job_gets_its_inputs_and_fails_cleanly_without_vasp(tmp_path):
    config = write_slab_settings(tmp_path, {"engine": "vasp", "vasp": {"potcar_spec": True, "incar": {"ENCUT": 300}}})
    run = tmp_path / "run"
    record = ActiveLearning(load_settings(config), run, progress_bar=False, echo=lambda line: None).run()

    (job,) = record.jobs
    assert job["name"] == "al_step000005" and job["status"] == "failed"
    assert "vasp_std not found" in job["error"]
    assert record.labelled == [] and record.retrainings == [] and record.stop_reason == "DFT budget of 1 calls spent"
    labels = run / "data" / "labels.h5"
    if labels.exists():
        with CandidateStore(labels) as store:
            assert store.names() == []
    with SampleSet(run / "data" / "density" / "density_samples.h5") as samples:
        assert len(samples) == 1  # the starting slab only
    incar = Incar.from_file(run / "dft" / "al_step000005_E0" / "INCAR")
    assert incar["LCHARG"] and incar["ENCUT"] == 300 and "EFIELD" not in incar  # the zero-field SCF comes first
    assert (run / "dft" / "al_step000005_E0" / "POTCAR.spec").read_text().split() == ["Au"]
