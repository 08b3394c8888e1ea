"""echemml learn / ActiveLearning on H5O2+: real MD with the shipped h5o2 models, real PySCF labels.

Data: 16 labelled MD frames of data/h5o2/md_round1.extxyz.gz (energy head), six bootstrap
configurations of data/h5o2_labels.h5 sampled TS+LIFS with h5o2-density (density head),
4 held-out frames of data/h5o2/md_heldout_450K.extxyz.gz (test). MD at 600 K in 0.5 V/Å
from the Zundel geometry; the trust levels are low so that the first frames scored are
candidates (measured: atom novelty 0.012–0.018, committee deviation 0.013–0.015 eV/Å).
The PySCF recipe is the cheapest that converges (GTH-SZV, coarse grid: 0.7 s a label), not
the data's (GTH-DZVP): these tests check the loop's bookkeeping, not what it learns.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import pytest
import yaml

pytest.importorskip("pyscf")

from echemml.cli import main  # noqa: E402
from echemml.dft.pyscf import PySCFSettings, run_pyscf  # noqa: E402
from echemml.errors import InputFileError  # noqa: E402
from echemml.io import write_density  # noqa: E402
from echemml.io.candidates import CandidateStore  # noqa: E402
from echemml.io.labelled_frames import frame_names  # noqa: E402
from echemml.io.samples import SampleSet  # noqa: E402
from echemml.model import load_model  # noqa: E402
from echemml.protocols import ActiveLearning, LearningRecord, load_settings  # noqa: E402

pytestmark = pytest.mark.dft

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
ZUNDEL = ROOT / "studies" / "h5o2" / "zundel.xyz"
CHEAP_PYSCF = {"basis": "gth-szv", "grid_level": 1, "conv_tol": 1e-7, "spacing": 0.3, "margin": 3.0}
THREADS = {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """Small training and test files (see the module docstring)."""
    folder = tmp_path_factory.mktemp("h5o2_data")
    paths = {"energy": folder / "energy_frames.extxyz", "density": folder / "density_samples.h5",
             "test": folder / "test_frames.extxyz", "cube": folder / "test_frame.cube"}
    ase.io.write(paths["energy"], ase.io.read(DATA / "h5o2" / "md_round1.extxyz.gz", index=":16"), format="extxyz")
    held_out = ase.io.read(DATA / "h5o2" / "md_heldout_450K.extxyz.gz", index=":4")
    ase.io.write(paths["test"], held_out, format="extxyz")
    write_density(run_pyscf(held_out[0], settings=PySCFSettings(**CHEAP_PYSCF), charge=1).grid, paths["cube"])
    assert main(["sample", "--candidates", str(DATA / "h5o2_labels.h5"), "--names", "bootstrap_000[0-2]",
                 "bootstrap_010[0-2]", "--method", "ts+lifs", "--ts-points", "300", "--uniform-fraction", "0.5",
                 "--lifs-threshold", "6e-4", "--model", "h5o2-density", "-o", str(paths["density"]),
                 "--workers", "1", "--quiet"]) == 0
    return paths


def settings_file(folder: Path, files: dict[str, Path], **sections) -> Path:
    """A settings YAML in ``folder``: MD of H5O2+ labelled by cheap PySCF, sections updated by ``sections``."""
    values = {
        "structure": {"file": str(ZUNDEL)},
        "models": {"energy": "h5o2-energy", "density": "h5o2-density"},
        "data": {"energy": [str(files["energy"])], "density": [str(files["density"])]},
        "md": {"temperature": 600, "timestep": 0.5, "steps": 60, "field": [0, 0, 0.5], "seed": 1},
        "selection": {"every": 10, "signal": "novelty", "lo": 0.005, "hi": 0.8, "max_labels": 2, "ghost_points": 20},
        "dft": {"pyscf": CHEAP_PYSCF, "random_points": 100, "ts_points": 100},
        "retrain": {"after": 2, "epochs": 2, "lr": 1e-4,
                    "sampler": {"density": {"uniform_fraction": 0.5, "lifs_threshold": 6e-4}}},
        "budget": {"dft_calls": 2},
    }
    for name, keys in sections.items():
        values[name] = {**values.get(name, {}), **keys}
    path = folder / "learn.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def al_frame_names(path: Path) -> list[str]:
    """Names of the frames the run labelled (al_step…) in an extxyz, in file order, repeats kept."""
    names = [str(frame.info["name"]) for frame in ase.io.read(path, index=":")]
    return [name for name in names if name.startswith("al_")]


def stored_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    with CandidateStore(path) as store:
        return store.names()


def test_a_run_labels_its_candidates_adds_them_to_its_own_data_and_retrains(tmp_path, data):
    energy_before, density_before = data["energy"].read_bytes(), data["density"].read_bytes()
    config = settings_file(tmp_path, data, test={"frames": [str(data["test"])], "cubes": [str(data["cube"])]})
    run = tmp_path / "run"
    record = ActiveLearning(load_settings(config), run, progress_bar=False, echo=lambda line: None).run()

    labelled = ["al_step000010", "al_step000020"]  # every frame is a candidate; the queue holds two
    assert [(job["name"], job["status"]) for job in record.jobs] == [(name, "done") for name in labelled]
    assert record.labelled == labelled and record.queue == [] and record.stop_reason == "DFT budget of 2 calls spent"
    assert stored_names(run / "data" / "labels.h5") == labelled
    energy_copy = run / "data" / "energy" / data["energy"].name
    assert al_frame_names(energy_copy) == labelled and len(frame_names(energy_copy)) == 16 + 2
    with SampleSet(run / "data" / "density" / data["density"].name) as samples:
        assert len(samples) == 6 + 2
    assert data["energy"].read_bytes() == energy_before and data["density"].read_bytes() == density_before

    assert [r["iteration"] for r in record.retrainings] == [1] and record.retrainings[0]["new_labels"] == 2
    assert record.retrainings[0]["new_samples"] == {"density": 2}
    energy = load_model(run / "models" / "iter_001" / "energy.pt")
    assert len(energy.members) == 2 and record.models["energy"] == "models/iter_001/energy.pt"
    assert load_model(run / "models" / "iter_001" / "density.pt").head == "density"
    assert (run / "models" / "iter_001" / "novelty.h5").exists()
    assert [row["iteration"] for row in record.tests] == [0, 1]
    assert all(row["forces_rmse_meV_per_A"] > 0 and 0 < row["density_nmae_percent"] < 50 for row in record.tests)

    assert LearningRecord.load(run / "record.json").to_dict() == record.to_dict()
    triggers = record.triggers
    assert [t["step"] for t in triggers] == [10, 20] and all(0 < t["novelty"] < 0.8 for t in triggers)
    assert all(t["lo"] == 0.005 for t in triggers)
    report = json.loads((run / "report.json").read_text())
    assert report["dft"]["calls"] == report["dft"]["done"] == 2 and report["labelled_steps"] == [10, 20]
    assert (run / "report.png").stat().st_size > 10_000



def test_a_rolling_lo_follows_the_quantile_of_the_last_scored_frames(tmp_path, data):
    config = settings_file(tmp_path, data, selection={"lo": 0.002, "lo_quantile": 0.75, "lo_window": 4})
    run = ActiveLearning(load_settings(config), tmp_path / "run", progress_bar=False, echo=lambda line: None)
    assert run.current_levels().lo == 0.002  # nothing scored yet: lo as set
    run.record.triggers = [{"novelty": value} for value in (0.01, 0.03)]
    assert run.current_levels().lo == pytest.approx(0.025)  # fewer than lo_window frames: all of them
    run.record.triggers += [{"novelty": value} for value in (0.9, 0.01, 0.02, 0.03, 0.04)]
    assert run.current_levels().lo == pytest.approx(0.0325)  # the 0.75 quantile of the last four
    run.record.triggers = [{"novelty": 0.0001}] * 4
    assert run.current_levels().lo == 0.002  # never below lo



def test_held_out_files_may_be_given_as_shell_patterns(tmp_path, data):
    config = settings_file(tmp_path, data, test={"frames": [str(data["test"].parent / "test_*.extxyz")],
                                                 "cubes": [str(data["cube"].parent / "*.cube")]})
    settings = load_settings(config)
    assert settings.test.frames == [str(data["test"])] and settings.test.cubes == [str(data["cube"])]



def test_a_response_head_is_labelled_by_pyscf_in_the_mds_field_and_retrained(tmp_path, data):
    # a small, freshly built response model and two held-out frames' Δn (cheap PySCF) as its data
    from echemml.dft.labelling import LabelJob, label_molecules
    from echemml.model import FireannConfig, build_model, save_model

    response_model = tmp_path / "response.pt"
    config = FireannConfig(species=(1, 8), cutoff=4.0, n_radial=4, max_l=2, n_iterations=2, orbital_hidden=(8, 8),
                           readout_hidden=(16, 16))
    save_model(build_model(config, "response"), response_model)
    frames = {f"start_{i}": atoms for i, atoms in enumerate(ase.io.read(data["test"], index=":2"))}
    job = LabelJob(settings=PySCFSettings(**CHEAP_PYSCF), field=(0.0, 0.0, 0.5), compute_forces=False,
                   keep_candidates=True, random_points=100, ts_points=100, response=True)
    list(label_molecules(frames, job, tmp_path / "start_labels.h5"))
    samples = tmp_path / "response_samples.h5"
    assert main(["sample", "--candidates", str(tmp_path / "start_labels.h5"), "--names", "*_response",
                 "--method", "ts", "--n-points", "100", "--uniform-fraction", "0.5", "-o", str(samples),
                 "--workers", "1", "--quiet"]) == 0
    settings = settings_file(tmp_path, data, models={"energy": "h5o2-energy", "density": None,
                                                     "response": str(response_model)},
                             data={"energy": [], "density": [], "response": [str(samples)]},
                             retrain={"after": 2, "epochs": 2, "lr": 1e-4, "sampler": {}})
    run = tmp_path / "run"
    record = ActiveLearning(load_settings(settings), run, progress_bar=False, echo=lambda line: None).run()

    labelled = ["al_step000010", "al_step000020"]
    assert record.labelled == labelled
    with CandidateStore(run / "data" / "labels.h5") as store:
        assert store.names() == sorted(labelled + [f"{name}_response" for name in labelled])
        assert {store[f"{name}_response"].attrs["target"] for name in labelled} == {"response"}
    (retraining,) = record.retrainings
    assert list(retraining["heads"]) == ["response"] and retraining["new_samples"] == {"response": 2}
    with SampleSet(run / "data" / "response" / samples.name) as grown:
        assert len(grown) == 2 + 2
    assert load_model(run / "models" / "iter_001" / "response.pt").head == "response"



def test_a_labelled_fraction_caps_the_jobs_per_scored_frame_after_the_first_batch(tmp_path, data):
    # every frame is a candidate; the first batch (max_labels 2) is labelled, then at most a
    # quarter of the scored frames: the third job waits for the twelfth frame
    config = settings_file(tmp_path, data, md={"steps": 120}, budget={"dft_calls": 3, "labelled_fraction": 0.25},
                           retrain={"after": 5})
    record = ActiveLearning(load_settings(config), tmp_path / "run", progress_bar=False, echo=lambda line: None).run()
    assert [t["class"] for t in record.triggers] == ["candidate"] * 12
    assert [t["step"] for t in record.triggers if t["queued"]] == [10, 20, 120]
    assert [job["name"] for job in record.jobs] == ["al_step000010", "al_step000020", "al_step000120"]


def test_a_run_whose_frames_keep_failing_stops_and_says_why(tmp_path, data):
    # every frame above hi fails: after failed_in_row of them in a row the run stops, long before its MD is done
    config = settings_file(tmp_path, data, md={"steps": 1000}, selection={"lo": 0.001, "hi": 0.002},
                           budget={"failed_in_row": 3})
    record = ActiveLearning(load_settings(config), tmp_path / "run", progress_bar=False, echo=lambda line: None).run()
    assert [t["class"] for t in record.triggers] == ["failed"] * 3
    assert record.stop_reason.startswith("3 frames in a row failed")
    assert record.md.step == 30 and not record.jobs


def test_a_run_killed_while_labelling_resumes_without_losing_or_duplicating_a_label(tmp_path, data):
    config = settings_file(tmp_path, data, selection={"signal": "committee", "lo": 0.001, "max_labels": 3},
                           models={"density": None}, data={"density": []}, budget={"dft_calls": 3},
                           retrain={"after": 3, "sampler": {}})
    run = tmp_path / "run"
    command = [sys.executable, "-m", "echemml", "learn", str(config), "--out", str(run), "--quiet"]
    env = {**os.environ, **THREADS}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not recorded_jobs(run):
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    killed = LearningRecord.load(run / "record.json")
    assert 1 <= len(killed.jobs) < 3 and killed.labelling and killed.queue  # stopped inside the batch

    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    record = LearningRecord.load(run / "record.json")
    names = ["al_step000010", "al_step000020", "al_step000030"]
    assert [job["name"] for job in record.jobs] == names and all(job["status"] == "done" for job in record.jobs)
    assert [job["name"] for job in record.jobs[: len(killed.jobs)]] == [job["name"] for job in killed.jobs]
    assert record.labelled == names
    assert stored_names(run / "data" / "labels.h5") == names
    assert al_frame_names(run / "data" / "energy" / data["energy"].name) == names
    assert [r["new_labels"] for r in record.retrainings] == [3]
    assert len(record.sessions) == 1 and "3 labelled" in resumed.stdout


def recorded_jobs(run: Path) -> list:
    """The jobs of the run's record so far (none before it exists)."""
    try:
        return LearningRecord.load(run / "record.json").jobs
    except InputFileError:  # not written yet
        return []


