"""The command line writing files: a folder that is not there or not writable is named, an
unexpected error is a bug report (exit 3, traceback in a log), and exports carry the project's
own weights unless told otherwise."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from platformdirs import user_log_dir

import netbuilder.cli as cli
from netbuilder.cli import main
from netbuilder.files.weights import read_weights


def _run(session_path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(session_path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """An ONNX model (made from the CNN example) imported as p.nbproj with p.safetensors beside it."""
    folder = tmp_path_factory.mktemp("imported")
    assert main(["export", "mnist_cnn", "-o", str(folder / "m.onnx")]) == 0
    assert main(["import", str(folder / "m.onnx"), "-o", str(folder / "p.nbproj")]) == 0
    return folder


# ---- folders that are not there --------------------------------------------------------------
@pytest.mark.parametrize("command", [
    ["export", "mnist_cnn", "-o", "{out}/m.onnx"],
    ["export", "mnist_cnn", "--format", "safetensors", "-o", "{out}/w.safetensors"],
    ["codegen", "mnist_cnn", "-o", "{out}/m.py"],
    ["codegen", "linear_regression", "--with-training", "-o", "{out}/m.py"],
    ["import", "{onnx}", "-o", "{out}/p.nbproj"],
], ids=["onnx", "safetensors", "codegen", "codegen-training", "import"])
def test_writing_into_a_missing_folder_names_it(command, imported, tmp_path, capsys) -> None:
    out = tmp_path / "missing" / "deeper"
    args = [a.format(out=out, onnx=imported / "m.onnx") for a in command]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"the folder {tmp_path / 'missing'} does not exist; create it or choose another folder" in err
    assert "Traceback" not in err and "cannot be exported" not in err
    assert os.listdir(tmp_path) == []


def test_train_makes_a_missing_runs_folder(tmp_path, capsys) -> None:
    out = tmp_path / "new" / "parent" / "runs"
    assert main(["train", "linear_regression", "--epochs", "1", "--out", str(out)]) == 0
    assert (out / "history.sqlite").is_file() and (out / "run-0001" / "last.safetensors").is_file()
    assert f"run saved in {out / 'run-0001'}" in capsys.readouterr().err


def test_train_into_a_read_only_folder_says_so_before_training(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "ro").mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != tmp_path / "ro" / "runs" and real_access(p, mode))
    assert main(["train", "linear_regression", "--epochs", "1", "--out", str(tmp_path / "ro" / "runs")]) == 1
    captured = capsys.readouterr()
    assert f"the folder {tmp_path / 'ro' / 'runs'} is read-only for you" in captured.err
    assert "epoch 1" not in captured.err + captured.out and "Traceback" not in captured.err


def test_a_folder_the_system_refuses_is_named_with_the_reason(tmp_path, monkeypatch, capsys) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    assert main(["train", "linear_regression", "--epochs", "1", "--out", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'runs'}: Permission denied; choose a place you can write to" in err


# ---- internal errors --------------------------------------------------------------------------
def _boom(*args: object) -> None:
    raise ValueError("zip() argument 2 is longer than argument 1")


def test_an_internal_error_exits_3_with_the_traceback_in_a_log(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(cli.LOG_DIR_ENV, str(tmp_path / "logs"))
    monkeypatch.setattr(cli, "_problems", _boom)
    assert main(["check", "mnist_cnn"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("internal error, please report it (with the log): ValueError: zip() argument 2")
    log = Path(re.search(r"the traceback is in (\S+)", err).group(1))
    assert log.parent == tmp_path / "logs"
    text = log.read_text("utf-8")
    assert "Traceback (most recent call last)" in text and "in _boom" in text and "command: check" in text


def test_the_log_goes_to_the_user_log_folder_by_default(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv(cli.LOG_DIR_ENV, raising=False)
    for var in ("XDG_STATE_HOME", "HOME", "LOCALAPPDATA", "USERPROFILE"):  # every platform's base folder
        monkeypatch.setenv(var, str(tmp_path))
    monkeypatch.setattr(cli, "_problems", _boom)
    assert main(["check", "mnist_cnn"]) == 3
    log = Path(re.search(r"the traceback is in (\S+)", capsys.readouterr().err).group(1))
    assert log.parent == Path(user_log_dir("netbuilder")) and log.is_file()


def test_input_problems_still_exit_1_not_3(tmp_path, capsys) -> None:
    (tmp_path / "bad.nbproj").write_text("{")
    assert main(["check", str(tmp_path / "bad.nbproj")]) == 1
    assert "internal error" not in capsys.readouterr().err


# ---- the project's own weights ----------------------------------------------------------------
def test_export_of_an_imported_project_keeps_its_weights_and_names_them(imported, tmp_path, capsys) -> None:
    capsys.readouterr()
    assert main(["export", str(imported / "p.nbproj"), "-o", str(tmp_path / "back.onnx")]) == 0
    assert f"with the weights in {imported / 'p.safetensors'}" in capsys.readouterr().err
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28), dtype=np.float32)
    np.testing.assert_allclose(_run(tmp_path / "back.onnx", x), _run(imported / "m.onnx", x), rtol=1e-4, atol=1e-5)
    assert main(["export", str(imported / "p.nbproj"), "--format", "safetensors",
                 "-o", str(tmp_path / "back.safetensors")]) == 0
    assert f"with the weights in {imported / 'p.safetensors'}" in capsys.readouterr().err
    back, own = read_weights(tmp_path / "back.safetensors"), read_weights(imported / "p.safetensors")
    assert back.keys() == own.keys() and all((back[k] == own[k]).all() for k in own)


def test_fresh_weights_when_asked_or_when_the_project_has_none(imported, tmp_path, capsys) -> None:
    capsys.readouterr()
    assert main(["export", str(imported / "p.nbproj"), "--fresh-weights", "-o", str(tmp_path / "fresh.onnx")]) == 0
    assert "with freshly initialised weights (as asked)" in capsys.readouterr().err
    x = np.random.default_rng(0).standard_normal((2, 1, 28, 28), dtype=np.float32)
    assert not np.allclose(_run(tmp_path / "fresh.onnx", x), _run(imported / "m.onnx", x), atol=1e-3)
    (tmp_path / "alone.nbproj").write_bytes((imported / "p.nbproj").read_bytes())  # no weights beside it
    assert main(["export", str(tmp_path / "alone.nbproj"), "--format", "safetensors",
                 "-o", str(tmp_path / "w.safetensors"), "--json"]) == 0
    captured = capsys.readouterr()
    assert "there is no alone.safetensors beside the project" in captured.out
    with pytest.raises(SystemExit) as info:
        main(["export", str(imported / "p.nbproj"), "--fresh-weights", "--weights", "w.safetensors",
              "-o", str(tmp_path / "x.onnx")])
    assert info.value.code == 2 and "not allowed with argument" in capsys.readouterr().err


def test_weights_option_wins_over_the_project_weights(imported, tmp_path, capsys) -> None:
    assert main(["export", str(imported / "p.nbproj"), "--fresh-weights", "--format", "safetensors",
                 "-o", str(tmp_path / "fresh.safetensors")]) == 0
    capsys.readouterr()
    assert main(["export", str(imported / "p.nbproj"), "--weights", str(tmp_path / "fresh.safetensors"),
                 "--format", "safetensors", "-o", str(tmp_path / "out.safetensors")]) == 0
    assert f"with the weights in {tmp_path / 'fresh.safetensors'}" in capsys.readouterr().err
    out, fresh = read_weights(tmp_path / "out.safetensors"), read_weights(tmp_path / "fresh.safetensors")
    assert all((out[k] == fresh[k]).all() for k in fresh)


def test_train_takes_one_gpu_by_its_number_as_the_project_format_does(capsys) -> None:
    """``--device cuda:1`` is what the project file and the app's device list accept; the command line too.
    Anything else is refused by name, with the devices it could have been."""
    parser = cli.build_parser()
    for device in ("auto", "cpu", "cuda", "cuda:0", "cuda:12", "mps"):
        assert parser.parse_args(["train", "p.nbproj", "--device", device]).device == device
    for wrong in ("gpu", "cuda:", "cuda:01", "cuda:x"):
        with pytest.raises(SystemExit):
            parser.parse_args(["train", "p.nbproj", "--device", wrong])
        err = capsys.readouterr().err
        assert repr(wrong) in err and "cuda:0" in err
