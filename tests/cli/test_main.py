"""The `echemml` entry point: every verb listed, and a command loads only its own verb."""

from __future__ import annotations

import subprocess
import sys

import pytest

from echemml.cli import VERBS, main


def test_help_lists_every_verb(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--help"])
    assert stopped.value.code == 0
    listing = capsys.readouterr().out
    assert all(f"\n    {verb}" in listing for verb in VERBS)


def test_a_mistyped_verb_names_the_choices(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["respons"])
    assert stopped.value.code == 2
    assert "invalid choice: 'respons'" in capsys.readouterr().err


def test_a_command_loads_only_its_own_verb():
    # start-up time counts in `echemml response`'s benchmark: no DFT drivers, HDF5 or sampler
    script = (
        "import sys\n"
        "from echemml.cli import main\n"
        "try:\n    main(['response', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('echemml.dft', 'echemml.sampling.driver', 'h5py') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")
