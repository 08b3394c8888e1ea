"""`echemml predict` and valence charges: a structure gets the model's, a DFT file's grid keeps the file's."""

from __future__ import annotations

import numpy as np

from echemml import DensityGrid, read_density, write_density
from echemml.cli import main


def test_prediction_on_a_dft_grid_keeps_the_file_charge_column(tmp_path, cp2k_water, capsys):
    # CP2K lists zeros: the prediction must not put the model's valence charges in their place
    coarse = DensityGrid(cp2k_water.atoms, cp2k_water.values[::3, ::3, ::3], voxel=cp2k_water.voxel * 3,
                         metadata={"nuclear_charges": np.zeros(3)})
    source, output = tmp_path / "water.cube", tmp_path / "predicted.cube"
    write_density(coarse, source)
    assert main(["predict", "qm9-density", str(source), "-o", str(output), "--threads", "1"]) == 0
    predicted = read_density(output)
    assert "valence_charges" not in predicted.metadata
    assert predicted.metadata["nuclear_charges"].tolist() == [0.0, 0.0, 0.0]


def test_shipped_models_list_the_valence_charges_they_were_trained_for():
    from echemml.model import load_model

    assert load_model("qm9-density").metadata["valence_charges"] == {"H": 1, "C": 4, "N": 5, "O": 6, "F": 7}
    assert load_model("au100-response").metadata["valence_charges"] == {"Au": 11}


def test_a_committee_may_list_its_valence_charges_in_its_members_only():
    from echemml.analysis.bader import model_valence_charges

    metadata = {"members": [{"source": "a.pt"}, {"source": "b.pt", "valence_charges": {"Au": 11}}]}
    assert model_valence_charges(metadata, ["Au", "Au"]).tolist() == [11.0, 11.0]