def test_a_failed_dft_job_is_recorded_and_nothing_of_it_enters_the_data(tmp_path, data):
    """max_cycle 1: the SCF (and its second-order retry) cannot converge: PySCF's own failure, not a fake."""
    config = settings_file(tmp_path, data, dft={"pyscf": {**CHEAP_PYSCF, "max_cycle": 1}})
    run = tmp_path / "run"
    record = ActiveLearning(load_settings(config), run, progress_bar=False, echo=lambda line: None).run()
    assert [(job["name"], job["status"], job["error"]) for job in record.jobs] == [
        ("al_step000010", "failed", "SCF did not converge"), ("al_step000020", "failed", "SCF did not converge")]
    assert record.labelled == [] and record.queue == [] and record.retrainings == []
    assert stored_names(run / "data" / "labels.h5") == []
    assert al_frame_names(run / "data" / "energy" / data["energy"].name) == []
    with SampleSet(run / "data" / "density" / data["density"].name) as samples:
        assert len(samples) == 6
    report = json.loads((run / "report.json").read_text())
    assert report["dft"]["failed"] == 2 and report["failed_dft_steps"] == [10, 20]


def test_a_dask_local_cluster_gives_the_labels_of_the_local_pool(tmp_path, data):
    energies = {}
    for name, dft in (("pool", {"workers": 2}), ("dask", {"dask": "local", "workers": 1})):
        folder = tmp_path / name
        folder.mkdir()
        config = settings_file(folder, data, dft=dft, selection={"signal": "committee", "lo": 0.001},
                               models={"density": None}, data={"energy": [], "density": []})
        record = ActiveLearning(load_settings(config), folder / "run", progress_bar=False, echo=lambda line: None).run()
        energies[name] = {job["name"]: job["energy_eV"] for job in record.jobs if job["status"] == "done"}
        assert stored_names(folder / "run" / "data" / "labels.h5") == sorted(energies[name])
    assert sorted(energies["dask"]) == sorted(energies["pool"]) == ["al_step000010", "al_step000020"]
    for name, energy in energies["pool"].items():
        assert energies["dask"][name] == pytest.approx(energy, abs=1e-6)


