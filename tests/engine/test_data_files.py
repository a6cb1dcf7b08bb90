"""Data from files: MNIST-style IDX (folder or download with checksums), CSV, NumPy, image folders."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netbuilder.data import mnist
from netbuilder.data.dataset import DataError
from netbuilder.data.idx import parse_idx, read_idx, write_idx
from netbuilder.data.sources import load_dataset
from netbuilder.data.tabular import preview_csv

rng = np.random.default_rng(0)


def write_mnist_folder(folder: Path, n: int = 50, compress: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if compress else ""
    for prefix, count in (("train", n), ("t10k", n // 2)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", rng.integers(0, 256, (count, 28, 28), np.uint8),
                  compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", rng.integers(0, 10, count).astype(np.uint8),
                  compress)


def test_idx_round_trip_and_damage() -> None:
    a = rng.normal(size=(3, 4)).astype(np.float32)
    raw = bytes([0, 0, 0x0D, 2]) + (3).to_bytes(4, "big") + (4).to_bytes(4, "big") + a.astype(">f4").tobytes()
    np.testing.assert_array_equal(parse_idx(raw), a)
    with pytest.raises(DataError, match="not an IDX file"):
        parse_idx(b"PK\x03\x04junk")
    with pytest.raises(DataError, match="the file is truncated"):
        parse_idx(raw[:-5])
    with pytest.raises(DataError, match="claims"):
        parse_idx(bytes([0, 0, 8, 3]) + (100000).to_bytes(4, "big") * 3)


def test_mnist_from_a_folder_of_idx_files(tmp_path) -> None:
    write_mnist_folder(tmp_path / "plain", compress=False)
    data = load_dataset({"dataset": "mnist", "options": {"folder": str(tmp_path / "plain")}})
    assert data.x.shape == (50, 1, 28, 28) and 0 <= data.x.min() and data.x.max() <= 1
    write_mnist_folder(tmp_path / "gz")
    test = load_dataset({"dataset": "fashion-mnist", "options": {"folder": "gz", "split": "test"}},
                        base_dir=tmp_path)
    assert len(test) == 25 and test.class_names[0] == "T-shirt/top"
    (tmp_path / "plain" / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="no train-labels-idx1-ubyte"):
        load_dataset({"dataset": "mnist", "options": {"folder": str(tmp_path / "plain")}})


class _Server:
    """A local HTTP server on 127.0.0.1 serving one folder; counts its requests."""

    def __init__(self, root: Path) -> None:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        handler.log_message = lambda *a: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def served(tmp_path, monkeypatch):
    """Fake MNIST files on a local server, and a Source whose checksums match them."""
    root = tmp_path / "www"
    write_mnist_folder(root)
    digests = {f.name: ("sha256", hashlib.sha256(f.read_bytes()).hexdigest()) for f in root.iterdir()}
    server = _Server(root)
    source = mnist.Source("mnist", (server.url,), digests, mnist.MNIST.classes, "test")
    monkeypatch.setitem(mnist.SOURCES, "mnist", source)
    monkeypatch.setenv("NETBUILDER_CACHE", str(tmp_path / "cache"))
    yield server, root, source
    server.close()


def test_download_reports_progress_verifies_and_caches(served, tmp_path) -> None:
    server, root, _ = served
    seen: dict[str, tuple[int, int]] = {}
    data = load_dataset({"dataset": "mnist"}, progress=lambda name, done, total: seen.__setitem__(name, (done, total)))
    assert len(data) == 50
    assert set(seen) == {f.name for f in root.iterdir()}
    assert all(done == total > 0 for done, total in seen.values())
    cached = tmp_path / "cache" / "datasets" / "mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(seen)
    server.close()  # a second load needs no network
    assert len(load_dataset({"dataset": "mnist"})) == 50


def test_damaged_download_is_refused_and_not_kept(served, tmp_path) -> None:
    _, root, source = served
    target = root / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:-100])
    with pytest.raises(DataError, match="the download is damaged"):
        mnist.fetch(source, tmp_path / "dl")
    assert not (tmp_path / "dl" / "train-images-idx3-ubyte.gz").exists()
    assert not [p for p in (tmp_path / "dl").iterdir() if p.name.endswith((".part", ".tmp"))]  # no temp file


def test_unreachable_mirrors_tell_how_to_work_offline(served, tmp_path) -> None:
    _, _, source = served
    with pytest.raises(DataError, match="Without internet, put the four IDX files"):
        mnist.fetch(source, tmp_path / "dl", mirrors=("http://127.0.0.1:9/",))


def test_csv_features_target_and_preview(tmp_path) -> None:
    path = tmp_path / "flowers.csv"
    path.write_text("sepal,petal,colour,species\n1.0,2.0,3,setosa\n1.5,2.5,4,virginica\n0.5,1.0,3,setosa\n")
    header, rows = preview_csv(path)
    assert header == ["sepal", "petal", "colour", "species"] and len(rows) == 3
    data = load_dataset({"dataset": "csv", "options": {"path": "flowers.csv", "target": "species",
                                                       "features": ["sepal", "petal"]}}, base_dir=tmp_path)
    assert data.task == "classification" and data.class_names == ["setosa", "virginica"]
    assert data.x.tolist() == [[1.0, 2.0], [1.5, 2.5], [0.5, 1.0]] and data.y.tolist() == [0, 1, 0]
    reg = load_dataset({"dataset": "csv", "options": {"path": str(path), "target": "petal",
                                                      "features": ["sepal"]}})
    assert reg.task == "regression" and reg.y.shape == (3, 1)


@pytest.mark.parametrize(("text", "message"), [
    ("a,b\n1,\n2,3\n", r"row 2, column 'b' \(the target\) is missing a value"),
    ("a,b,c\n1,,0\n2,3,1\n", "row 2, column 'b' is missing a value"),
    ("a,b\nx,1\n", "row 2, column 'a' holds 'x', which is not a number"),
    ("a,b\n1,2,3\n", "row 2 has 3 values but the header has 2 columns"),
    ("a,b\n", "only a header row"),
    ("", "the file is empty"),
])
def test_csv_bad_input(tmp_path, text, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_dataset({"dataset": "csv", "options": {"path": str(path)}})
    with pytest.raises(DataError, match="there is no column 'z'"):
        (tmp_path / "ok.csv").write_text("a,b\n1,2\n")
        load_dataset({"dataset": "csv", "options": {"path": str(tmp_path / "ok.csv"), "target": "z"}})


def test_numpy_npz_and_npy_pairs(tmp_path) -> None:
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(20, 3)).astype(np.float32), y=rng.integers(0, 4, 20))
    data = load_dataset({"dataset": "numpy", "options": {"path": str(tmp_path / "d.npz")}})
    assert data.task == "classification" and data.x.shape == (20, 3)
    np.save(tmp_path / "x.npy", rng.normal(size=(20, 2)))
    np.save(tmp_path / "y.npy", rng.normal(size=(20, 2)))
    reg = load_dataset({"dataset": "numpy", "options": {"path": "x.npy", "targets": "y.npy"}}, base_dir=tmp_path)
    assert reg.task == "regression" and reg.y.shape == (20, 2)
    np.save(tmp_path / "ragged.npy", np.array([[1, 2], [3]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="holds Python objects"):
        load_dataset({"dataset": "numpy", "options": {"path": str(tmp_path / "ragged.npy"), "targets": "y.npy"}},
                     base_dir=tmp_path)
    with pytest.raises(DataError, match="no array named 'y'"):
        np.savez(tmp_path / "e.npz", x=np.zeros((2, 2)))
        load_dataset({"dataset": "numpy", "options": {"path": str(tmp_path / "e.npz")}})


def test_image_folder_resized_to_the_input(tmp_path) -> None:
    for label, colour in (("cats", 40), ("dogs", 200)):
        (tmp_path / "pets" / label).mkdir(parents=True)
        for k, size in enumerate(((10, 12), (30, 20))):  # ragged sizes are fine: all are resized
            Image.new("RGB", size, (colour, colour, colour)).save(tmp_path / "pets" / label / f"{k}.png")
    data = load_dataset({"dataset": "image-folder", "options": {"path": str(tmp_path / "pets")}},
                        input_shape=(1, 16, 16))
    assert data.x.shape == (4, 1, 16, 16) and data.class_names == ["cats", "dogs"]
    assert data.y.tolist() == [0, 0, 1, 1] and data.x[3].mean() > data.x[0].mean()
    (tmp_path / "pets" / "dogs" / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        load_dataset({"dataset": "image-folder", "options": {"path": str(tmp_path / "pets")}}, input_shape=(3, 8, 8))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no subfolders"):
        load_dataset({"dataset": "image-folder", "options": {"path": str(tmp_path / "empty")}})


def test_read_idx_gz_errors(tmp_path) -> None:
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"xx")[:-4])
    with pytest.raises(DataError, match="cannot read it"):
        read_idx(tmp_path / "bad.gz")


def test_cli_train_shows_download_progress(served, tmp_path, capsys) -> None:
    from netbuilder import load_project
    from netbuilder.cli import main
    from netbuilder.examples import example_path

    project = load_project(example_path("mnist_cnn"))
    project.data = {"dataset": "mnist", "options": {}}
    path = project.save(tmp_path / "m.nbproj")
    assert main(["train", str(path), "--epochs", "1"]) == 0
    err = capsys.readouterr().err
    assert "downloading train-images-idx3-ubyte.gz:" in err and "MiB" in err
