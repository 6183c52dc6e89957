"""`virnucpro fetch-models` against a local server: what lands where, resume, refusals, and the printed
options that `predict` and the pipeline's param check accept unchanged."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import pytest
from virnucpro.fetch.catalogue import ESM_NAME
from virnucpro.params_check import check_params, param_definitions

from tests.cli_run import run

REPO = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((REPO / "nextflow_schema.json").read_text())
ESM_PATH = f"/fair-esm/models/{ESM_NAME}.pt"
PLACED = [
    "300_model.pth",
    "500_model.pth",
    "DNABERT-S/config.json",
    "DNABERT-S/pytorch_model.bin",
    "DNABERT-S/special_tokens_map.json",
    "DNABERT-S/tokenizer.json",
    "DNABERT-S/tokenizer_config.json",
    f"{ESM_NAME}-contact-regression.pt",
    f"{ESM_NAME}.pt",
]


def fetch(server, dest: Path, capsys, *extra: str) -> tuple[int, str, str]:
    return run(["fetch-models", "--dest", str(dest), "--no-progress", *server.options(), *extra], capsys)


def visible(dest: Path) -> list[str]:
    """Files under `dest` outside the hidden staging area and lock."""
    return sorted(
        str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file() and p.relative_to(dest).parts[0][0] != "."
    )


def printed(out: str, heading: str) -> list[str]:
    """The option tokens printed on the line after `heading`."""
    lines = out.splitlines()
    return shlex.split(lines[lines.index(heading) + 1])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def reads(tmp_path: Path) -> Path:
    path = tmp_path / "reads.fa"
    first, second = "ATGGCTAAAGGTCTTCCTGAACGTACCGAA" * 12, "ATGCCCGGGTTTAAACCCGGGTAA" * 10
    path.write_text(f">v1\n{first}\n>v2\n{second}\n")
    return path


def test_full_fetch_places_verified_models_and_predict_takes_the_printed_options(
    model_server, tiny_models, reads, tmp_path, capsys
):
    dest = tmp_path / "models"
    code, out, err = fetch(model_server, dest, capsys)
    assert code == 0, err
    assert visible(dest) == PLACED  # the hub's remote-code file bert_layers.py is not fetched
    assert not (dest / ".partial").exists()
    assert sha(dest / "DNABERT-S" / "pytorch_model.bin") == sha(tiny_models.dnabert_s / "pytorch_model.bin")
    assert sha(dest / f"{ESM_NAME}.pt") == sha(tiny_models.esm2)
    assert sha(dest / "500_model.pth") == sha(tiny_models.classifier)

    options = printed(out, "virnucpro predict options for 300 bp chunks:")
    assert options == [
        "--chunk-length",
        "300",
        "--dnabert",
        str(dest.resolve() / "DNABERT-S"),
        "--esm",
        str(dest.resolve() / f"{ESM_NAME}.pt"),
        "--classifier",
        str(dest.resolve() / "300_model.pth"),
    ]
    common = [str(reads), "--device", "cpu"]
    code, _, err = run(["predict", *common, *options, "--outdir", str(tmp_path / "fetched")], capsys)
    assert code == 0, err
    direct = ["--chunk-length", "300", "--dnabert", str(tiny_models.dnabert_s), "--esm", str(tiny_models.esm2)]
    direct += ["--classifier", str(tiny_models.classifier), "--outdir", str(tmp_path / "direct")]
    code, _, err = run(["predict", *common, *direct], capsys)
    assert code == 0, err
    for name in ("prediction_results.txt", "prediction_results_highestscore.csv", "reads.tsv"):
        fetched = (tmp_path / "fetched" / name).read_text()
        assert fetched == (tmp_path / "direct" / name).read_text()
    assert len((tmp_path / "fetched" / "reads.tsv").read_text().splitlines()) == 3  # header + 2 reads


def test_printed_pipeline_params_pass_the_pipelines_own_check(model_server, reads, tmp_path, capsys):
    dest = tmp_path / "models"
    code, out, err = fetch(model_server, dest, capsys)
    assert code == 0, err
    for length in (300, 500):
        tokens = printed(out, f"pipeline params for {length} bp chunks (nextflow run):")
        params = dict(zip((t.removeprefix("--") for t in tokens[::2]), tokens[1::2], strict=True))
        assert params == {
            "chunk_length": str(length),
            "dnabert_model": str(dest.resolve() / "DNABERT-S"),
            "esm_model": str(dest.resolve() / f"{ESM_NAME}.pt"),
            "classifier": str(dest.resolve() / f"{length}_model.pth"),
        }
        assert set(params) <= set(param_definitions(SCHEMA))
        defaults = {
            n: d["default"] for g in SCHEMA["$defs"].values() for n, d in g["properties"].items() if "default" in d
        }
        given = {**defaults, **params, "chunk_length": length, "input": str(reads)}
        assert check_params(given, SCHEMA) == []  # the values; the pipeline run (slow test) finds the files


def test_a_dropped_connection_is_resumed_by_the_next_run_with_a_range_request(
    model_server, tiny_models, tmp_path, capsys
):
    dest = tmp_path / "models"
    whole = tiny_models.esm2.read_bytes()
    half = len(whole) // 2
    model_server.cut_after[ESM_PATH] = half
    code, _, err = fetch(model_server, dest, capsys, "--only", "esm2", "--retries", "0")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("virnucpro: error: ")
    assert f"after {half} of {len(whole)} bytes" in err and "run again to resume" in err
    assert not (dest / f"{ESM_NAME}.pt").exists()
    assert (dest / ".partial" / f"{ESM_NAME}.pt").stat().st_size == half

    code, _, err = fetch(model_server, dest, capsys, "--only", "esm2", "--retries", "0")
    assert code == 0, err
    assert model_server.ranges(ESM_PATH) == [None, f"bytes={half}-"]
    assert (dest / f"{ESM_NAME}.pt").read_bytes() == whole


def test_a_retry_within_one_run_resumes_too(model_server, tiny_models, tmp_path, capsys):
    dest = tmp_path / "models"
    weights = model_server.hub_file("pytorch_model.bin")
    model_server.cut_after[weights] = 1000
    code, _, err = fetch(model_server, dest, capsys, "--only", "dnabert-s", "--retries", "1")
    assert code == 0, err
    assert "trying again" in err
    assert model_server.ranges(weights) == [None, "bytes=1000-"]
    assert sha(dest / "DNABERT-S" / "pytorch_model.bin") == sha(tiny_models.dnabert_s / "pytorch_model.bin")


def test_a_sha256_mismatch_fails_and_keeps_the_bytes_aside(model_server, tmp_path, capsys):
    dest = tmp_path / "models"
    weights = model_server.hub_file("pytorch_model.bin")
    good = model_server.files[weights]
    bad = bytes([good[0] ^ 1]) + good[1:]  # same size, one bit flipped
    model_server.files[weights] = bad
    code, _, err = fetch(model_server, dest, capsys, "--only", "dnabert-s")
    assert code == 1
    message = err.strip().splitlines()[-1]
    assert message.startswith(f"virnucpro: error: {model_server.url}{weights}: sha256 is ")
    assert hashlib.sha256(good).hexdigest() in message
    rejected = dest / ".partial" / "rejected" / "DNABERT-S" / "pytorch_model.bin"
    assert str(rejected) in message
    assert rejected.read_bytes() == bad
    assert not (dest / "DNABERT-S").exists()
    assert not (dest / ".partial" / "DNABERT-S" / "pytorch_model.bin").exists()

    model_server.files[weights] = good  # the next run starts that file afresh and succeeds
    code, _, err = fetch(model_server, dest, capsys, "--only", "dnabert-s")
    assert code == 0, err
    assert model_server.ranges(weights) == [None, None]
    assert (dest / "DNABERT-S" / "pytorch_model.bin").read_bytes() == good


def test_a_classifier_that_is_not_the_pinned_blob_is_refused(model_server, tmp_path, capsys):
    dest = tmp_path / "models"
    model_server.files["/virnucpro/500_model.pth"] += b"\0"
    code, _, err = fetch(model_server, dest, capsys, "--only", "classifier-500")
    assert code == 1
    assert "500_model.pth: git-blob-sha1 is " in err
    assert not (dest / "500_model.pth").exists()
    assert (dest / ".partial" / "rejected" / "500_model.pth").is_file()


def test_an_esm2_file_that_does_not_load_is_refused(model_server, tmp_path, capsys):
    """fair-esm publishes no digest: the loader is the check, and it must catch a damaged file."""
    dest = tmp_path / "models"
    model_server.files[ESM_PATH] = model_server.files[ESM_PATH][:-100]
    code, _, err = fetch(model_server, dest, capsys, "--only", "esm2")
    assert code == 1
    message = err.strip().splitlines()[-1]
    assert f"ESM-2 {ESM_NAME} was downloaded but does not load" in message
    assert "kept aside" in message
    assert sorted(p.name for p in dest.iterdir() if not p.name.startswith(".")) == []


def test_an_unreachable_server_is_one_clear_line(closed_port, tmp_path, capsys):
    url = f"http://127.0.0.1:{closed_port}"
    argv = ["fetch-models", "--dest", str(tmp_path / "m"), "--no-progress", "--retries", "0"]
    code, out, err = run([*argv, "--hf-endpoint", url, "--only", "dnabert-s"], capsys)
    assert code == 1
    assert out == ""
    lines = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(lines) == 1
    assert lines[0].startswith(f"virnucpro: error: cannot reach 127.0.0.1:{closed_port} (")
    assert "Connection refused" in lines[0] and "mirror" in lines[0]


def test_hf_endpoint_is_read_from_the_environment(model_server, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HF_ENDPOINT", f"{model_server.url}/hub")
    code, _, err = run(["fetch-models", "--dest", str(tmp_path / "m"), "--no-progress", "--only", "dnabert-s"], capsys)
    assert code == 0, err
    assert (tmp_path / "m" / "DNABERT-S" / "config.json").is_file()


def test_only_fetches_the_named_models_and_says_what_is_missing(model_server, tmp_path, capsys):
    dest = tmp_path / "models"
    code, out, err = fetch(model_server, dest, capsys, "--only", "classifier-300,esm2")
    assert code == 0, err
    assert visible(dest) == ["300_model.pth", f"{ESM_NAME}-contact-regression.pt", f"{ESM_NAME}.pt"]
    assert {path for path, _ in model_server.requests} == {
        "/virnucpro/300_model.pth",
        ESM_PATH,
        f"/fair-esm/regression/{ESM_NAME}-contact-regression.pt",
    }
    assert "  dnabert-s       not here (fetch it with --only dnabert-s)" in out
    assert printed(out, "virnucpro predict options for 300 bp chunks:") == [
        "--chunk-length",
        "300",
        "--esm",
        str(dest.resolve() / f"{ESM_NAME}.pt"),
        "--classifier",
        str(dest.resolve() / "300_model.pth"),
    ]


def test_models_already_in_place_are_kept_without_asking_the_network(model_server, tmp_path, capsys):
    dest = tmp_path / "models"
    assert fetch(model_server, dest, capsys)[0] == 0
    asked = len(model_server.requests)
    code, out, err = fetch(model_server, dest, capsys)
    assert code == 0, err
    assert len(model_server.requests) == asked
    assert "already in" in err and "virnucpro predict options for 500 bp chunks:" in out


def test_an_unknown_model_name_is_a_usage_error(tmp_path, capsys):
    code, _, err = run(["fetch-models", "--dest", str(tmp_path), "--only", "esm2,esm1b"], capsys)
    assert code == 2
    assert "unknown model esm1b; choose from dnabert-s, esm2, classifier-300, classifier-500" in err


def test_progress_bars_show_each_file_and_its_size(model_server, tiny_models, tmp_path, capsys):
    code, _, err = fetch(model_server, tmp_path / "m", capsys, "--only", "classifier-300", "--progress")
    assert code == 0, err
    kb = tiny_models.classifier.stat().st_size / 1000
    bar = next(line for line in err.splitlines() if line.startswith("300_model.pth "))
    assert f" {kb:.1f}/{kb:.1f} kB " in bar


def test_files_staged_for_another_revision_do_not_end_up_in_the_model_directory(model_server, tmp_path, capsys):
    dest = tmp_path / "models"
    (dest / ".partial" / "DNABERT-S").mkdir(parents=True)
    (dest / ".partial" / "DNABERT-S" / "model.safetensors").write_bytes(b"from an older listing")
    code, _, err = fetch(model_server, dest, capsys, "--only", "dnabert-s")
    assert code == 0, err
    assert visible(dest) == [name for name in PLACED if name.startswith("DNABERT-S/")]
