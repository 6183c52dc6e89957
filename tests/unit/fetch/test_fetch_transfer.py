"""The resumable transfer on its own: what it asks the server and what it leaves on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from virnucpro.cli import main
from virnucpro.fetch.catalogue import ESM_NAME
from virnucpro.fetch.transfer import FetchError, download
from virnucpro.filelock import FileLock

ESM_PATH = f"/fair-esm/models/{ESM_NAME}.pt"


def test_fresh_download_reports_progress_up_to_the_total(model_server, tmp_path):
    whole = model_server.files[ESM_PATH]
    seen: list[tuple[int, int | None]] = []
    size = download(model_server.url + ESM_PATH, tmp_path / "f", progress=lambda *state: seen.append(state))
    assert size == len(whole) and (tmp_path / "f").read_bytes() == whole
    assert seen[-1] == (len(whole), len(whole))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_server_that_ignores_range_restarts_the_file_from_the_start(model_server, tmp_path):
    whole = model_server.files[ESM_PATH]
    partial = tmp_path / "f"
    partial.write_bytes(b"x" * 100)  # not the file's first bytes: they must not survive
    model_server.honour_range = False
    download(model_server.url + ESM_PATH, partial)
    assert model_server.ranges(ESM_PATH) == ["bytes=100-"]
    assert partial.read_bytes() == whole


def test_a_complete_partial_file_is_recognised_from_the_416_answer(model_server, tmp_path):
    whole = model_server.files[ESM_PATH]
    partial = tmp_path / "f"
    partial.write_bytes(whole)
    assert download(model_server.url + ESM_PATH, partial) == len(whole)
    assert model_server.ranges(ESM_PATH) == [f"bytes={len(whole)}-"]


def test_a_partial_file_longer_than_the_listed_size_is_an_error(model_server, tmp_path):
    partial = tmp_path / "f"
    partial.write_bytes(b"x" * 10)
    with pytest.raises(FetchError, match=r"holds 10 bytes but .* has 5"):
        download(model_server.url + ESM_PATH, partial, size=5)
    assert model_server.requests == []


def test_a_missing_file_is_an_http_error_that_is_not_retried(model_server, tmp_path):
    with pytest.raises(FetchError, match=r"/nothing-here: HTTP 404") as raised:
        download(model_server.url + "/nothing-here", tmp_path / "f")
    assert not raised.value.resumable
    assert not (tmp_path / "f").exists()


def test_a_run_killed_after_the_transfer_finishes_is_completed_without_downloading_again(
    model_server, tmp_path, capsys
):
    dest = tmp_path / "models"
    (dest / ".partial").mkdir(parents=True)
    for path in (ESM_PATH, f"/fair-esm/regression/{ESM_NAME}-contact-regression.pt"):
        (dest / ".partial" / Path(path).name).write_bytes(model_server.files[path])
    argv = ["fetch-models", "--dest", str(dest), "--no-progress", "--only", "esm2", *model_server.options()]
    main(argv)  # returns only on success
    assert model_server.ranges(ESM_PATH) == [f"bytes={len(model_server.files[ESM_PATH])}-"]
    assert (dest / f"{ESM_NAME}.pt").read_bytes() == model_server.files[ESM_PATH]


def test_a_second_run_into_the_same_directory_is_refused_while_one_is_running(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    with FileLock(tmp_path / "models" / ".fetch-models.lock") as lock:
        assert lock.try_acquire()
        with pytest.raises(SystemExit) as stop:
            main(["fetch-models", "--dest", str(tmp_path / "models"), "--no-progress"])
    assert stop.value.code == 1
    assert "another virnucpro fetch-models is writing here" in capsys.readouterr().err
