"""`pinn run` of a user's own problem: a .py file or a dotted module with problem() and
recipe(), run, interrupted with Ctrl-C, resumed and reported; the run records its source's
SHA-256 and refuses to resume or report a changed one unless told to."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch
from processes import wait_for_second_stage

import pinn
from pinn import cli

USER = '''
"""u' = -u on [0, 2], u(0) = 1: exact exp(-t)."""
import torch
import pinn


def problem(n_pde: int = 32):
    return pinn.Problem(
        pinn.Time(0.0, 2.0),
        pde=lambda f: f.u_t + f.u,
        conditions=[pinn.initial(1.0, n=1)],
        n_pde=n_pde,
        exact=lambda t: torch.exp(-t),
    )


def recipe():
    return {
        "net": {"hidden": [8]},
        "stages": [pinn.Adam(steps=60, lr=1e-2), pinn.LBFGS(steps=30)],
        "log_every": 10,
    }
'''


def params(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.net.parameters()])


def test_a_file_runs_end_to_end_with_ctrl_c_resume_and_report(tmp_path, capsys):
    user = tmp_path / "decay.py"
    user.write_text(USER)
    out, whole = tmp_path / "run", tmp_path / "whole"
    longer = ["--set", "stages.1.steps=400", "--checkpoint-every", "10", "--quiet"]
    argv = [sys.executable, "-m", "pinn", "run", str(user), "--out", str(out), *longer]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_second_stage(proc, out / "checkpoints" / "last.pt")
    proc.send_signal(signal.SIGINT)  # Ctrl-C: a checkpoint at the next step, then exit 130
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "pinn resume" in err.decode(), err.decode()
    run = json.loads((out / "config.json").read_text())["run"]
    assert run["file"] == str(user) and run["module"] is None and len(run["sha256"]) == 64
    assert cli.main(["resume", str(out), "--quiet"]) == 0
    assert cli.main(["run", str(user), "--out", str(whole), *longer]) == 0
    assert torch.equal(params(pinn.load(out)), params(pinn.load(whole)))
    capsys.readouterr()
    assert cli.main(["report", str(out)]) == 0
    assert f"{out}: finished" in capsys.readouterr().out


def test_a_dotted_module_runs_and_reports_once_it_is_no_longer_importable(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("")
    (tmp_path / "mypkg" / "decay.py").write_text(USER)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    assert cli.main(["run", "mypkg.decay", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "config.json").read_text())["run"]["module"] == "mypkg.decay"
    monkeypatch.undo()  # as a later session would, from elsewhere: the recorded file serves
    for name in ("mypkg", "mypkg.decay"):
        sys.modules.pop(name, None)
    assert cli.main(["report", str(out)]) == 0
    assert pinn.load(out).error() < 0.05


@pytest.mark.parametrize("command", ["resume", "report"])
def test_a_changed_source_is_refused_by_name_unless_allowed(command, tmp_path, capsys):
    user = tmp_path / "decay.py"
    user.write_text(USER)
    out = tmp_path / "run"
    assert cli.main(["run", str(user), "--out", str(out), "--quiet"]) == 0
    user.write_text(USER.replace("f.u_t + f.u", "f.u_t + 2 * f.u"))
    capsys.readouterr()
    assert cli.main([command, str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{user} has changed since the run started" in err and "--allow-changed" in err
    assert cli.main([command, str(out), "--allow-changed"]) == 0


def test_unknown_names_list_what_is_valid(capsys):
    assert cli.main(["run", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "unknown problem 'nosuch'" in err and "poisson1d" in err and ".py" in err
    assert cli.main(["run", "no_such_package.mod"]) == 2
    assert "cannot import problem module 'no_such_package.mod'" in capsys.readouterr().err
    assert cli.main(["run", "missing.py"]) == 2
    assert "no problem file missing.py" in capsys.readouterr().err
