"""Files reach tasks staged by Nextflow, never as host paths; models may also be hub names from local caches.

The staging run puts inputs, models, the launch directory and the work directory in four unrelated
directories, serves the reads over HTTP (a remote URI, as s3:// or gs:// would be on a cloud) and names one
model by a file:// URI. No task script may name an absolute path outside its own work directory other than
the checkpoint root, and the outputs must equal the demo run's
(summaries but for when and from which model paths they were made).
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline.helpers import (
    DEMO_READS,
    REPO,
    TEST_PROFILE_TASKS,
    NextflowRun,
    assert_same_outputs,
    pipeline_env,
    run_pipeline,
    statuses,
)

pytestmark = pytest.mark.pipeline

# an absolute path in a shell script: a word (after a space, quote, '=' or line start) that starts with '/'
# and a name character (so sed's `s/x//` is not one)
ABSOLUTE_PATH = re.compile(r"""(?:^|[\s'"=])(/[\w.~+-][^\s'"]*)""", flags=re.MULTILINE)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on localhost for a folder: (base URL, folder)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def make_models(directory: Path) -> Path:
    """The test profile's models (seed 0, the same bytes MAKE_TEST_MODELS writes)."""
    subprocess.run(
        [sys.executable, "-m", "virnucpro", "make-test-models", str(directory), "--seed", "0"],
        check=True,
        capture_output=True,
    )
    return directory


def host_paths_in_scripts(work_dir: Path) -> dict[Path, list[str]]:
    """Task directory -> the absolute paths its .command.sh names outside that directory."""
    found = {}
    for script in sorted(work_dir.glob("*/*/.command.sh")):
        paths = [
            path for path in ABSOLUTE_PATH.findall(script.read_text()) if not Path(path).is_relative_to(script.parent)
        ]
        found[script.parent] = paths
    return found


def test_inputs_models_launch_and_work_in_four_places(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path, served: tuple[str, Path]
) -> None:
    base_url, served_dir = served
    shutil.copy(DEMO_READS, served_dir / "reads.fa")
    models = make_models(tmp_path / "models")
    launch_dir, work_dir = tmp_path / "launch", tmp_path / "scratch-volume" / "work"
    run = run_pipeline(
        nextflow_bin,
        nxf_home,
        launch_dir,
        *("-profile", "test", "-w", str(work_dir), "--make_test_models", "false"),
        *("--input", f"{base_url}/reads.fa", "--sample", "demo"),
        *("--dnabert_model", str(models / "dnabert-s")),
        *("--esm_model", (models / "esm2_t2_test.pt").as_uri()),
        *("--classifier", str(models / "classifier.pth")),
    )
    assert run.returncode == 0, run.output
    assert "MAKE_TEST_MODELS" not in statuses(run)
    checkpoint_root = work_dir / "virnucpro-checkpoints"
    scripts = host_paths_in_scripts(work_dir)
    assert len(scripts) == sum(TEST_PROFILE_TASKS.values()) - 1, scripts  # every task of the run (models given)
    for task_dir, paths in scripts.items():
        outside = [path for path in paths if not Path(path).is_relative_to(checkpoint_root)]
        assert outside == [], (task_dir, (task_dir / ".command.sh").read_text())
    # only the two embedding tasks name a path outside their directory: their checkpoint folders
    named = [Path(path) for paths in scripts.values() for path in paths]
    assert sorted(path.name for path in named) == ["dnabert-s", "esm2"]
    assert_same_outputs(run, demo_run)
    assert (run.outdir / "pipeline_info" / "samplesheet.valid.csv").read_text() == (
        f"sample,reads,mate\ndemo,{base_url}/reads.fa,\n"
    )


def hub_caches(tmp_path: Path) -> dict[str, str]:
    """A Hugging Face and a torch hub cache holding the test models under hub names; their variables."""
    models = make_models(tmp_path / "downloads")
    repo = tmp_path / "hf" / "hub" / "models--virnucpro--tiny-dnabert-s"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0123abc")
    (repo / "snapshots").mkdir()
    shutil.copytree(models / "dnabert-s", repo / "snapshots" / "0123abc")
    checkpoints = tmp_path / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(models / "esm2_t2_test.pt", checkpoints / "esm2_t2_1M_UR50D.pt")
    return {"HF_HOME": str(tmp_path / "hf"), "TORCH_HOME": str(tmp_path / "torch")}


def test_hub_names_resolve_from_the_tasks_local_caches(
    demo_run: NextflowRun, nextflow_bin: str, nxf_home: Path, tmp_path: Path
) -> None:
    """Local and HPC runs: a model param that names no file is a hub name, passed as a value and found by
    the task in its caches (HF_HOME, TORCH_HOME), as the published models are once downloaded."""
    caches = hub_caches(tmp_path)
    models = tmp_path / "downloads"
    launch_dir = tmp_path / "launch"
    command = [nextflow_bin, "run", str(REPO), "-ansi-log", "false", "--outdir", str(launch_dir / "results")]
    command += ["-profile", "test", "--make_test_models", "false", "--classifier", str(models / "classifier.pth")]
    command += ["--dnabert_model", "virnucpro/tiny-dnabert-s", "--esm_model", "esm2_t2_1M_UR50D"]
    launch_dir.mkdir()
    result = subprocess.run(
        command,
        cwd=launch_dir,
        env={**pipeline_env(nxf_home), **caches},
        capture_output=True,
        text=True,
        timeout=600,
    )
    run = NextflowRun(launch_dir, launch_dir / "results", result.returncode, result.stdout + result.stderr)
    assert run.returncode == 0, run.output
    embed_scripts = {
        row["process"].split(":")[-1]: (Path(row["workdir"]) / ".command.sh").read_text()
        for row in run.trace()
        if "EMBED" in row["process"]
    }
    assert "--model virnucpro/tiny-dnabert-s " in embed_scripts["EMBED_DNABERT"]
    assert "--model esm2_t2_1M_UR50D " in embed_scripts["EMBED_ESM"]
    assert_same_outputs(run, demo_run)


CHECKPOINT_ROOTS = """
include { checkpointRoot } from '{repo}/subworkflows/local/utils_virnucpro_pipeline'

workflow {
    println("local: " + checkpointRoot(null, file('{work}'), false))
    println("given: " + checkpointRoot('{given}', file('{work}'), false))
    println("fusion: " + checkpointRoot(null, file('https://example.org/bucket/work'), true))
    println("no fusion: [" + checkpointRoot(null, file('https://example.org/bucket/work'), false) + "]")
}
"""


def test_checkpoint_root_follows_the_work_directory(nextflow_bin: str, nxf_home: Path, tmp_path: Path) -> None:
    """The root as tasks see it: a local work directory's own folder, made up front; object storage as
    Fusion shows it (/fusion/<scheme>/<bucket>/<path>; an https:// URI stands in for s3:// here, where the
    cloud plugins cannot be downloaded); without Fusion none, with a warning, so a retry starts over."""
    script = tmp_path / "roots.nf"
    given = tmp_path / "shared" / "checkpoints"
    text = CHECKPOINT_ROOTS.replace("{repo}", str(REPO)).replace("{work}", str(tmp_path / "work"))
    script.write_text(text.replace("{given}", str(given)))
    result = subprocess.run(
        [nextflow_bin, "run", str(script), "-ansi-log", "false"],
        cwd=tmp_path,
        env=pipeline_env(nxf_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [
        line for line in result.stdout.splitlines() if line.startswith(("local:", "given:", "fusion:", "no fusion:"))
    ]
    assert lines == [
        f"local: {tmp_path / 'work' / 'virnucpro-checkpoints'}",
        f"given: {given}",
        "fusion: /fusion/https/example.org/bucket/work/virnucpro-checkpoints",
        "no fusion: []",
    ]
    assert (tmp_path / "work" / "virnucpro-checkpoints").is_dir() and given.is_dir()
    assert "Fusion is off, so tasks cannot reach it" in result.stdout + result.stderr
