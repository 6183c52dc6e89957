"""`predict` killed mid-run continues when the same command is run again; leftovers are cleaned or named.

The kill is a real SIGKILL at an event: the process stops itself once the second ESM-2 checkpoint piece
is on disk (`VIRNUCPRO_PAUSE_AT=checkpoint:esm2:piece-2`), so DNABERT-S has finished and ESM-2 has not.
"""

from __future__ import annotations

import logging
import re

from virnucpro.embed import embed_file
from virnucpro.io.embeddings import read_embeddings

from tests.faults.helpers import Paused, virnucpro, visible, write_proteins, write_reads

RESUMED = re.compile(r"virnucpro.runner: resumed (\d+) of (\d+) sequences from (\d+) checkpoint piece")
REPORT = [
    "contigs.tsv",
    "prediction_results.txt",
    "prediction_results_highestscore.csv",
    "reads.tsv",
    "regions.bed",
    "report.html",
    "summary.json",
]


def predict_args(reads, models, outdir):
    return [
        *("predict", reads, "--chunk-length", 300, "--dnabert", models.dnabert_s, "--esm", models.esm2),
        *("--classifier", models.classifier, "--outdir", outdir, "--device", "cpu", "--token-budget", 512),
        *("--checkpoint-every", 20, "--sample", "s"),
    ]


def rows(folder) -> int:
    return sum(len(read_embeddings(piece).ids) for piece in folder.glob("piece-*.safetensors"))


def test_predict_killed_after_a_piece_continues_on_the_same_command(tiny_models, tmp_path):
    reads = write_reads(tmp_path / "reads.fa", 50)
    reference = virnucpro(*predict_args(reads, tiny_models, tmp_path / "ref"))
    assert reference.returncode == 0, reference.log
    frames = int(RESUMED.search(reference.log).group(2))

    out = tmp_path / "out"
    Paused("checkpoint:esm2:piece-2", *predict_args(reads, tiny_models, out), log=tmp_path / "kill.log").kill()
    (dnabert,) = (out / "checkpoints" / "dnabert-s").iterdir()
    (esm,) = (out / "checkpoints" / "esm2").iterdir()
    assert rows(dnabert) == frames  # the finished model's pieces stay until the report is written
    assert len(list(esm.glob("piece-*.safetensors"))) == 2
    esm_rows = rows(esm)
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in esm.glob("piece-*"))  # the umask (022), not 0600
    assert (out / ".virnucpro-work").is_dir()

    rerun = virnucpro(*predict_args(reads, tiny_models, out))
    assert rerun.returncode == 0, rerun.log
    assert "removing the working folder of an interrupted run" in rerun.log
    resumed = [tuple(map(int, m.groups())) for m in RESUMED.finditer(rerun.log)]
    assert resumed[0][:2] == (frames, frames)  # DNABERT-S: nothing computed again
    assert resumed[1] == (esm_rows, frames, 2) and 0 < esm_rows < frames  # ESM-2: continues after piece 2
    for name in REPORT:  # the summary and page name the intermediate files, which lie under each outdir
        expected = (tmp_path / "ref" / name).read_bytes().replace(bytes(tmp_path / "ref"), bytes(out))
        assert (out / name).read_bytes() == expected, name
    assert visible(out) == sorted([*REPORT, "multiqc"])  # pieces and working folder are gone once the report is written


def test_checkpoint_folders_of_another_input_are_named_in_the_log(tiny_models, tmp_path, caplog):
    common = {"model_kind": "esm2", "model": str(tiny_models.esm2), "device": "cpu", "token_budget": 512}
    first = write_proteins(tmp_path / "a.faa", 60, seed=1)
    embed_file(first, tmp_path / "a.safetensors", **common, checkpoint_dir=tmp_path / "ck", keep_checkpoints=True)
    (old,) = (tmp_path / "ck").iterdir()
    changed = write_proteins(tmp_path / "b.faa", 60, seed=2)
    with caplog.at_level(logging.WARNING, logger="virnucpro"):
        embed_file(changed, tmp_path / "b.safetensors", **common, checkpoint_dir=tmp_path / "ck")
    (message,) = [r.getMessage() for r in caplog.records if "checkpoint folder(s)" in r.getMessage()]
    assert message.startswith(f"{tmp_path / 'ck'} holds 1 checkpoint folder(s) of other inputs, models or settings")
    assert f"{old.name} (" in message and "A changed input leaves its old folder behind" in message
    assert message.endswith(f"rm -r {tmp_path / 'ck'}/<folder>")
    assert [p.name for p in (tmp_path / "ck").iterdir()] == [old.name]  # named, never deleted
