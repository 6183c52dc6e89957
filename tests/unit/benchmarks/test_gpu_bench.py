"""The one-shot GPU script, rehearsed on CPU with tiny shapes: every section runs and reports figures."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `benchmarks`

from benchmarks import gpu_bench


def test_smoke_runs_every_section_and_writes_json_and_markdown(tmp_path):
    results = gpu_bench.main(["--smoke", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "gpu_bench.json").read_text())
    page = (tmp_path / "gpu_bench.md").read_text()
    assert saved["smoke"] is True and saved["dtype"] == "float32"
    assert {name: saved[name]["status"] for name in gpu_bench.SECTIONS} == dict.fromkeys(gpu_bench.SECTIONS, "ok")
    for section in ("esm2", "dnabert"):
        rows = saved[section]["rows"]
        assert [row["mix"] for row in rows] == ["vnp300", "vnp500", "longtail"]
        assert all(row["frames"] == gpu_bench.SMOKE.frames_per_mix and row["packed_tokens_per_s"] > 0 for row in rows)
        assert all(row["packed_mfu"] is None for row in rows)  # no peak is claimed for a CPU
    runner = saved["runner"]
    assert runner["frames"] == gpu_bench.SMOKE.runner_frames and runner["naive_frames_per_s"] > 0
    assert 0 < runner["runner_fill_ratio"] <= 1
    checks = saved["checks"]
    # bfloat16 against float32 on CPU with these tiny random models: measured 0.99999; 0.999 asserted.
    assert checks["esm2_bf16_vs_fp32_min_cosine"] >= 0.999
    assert checks["dnabert_bf16_vs_fp32_min_centred_cosine"] >= 0.99
    assert checks["esm2_packed_vs_padded_min_centred_cosine"] >= 0.9999
    assert "## esm2: ok" in page and "| ESM-2 tiny | vnp300 |" in page
    assert results["command"].startswith("python benchmarks/gpu_bench.py")


def test_full_plan_fits_the_time_cap_at_half_of_the_h200_peak():
    # 3 mixes x 2048 frames x 2 layouts x 2 repeats plus 4096 runner frames, at 5.7 GFLOP per token:
    # about 2.6e16 FLOP, 52 s at 495 TFLOP/s; the rest of the 270 s cap is for start-up, compilation,
    # DNABERT-S and the GPU tests.
    seconds = gpu_bench.planned_esm2_flops(gpu_bench.FULL) / (0.5 * 990e12)
    assert 40 < seconds < 100


def test_sections_are_skipped_when_the_time_cap_is_spent(tmp_path):
    saved = gpu_bench.main(["--smoke", "--out", str(tmp_path), "--time-limit", "1"])
    assert all(saved[name]["status"].startswith("skipped: ") for name in gpu_bench.SECTIONS)
    assert json.loads((tmp_path / "gpu_bench.json").read_text())["esm2"]["status"].startswith("skipped")


def test_skip_option_and_alarm(tmp_path):
    saved = gpu_bench.main(["--smoke", "--out", str(tmp_path), *[f"--skip={s}" for s in gpu_bench.SECTIONS]])
    assert {saved[name]["status"] for name in gpu_bench.SECTIONS} == {"skipped (--skip)"}
    # the alarm ends the sleep (an event), however long the machine takes to deliver it; a sleep that ran
    # to its end would mean no alarm came
    started = time.monotonic()
    with pytest.raises(gpu_bench.SectionTimeout), gpu_bench.alarm_after(1):
        time.sleep(120)
    assert time.monotonic() - started < 120


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message given where there is no CUDA")
def test_full_run_without_cuda_says_to_use_smoke(tmp_path):
    with pytest.raises(SystemExit, match="no CUDA device here; use --smoke"):
        gpu_bench.main(["--out", str(tmp_path)])
