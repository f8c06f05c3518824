"""`locus data info`: shapes, classes and counts of MNIST-format data sets, and clear errors for
bad paths and damaged files (which the tests write themselves).

Run by CTest with the other CLI tests: `pytest tests/cli --locus build/bin/locus --plugin ...`.
"""
import gzip
import json
import struct
import subprocess

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def run(locus, *args):
    return subprocess.run([locus, *args], capture_output=True, text=True, timeout=120)


def idx_bytes(type_code, dims, payload):
    return struct.pack(">BBBB", 0, 0, type_code, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + payload


def write_split(directory, prefix, count, rows, cols, classes, compress):
    images = idx_bytes(0x08, (count, rows, cols), bytes((i * 7) % 256 for i in range(count * rows * cols)))
    labels = idx_bytes(0x08, (count,), bytes(i % classes for i in range(count)))
    for kind, data in (("images-idx3", images), ("labels-idx1", labels)):
        name = f"{prefix}-{kind}-ubyte"
        if compress:
            (directory / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (directory / name).write_bytes(data)


def assert_clean_error(result):
    assert result.returncode != 0
    assert result.stderr.startswith("locus: error: "), result.stderr
    assert "terminate" not in result.stderr and "Traceback" not in result.stderr


def test_default_is_debians_fashion_mnist(locus):
    result = run(locus, "data", "info")
    assert result.returncode == 0, result.stderr
    assert FASHION_MNIST in result.stdout
    assert "train 60000 images of 28 x 28 uint8, 10 classes" in result.stdout
    assert "test  10000 images of 28 x 28 uint8, 10 classes" in result.stdout
    assert "9: 6000" in result.stdout and "9: 1000" in result.stdout


def test_json_report(locus):
    result = run(locus, "data", "info", FASHION_MNIST, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["splits"]["train"]["shape"] == [60000, 28, 28]
    assert report["splits"]["train"]["class_counts"] == [6000] * 10
    assert report["splits"]["test"]["count"] == 10000
    assert report["splits"]["test"]["classes"] == 10


def test_any_mnist_format_directory_plain_or_gzip(locus, tmp_path):
    write_split(tmp_path, "train", 12, 4, 5, 3, compress=True)
    write_split(tmp_path, "t10k", 7, 4, 5, 3, compress=False)
    result = run(locus, "data", "info", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["splits"]["train"]["shape"] == [12, 4, 5]
    assert report["splits"]["train"]["class_counts"] == [4, 4, 4]
    assert report["splits"]["test"]["class_counts"] == [3, 2, 2]
    assert report["splits"]["test"]["labels"].endswith("t10k-labels-idx1-ubyte")


def test_one_idx_file(locus, tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, (5,), bytes([0, 1, 1, 2, 2]))))
    result = run(locus, "data", "info", str(path))
    assert result.returncode == 0, result.stderr
    assert "uint8 5 (gzip)" in result.stdout
    assert "per class: 0: 1, 1: 2, 2: 2" in result.stdout


def test_missing_path_and_empty_directory(locus, tmp_path):
    result = run(locus, "data", "info", str(tmp_path / "absent"))
    assert_clean_error(result)
    assert str(tmp_path / "absent") in result.stderr and "does not exist" in result.stderr
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert "no MNIST-format split" in result.stderr


def test_damaged_files_are_named(locus, tmp_path):
    write_split(tmp_path, "train", 10, 3, 3, 2, compress=False)
    images = tmp_path / "train-images-idx3-ubyte"
    labels = tmp_path / "train-labels-idx1-ubyte"
    good_images = images.read_bytes()

    images.write_bytes(b"\x08\x03" + good_images[2:])  # wrong magic
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert str(images) in result.stderr and "wrong magic number" in result.stderr

    images.write_bytes(good_images[:-5])  # truncated payload
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert str(images) in result.stderr and "truncated" in result.stderr

    images.unlink()  # a truncated gzip stream
    compressed = gzip.compress(good_images)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(compressed[: len(compressed) // 2])
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert "train-images-idx3-ubyte.gz" in result.stderr and "truncated" in result.stderr

    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(compressed)
    labels.write_bytes(idx_bytes(0x08, (9,), bytes(9)))  # 10 images, 9 labels
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert "10 images" in result.stderr and "9 labels" in result.stderr
    assert str(labels) in result.stderr

    labels.unlink()  # images without labels
    result = run(locus, "data", "info", str(tmp_path))
    assert_clean_error(result)
    assert "no train-labels-idx1-ubyte" in result.stderr


def test_data_requires_a_subcommand(locus):
    assert run(locus, "data").returncode == 2
