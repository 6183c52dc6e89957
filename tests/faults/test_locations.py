"""Bad output locations and full disks: one line, exit 2 (the location given) or 1 (the disk), before the work.

Every stage checks where it will write before reading its inputs or loading a model; a disk that fills
up later fails the write, replaces nothing and leaves no partial file under any name.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest
import virnucpro.embed as embed_module
from virnucpro.cli import main
from virnucpro.embed import embed_file
from virnucpro.errors import VirnucproError
from virnucpro.io.outputs import OutputSet

from tests.faults.helpers import (
    Paused,
    contents,
    fill,
    hidden,
    read_only,
    tmpfs,
    virnucpro,
    visible,
    write_proteins,
    write_reads,
)


def run(argv: list, capsys) -> tuple[int, str]:
    """`virnucpro ARGV` in this process: exit code and stderr."""
    try:
        main([str(arg) for arg in argv])
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().err


def error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("virnucpro: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def inputs(tmp_path):
    """Reads, proteins and a file that stands where a directory is expected."""
    write_reads(tmp_path / "reads.fa", 5)
    write_proteins(tmp_path / "protein.faa", 5)
    (tmp_path / "afile").write_text("not a directory\n")
    return tmp_path


def embed(tmp_path, *extra, output=None):
    output = output or tmp_path / "out.safetensors"
    # a model that does not exist: if the location were checked after loading, that error would come first
    model, frames = tmp_path / "no-model.pt", tmp_path / "protein.faa"
    return ["embed", "--model-kind", "esm2", "--model", model, "--input", frames, "--output", output, *extra]


BAD_LOCATIONS = {
    "embed --checkpoint-dir is a file": (
        lambda t: embed(t, "--checkpoint-dir", t / "afile"),
        "--checkpoint-dir {t}/afile: exists and is not a directory",
    ),
    "embed --metrics in a missing directory": (
        lambda t: embed(t, "--metrics", t / "missing" / "m.json"),
        "--metrics {t}/missing: directory does not exist; create it first or write elsewhere",
    ),
    "embed --output in a missing directory": (
        lambda t: embed(t, output=t / "missing" / "o.safetensors"),
        "{t}/missing: directory does not exist; create it first or write elsewhere",
    ),
    "embed --output under a file": (
        lambda t: embed(t, output=t / "afile" / "o.safetensors"),
        "{t}/afile: exists and is not a directory",
    ),
    "translate --outdir is a file": (
        lambda t: ["translate", t / "reads.fa", "--chunk-length", 300, "--outdir", t / "afile"],
        "{t}/afile: exists and is not a directory",
    ),
    "shard --outdir is a file": (
        lambda t: ["shard", t / "reads.fa", "--shard-size", 2, "--outdir", t / "afile"],
        "{t}/afile: exists and is not a directory",
    ),
    "classify --output is a file": (
        lambda t: [
            "classify",
            "--dnabert",
            t / "x",
            "--esm",
            t / "y",
            "--classifier",
            t / "z",
            "--output",
            t / "afile",
        ],
        "{t}/afile: exists and is not a directory",
    ),
    "report --outdir is a file": (
        lambda t: ["report", "--scores", t / "no.tsv", "--chunks", t / "no.tsv", "--outdir", t / "afile"],
        "{t}/afile: exists and is not a directory",
    ),
    "report --outdir under a file": (
        lambda t: ["report", "--scores", t / "no.tsv", "--chunks", t / "no.tsv", "--outdir", t / "afile" / "r"],
        "{t}/afile/r: cannot be created, {t}/afile is not a directory",
    ),
}


@pytest.mark.parametrize("case", BAD_LOCATIONS)
def test_a_bad_location_is_one_line_and_exit_2_before_any_work(inputs, capsys, case):
    argv, message = BAD_LOCATIONS[case]
    code, err = run(argv(inputs), capsys)
    assert code == 2
    assert error_line(err) == f"virnucpro: error: {message.format(t=inputs)}"


def predict(tmp_path, models, outdir, *extra):
    return [
        *("predict", tmp_path / "reads.fa", "--chunk-length", 300, "--dnabert", models.dnabert_s),
        *("--esm", models.esm2, "--classifier", models.classifier, "--outdir", outdir, "--device", "cpu", *extra),
    ]


@pytest.mark.parametrize("option", ["--outdir", "--checkpoint-dir"])
def test_predict_checks_its_directories_before_translating(inputs, tiny_models, capsys, option):
    outdir = inputs / "afile" if option == "--outdir" else inputs / "out"
    extra = ["--checkpoint-dir", inputs / "afile"] if option == "--checkpoint-dir" else []
    code, err = run(predict(inputs, tiny_models, outdir, *extra), capsys)
    assert code == 2
    assert error_line(err).endswith(f"{inputs}/afile: exists and is not a directory")
    assert "translate" not in err  # nothing ran
    if option == "--checkpoint-dir":
        assert hidden(outdir) == [] and visible(outdir) == []


def read_only_cases(base: Path, models) -> dict[str, list]:
    """Commands that write into the read-only directory `base` (its subfolder `sub` exists)."""
    t = base.parent
    return {
        "translate into it": ["translate", t / "reads.fa", "--chunk-length", 300, "--outdir", base / "sub"],
        "translate, creating a folder in it": [
            "translate",
            t / "reads.fa",
            "--chunk-length",
            300,
            "--outdir",
            base / "n",
        ],
        "report, creating a folder in it": ["report", "--scores", t / "x", "--chunks", t / "x", "--outdir", base / "r"],
        "embed --output": embed(t, output=base / "o.safetensors"),
        "embed --checkpoint-dir": embed(t, "--checkpoint-dir", base / "ck"),
        "embed --metrics": embed(t, "--metrics", base / "m.json"),
        "predict --outdir": predict(t, models, base / "p"),
    }


def test_a_read_only_mount_is_refused_with_exit_2(inputs, tiny_models, capsys):
    base = inputs / "ro"
    (base / "sub").mkdir(parents=True)
    with read_only(base):
        for case, argv in read_only_cases(base, tiny_models).items():
            code, err = run(argv, capsys)
            line = error_line(err)
            assert code == 2, (case, err)
            assert "Read-only file system (EROFS)" in line or "read-only file system" in line, (case, line)
            assert str(base) in line, (case, line)
    assert visible(base / "sub") == [] and hidden(base / "sub") == []


@pytest.fixture
def denied(monkeypatch):
    """Make every create inside a directory fail with EACCES, as a directory without write permission does.

    The twin of the read-only mount for machines where mounting is not allowed (root ignores mode bits).
    """
    blocked: list[Path] = []

    def inside(path) -> bool:
        resolved = Path(os.fsdecode(path)).absolute()
        return any(resolved == b or b in resolved.parents for b in blocked)

    real_open, real_mkdir, real_access = os.open, os.mkdir, os.access

    def guarded_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    def guarded_mkdir(path, *args, **kwargs):
        if inside(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_mkdir(path, *args, **kwargs)

    def guarded_access(path, mode, **kwargs):
        return False if mode & os.W_OK and inside(path) else real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "mkdir", guarded_mkdir)
    monkeypatch.setattr(os, "access", guarded_access)
    return blocked


def test_a_directory_without_write_permission_is_refused_with_exit_2(inputs, tiny_models, capsys, denied):
    base = inputs / "denied"
    (base / "sub").mkdir(parents=True)
    denied.append(base)
    for case, argv in read_only_cases(base, tiny_models).items():
        code, err = run(argv, capsys)
        line = error_line(err)
        assert code == 2, (case, err)
        assert "Permission denied (EACCES)" in line or "permission denied" in line, (case, line)
        assert str(base) in line, (case, line)


def report_args(scores, chunks, outdir):
    return ["report", "--scores", scores, "--chunks", chunks, "--outdir", outdir, "--sample", "s"]


def scores_and_chunks(directory: Path, reads: int) -> tuple[Path, Path]:
    from tests.faults.test_output_sets import write_scores_and_chunks

    directory.mkdir(exist_ok=True)
    return write_scores_and_chunks(directory, reads)


def test_a_full_disk_fails_the_report_with_exit_1_and_replaces_nothing(tmp_path, capsys):
    small = scores_and_chunks(tmp_path / "small", 20)
    big = scores_and_chunks(tmp_path / "big", 3000)
    with tmpfs(tmp_path / "disk", "1m") as disk:
        out = disk / "out"
        assert run(report_args(*small, out), capsys)[0] == 0
        before = contents(out)
        fill(disk, leave=60_000)  # the big report needs about 400 kB
        code, err = run(report_args(*big, out), capsys)
        assert code == 1
        line = error_line(err)
        assert line.startswith(f"virnucpro: error: {out}/")  # the report file being written, by its final name
        assert ": cannot write: No space left on device (ENOSPC)" in line and f"nothing in {out} was replaced" in line
        assert contents(out) == before  # no truncated or temporary file


def test_a_write_that_fails_midway_replaces_nothing(tmp_path, capsys, monkeypatch):
    """The injected twin of the full-disk test: the third file fails after writing half of itself."""
    small = scores_and_chunks(tmp_path / "small", 20)
    big = scores_and_chunks(tmp_path / "big", 300)
    out = tmp_path / "out"
    assert run(report_args(*small, out), capsys)[0] == 0
    before = contents(out)
    written = OutputSet.write_text

    def fails_on_the_third(self, name, text):
        if len([n for n in self.names if self._temporary_path(n).exists()]) == 2:
            self._temporary_path(name).write_text(text[: len(text) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self._temporary_path(name)))
        written(self, name, text)

    monkeypatch.setattr(OutputSet, "write_text", fails_on_the_third)
    code, err = run(report_args(*big, out), capsys)
    assert code == 1
    assert error_line(err) == (
        f"virnucpro: error: {out / 'reads.tsv'}: cannot write: No space left on device (ENOSPC); "
        f"nothing in {out} was replaced"
    )
    assert contents(out) == before


def test_a_full_disk_during_translate_leaves_no_output_and_no_temporary_file(tmp_path, capsys):
    reads = write_reads(tmp_path / "reads.fa", 1500)
    with tmpfs(tmp_path / "disk", "64k") as disk:  # chunks.tsv alone needs about 120 kB
        code, err = run(["translate", reads, "--chunk-length", 300, "--outdir", disk / "t"], capsys)
        assert code == 1
        assert "No space left on device (ENOSPC)" in error_line(err)
        assert list((disk / "t").iterdir()) == []


class _FillsUp(io.BufferedWriter):
    """A file handle on a disk that fills after `room` bytes: the write fails with ENOSPC and no file name."""

    room = 20_000

    def write(self, data) -> int:
        type(self).room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def test_a_failing_translate_write_is_also_tested_without_a_mount(tmp_path, capsys, monkeypatch):
    """Twin of the tmpfs test, replacing an older set: the third file's handle runs out of room."""
    reads, out = write_reads(tmp_path / "reads.fa", 1500), tmp_path / "t"
    assert run(["translate", reads, "--chunk-length", 500, "--outdir", out], capsys)[0] == 0
    before = contents(out)
    real_open = OutputSet.open

    def open_on_a_small_disk(self, name):
        handle = real_open(self, name)
        if name == "chunks.tsv":
            handle = self._handles[-1] = _FillsUp(handle.detach())  # the set closes it as its own
        return handle

    monkeypatch.setattr(OutputSet, "open", open_on_a_small_disk)
    code, err = run(["translate", reads, "--chunk-length", 300, "--outdir", out], capsys)
    assert code == 1
    assert error_line(err) == (
        f"virnucpro: error: {out}: cannot write the translate outputs: No space left on device (ENOSPC); "
        f"nothing in {out} was replaced"
    )
    assert contents(out) == before  # the old set, whole; no temporary file


