"""Every figure function writes a PNG (checked by its signature bytes), atomically, and
leaves matplotlib's global state (the backend) as it found it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from echemml.analysis import plots
from echemml.analysis.profiles import integrated_map, line_scan

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size > 5_000


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_parity_plot(tmp_path, rng):
    reference = rng.random(1000)
    path = plots.parity_plot({"train": (reference, reference + 0.01 * rng.normal(size=1000))}, tmp_path / "p.png")
    assert is_png(path)


def test_learning_curve_plot(tmp_path):
    epochs = np.arange(1, 21)
    log = {"epoch": epochs, "train_loss": 1 / epochs, "val_loss": 1.2 / epochs, "lr": np.full(20, 1e-3)}
    assert is_png(plots.learning_curve_plot(log, tmp_path / "lc.png"))


def test_line_scan_plot_with_difference(tmp_path, cp2k_water):
    distance, dft = line_scan(cp2k_water, 1, 0, extend=1.0)
    assert is_png(plots.line_scan_plot(distance, {"DFT": dft, "model": dft * 1.01}, tmp_path / "l.png"))


def test_density_maps_plot(tmp_path, cp2k_water):
    u, v, column = integrated_map(cp2k_water, axis=0)
    maps = {"DFT": column, "model": column * 0.99, "difference": column * -0.01}
    assert is_png(plots.density_maps_plot(u, v, maps, tmp_path / "m.png"))


def test_bader_path_plot(tmp_path):
    coordinate = np.linspace(0.9, 2.0, 8)
    path = plots.bader_path_plot(coordinate, {"H (DFT)": np.linspace(0, 0.4, 8)}, tmp_path / "b.png")
    assert is_png(path)


def test_response_profile_plot(tmp_path):
    z = np.linspace(0, 20, 200)
    curves = {"DFT": (np.sin(z), np.cos(z)), "model": (np.sin(z) * 0.98, np.cos(z))}
    assert is_png(plots.response_profile_plot(z, curves, tmp_path / "r.png", atom_z=np.array([8.0, 10.0, 12.0])))


def test_writing_a_plot_leaves_the_matplotlib_backend_alone(tmp_path):
    # a fresh interpreter, as a notebook would be, with a backend of its own choosing
    script = (
        "import matplotlib; matplotlib.use('svg')\n"
        "from echemml.analysis import plots\n"
        f"plots.bader_path_plot([0.0, 1.0], {{'H': [0.1, 0.2]}}, {str(tmp_path / 'b.png')!r})\n"
        "print(matplotlib.get_backend())\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "svg"
    assert is_png(tmp_path / "b.png")
