"""Installing netbuilder as a user does: from the wheel (not the editable install `make` uses, which hid a
wheel without netbuilder.training), and the Makefile's venvs (`make run` installs the app, `make test` the rest).

The full job, a fresh venv with the tested versions and the GUI, is `make test-wheel` (.ci/test_wheel.sh).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"netbuilder": "netbuilder", "ui": "ui", "resources": "netbuilder_resources"}
BUILD_FILES = ["pyproject.toml", "setup.py", "README.md"]  # those that exist


def source_files() -> set[str]:
    """Every file of the packages as the wheel names it (resources/ installs as netbuilder_resources/)."""
    names = set()
    for folder, installed_as in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                names.add(f"{installed_as}/{path.relative_to(ROOT / folder).as_posix()}")
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    # Built from a copy: an in-tree build leaves build/ behind, whose stale files would go into later wheels,
    # and two test runs building in one checkout at once would share it.
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in PACKAGE_DIRS:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    shutil.copytree(ROOT / "docs", src / "docs", ignore=ignore)  # the user guide, shipped as netbuilder_docs
    for name in BUILD_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
                   check=True, capture_output=True)
    return next(dist.glob("netbuilder-*.whl"))


def test_the_wheel_holds_every_module_and_bundled_file(wheel):
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(source_files() - in_wheel)
    assert not missing, f"the wheel lacks {missing}: setup.py's package discovery or package-data must include them"
    for bundled in ("netbuilder/files/schema/project.schema.json", "netbuilder_resources/examples/mnist_cnn.nbproj",
                    "netbuilder_resources/data/digits.csv.gz", "netbuilder_resources/LICENSES/digits.txt"):
        assert bundled in in_wheel
    entry_points = next(n for n in in_wheel if n.endswith(".dist-info/entry_points.txt"))
    assert "netbuilder = ui.entry:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_wheel_holds_the_user_guide_help_shows(wheel):
    """Help ▸ User Guide reads docs/*.md and their pictures from netbuilder_docs in an installed wheel."""
    from ui.help.user_guide import PAGES

    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    pages = {f"netbuilder_docs/{p.name}" for p in (ROOT / "docs").glob("*.md")}
    pictures = {f"netbuilder_docs/images/{p.name}" for p in (ROOT / "docs" / "images").glob("*.png")}
    assert {f"netbuilder_docs/{name}" for name in PAGES} <= pages  # every page the guide lists first is a file
    assert sorted((pages | pictures) - in_wheel) == []
    assert [n for n in in_wheel if n.startswith("netbuilder_docs/") and n.endswith(".py")] == []  # scripts stay out


def test_the_installed_wheel_checks_an_example_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The wheel's modules come first on the path; the test venv supplies torch and the other dependencies.
    env = {**os.environ, "PYTHONPATH": str(site)}
    script = str(site / "bin" / "netbuilder")  # the console script, entering through ui.entry:main

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(args, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)

    where = run(sys.executable, "-c", "import netbuilder, ui.entry; print(netbuilder.__file__, ui.entry.__file__)")
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(site) for p in where.stdout.split()), where.stdout
    check = run(sys.executable, script, "check", "mnist_cnn")
    assert check.returncode == 0, check.stderr
    assert "mnist_cnn: OK" in check.stdout
    summary = run(sys.executable, script, "summary", "mnist_cnn")
    assert summary.returncode == 0, summary.stderr
    assert "Conv2d" in summary.stdout
    assert run(sys.executable, script, "--help").returncode == 0


def make_dry_run(target: str, venv: Path) -> list[str]:
    out = subprocess.run(["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    return out.stdout.splitlines()


def installed_extras(lines: list[str]) -> list[set[str]]:
    """The extras each `pip install ... -e '.[a,b]'` line installs."""
    return [set(m.group(1).split(",")) for line in lines if "pip install" in line
            for m in [re.search(r"\.\[([^\]]*)\]", line)] if m]


def test_make_run_installs_the_app_and_gui_only(tmp_path):
    lines = make_dry_run("run", tmp_path / "venv")
    assert installed_extras(lines) == [{"gui"}], lines
    installs = [line.split("pip install", 1)[1] for line in lines if "pip install" in line]
    assert not any(tool in args for args in installs for tool in ("test", "dev", "ruff", "lint")), installs


def test_make_test_after_make_run_adds_the_test_tools(tmp_path):
    venv = tmp_path / "venv"
    fresh = make_dry_run("test", venv)
    assert installed_extras(fresh) == [{"gui"}, {"gui", "test", "test-gui", "dev"}], fresh
    # Now as if `make run` had finished: its stamp exists, so `make test` installs only the test tools on top.
    run_stamp = next(line.split()[-1] for line in make_dry_run("run", venv) if line.startswith("touch "))
    venv.mkdir()
    Path(run_stamp).touch()
    after_run = make_dry_run("test", venv)
    assert installed_extras(after_run) == [{"gui", "test", "test-gui", "dev"}], after_run
    assert not any(" -m venv " in line for line in after_run)
    assert any(line.endswith("-m pytest -q") for line in after_run)