def test_embed_refuses_to_start_when_its_output_cannot_fit(tiny_models, tmp_path, capsys):
    frames = write_proteins(tmp_path / "protein.faa", 3000)  # 3000 x 64 floats: about 0.8 MB
    with tmpfs(tmp_path / "disk", "512k") as disk:
        argv = ["embed", "--model-kind", "esm2", "--model", tiny_models.esm2, "--input", frames, "--device", "cpu"]
        code, err = run([*argv, "--output", disk / "e.safetensors", "--metrics", disk / "m.json"], capsys)
    assert code == 1
    line = error_line(err)
    assert f"{disk}: the output needs about 0.8 MB but only" in line and "is free" in line
    assert "embedded" not in err  # refused before computing


def embed_to(models, frames, output, checkpoints):
    return [
        *("embed", "--model-kind", "esm2", "--model", models.esm2, "--input", frames, "--output", output),
        *("--device", "cpu", "--token-budget", 512, "--checkpoint-dir", checkpoints, "--checkpoint-every", 50),
    ]


def test_a_disk_that_fills_while_embedding_fails_the_write_and_keeps_every_vector(tiny_models, tmp_path):
    """The free-space check passed, then another program filled the disk: the output write fails."""
    frames = write_proteins(tmp_path / "protein.faa", 1000)  # an output of about 0.3 MB
    assert virnucpro(*embed_to(tiny_models, frames, tmp_path / "ref.safetensors", tmp_path / "c0")).returncode == 0
    with tmpfs(tmp_path / "disk", "1m") as disk:
        output = disk / "e.safetensors"
        paused = Paused(
            "checkpoint:esm2:piece-1", *embed_to(tiny_models, frames, output, tmp_path / "ck"), log=tmp_path / "log"
        )
        fill(disk, leave=50_000)
        failed = paused.resume()
        assert failed.returncode == 1, failed.log
        assert failed.error_line == (
            f"virnucpro: error: {output}: cannot write: No space left on device (ENOSPC); "
            f"nothing in {disk} was replaced"
        )
        assert visible(disk) == ["filler"] and hidden(disk) == []  # no partial file under any name
        (disk / "filler").unlink()
        rerun = virnucpro(*embed_to(tiny_models, frames, output, tmp_path / "ck"))
        assert rerun.returncode == 0, rerun.log
        assert "resumed 1000 of 1000 sequences" in rerun.log  # every computed vector was kept in a piece
        assert output.read_bytes() == (tmp_path / "ref.safetensors").read_bytes()