@pytest.mark.parametrize("change, named", [
    ({"selection": {"signal": "novelty", "sieve": 3}}, "selection.sieve"),
    ({"selection": {"lo": 0.5, "hi": 0.1}}, "lo 0.5, hi 0.1"),
    ({"selection": {"lo_quantile": 1.5}}, "selection.lo_quantile"),
    ({"budget": {"labelled_fraction": 0.0}}, "budget.labelled_fraction"),
    ({"budget": {"failed_in_row": 0}}, "budget.failed_in_row"),
    ({"models": {"energy": "emt"}}, "emt is a universal potential, not retrained"),
    ({"md": {"steps": "many"}}, "md.steps"),
    ({"data": {"density": [str(DATA / "h5o2_labels.h5")]}}, "a candidate store"),
    ({"data": {"response": [str(DATA / "h5o2_labels.h5")]}, "md": {"field": [0, 0, 0]}}, "md.field is zero"),
    ({"dft": {"engine": "vasp"}}, "dft.engine"),
])
def test_bad_settings_stop_with_one_line_and_exit_2(tmp_path, data, capsys, change, named):
    config = settings_file(tmp_path, data, **change)
    assert main(["learn", str(config), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("echemml: error: ") and named in error
    assert str(config) in error
    assert not (tmp_path / "run").exists()


def test_a_run_folder_in_use_is_refused_and_resume_allows_only_budget_length_and_worker_changes(tmp_path, data, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    config = settings_file(tmp_path, data)
    assert main(["learn", str(config), "--out", str(run), "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err and (run / "notes.txt").read_text() == "mine"
    assert main(["learn", str(config), "--out", str(run), "--quiet", "--resume"]) == 2
    assert "no run to resume" in capsys.readouterr().err

    fresh = tmp_path / "fresh"
    first = settings_file(tmp_path, data, md={"steps": 10}, budget={"dft_calls": 1})
    assert main(["learn", str(first), "--out", str(fresh), "--quiet"]) == 0
    assert "DFT budget of 1 calls spent" in capsys.readouterr().out
    changed = settings_file(tmp_path, data, md={"steps": 20, "temperature": 300}, budget={"dft_calls": 2})
    assert main(["learn", str(changed), "--out", str(fresh), "--quiet", "--resume"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and " in md.temperature;" in error
    longer = settings_file(tmp_path, data, md={"steps": 20}, budget={"dft_calls": 2},
                           dft={"workers": 2})  # where the DFT runs may change too
    assert main(["learn", str(longer), "--out", str(fresh), "--quiet", "--resume"]) == 0
    record = LearningRecord.load(fresh / "record.json")
    assert record.md.step == 20 and [job["name"] for job in record.jobs] == ["al_step000010", "al_step000020"]
    assert [session["stopped"] for session in record.sessions] == ["DFT budget of 1 calls spent",
                                                                   "DFT budget of 2 calls spent"]


def test_the_wall_time_budget_stops_a_run_cleanly_and_a_resume_with_more_time_goes_on(tmp_path, data):
    config = settings_file(tmp_path, data, md={"steps": 10}, budget={"wall_time": 1e-6})
    run = tmp_path / "run"
    stopped = ActiveLearning(load_settings(config), run, progress_bar=False, echo=lambda line: None).run()
    assert stopped.stop_reason == "wall-time budget of 1e-06 s spent" and stopped.triggers == []
    assert json.loads((run / "report.json").read_text())["frames_scored"] == 0
    config = settings_file(tmp_path, data, md={"steps": 10}, budget={"wall_time": 600})
    record = ActiveLearning(load_settings(config), run, resume=True, progress_bar=False, echo=lambda line: None).run()
    assert record.stop_reason == "MD done: 10 steps" and [job["name"] for job in record.jobs] == ["al_step000010"]
    assert record.md.step == 10 and len(record.sessions) == 2