def test_a_failed_output_write_is_also_tested_without_a_mount(tiny_models, tmp_path, monkeypatch):
    """Twin of the tmpfs test: the output file's write raises ENOSPC halfway."""
    frames = write_proteins(tmp_path / "protein.faa", 120)
    real = embed_module.save_embeddings

    def half_then_full(path, table):
        path.write_bytes(b"half a file")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(embed_module, "save_embeddings", half_then_full)
    common = {"model_kind": "esm2", "model": str(tiny_models.esm2), "device": "cpu", "token_budget": 512}
    with pytest.raises(VirnucproError) as raised:
        embed_file(frames, tmp_path / "o.safetensors", **common, checkpoint_dir=tmp_path / "ck", checkpoint_every=50)
    assert str(raised.value) == (
        f"{tmp_path / 'o.safetensors'}: cannot write: No space left on device (ENOSPC); "
        f"nothing in {tmp_path} was replaced"
    )
    assert raised.value.exit_code == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["ck", "protein.faa"]
    monkeypatch.setattr(embed_module, "save_embeddings", real)
    metrics = embed_file(frames, tmp_path / "o.safetensors", **common, checkpoint_dir=tmp_path / "ck")
    assert (metrics.resumed, metrics.computed) == (120, 0)


def test_the_free_space_check_is_also_tested_without_a_mount(tiny_models, tmp_path, capsys, monkeypatch):
    """Twin of the tmpfs test: statvfs reports a nearly full disk."""
    frames = write_proteins(tmp_path / "protein.faa", 100)
    real = os.statvfs

    class Full:
        def __init__(self, stats):
            self.f_frsize, self.f_bavail, self.f_flag = stats.f_frsize, 1, stats.f_flag

    monkeypatch.setattr(os, "statvfs", lambda path: Full(real(path)))
    argv = ["embed", "--model-kind", "esm2", "--model", tiny_models.esm2, "--input", frames, "--device", "cpu"]
    code, err = run([*argv, "--output", tmp_path / "e.safetensors"], capsys)
    assert code == 1 and "the output needs about" in error_line(err)
    assert not (tmp_path / "e.safetensors").exists()
