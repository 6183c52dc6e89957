"""The carried wheels: which modules a wheel provides, and only the missing ones are unpacked."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from benchmarks import gpu_deps


def make_wheel(directory: Path, name: str, files: dict[str, str]) -> Path:
    wheel = directory / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
        archive.writestr(f"{name}-1.0.dist-info/METADATA", "Name: x\n")
    return wheel


def test_top_level_names_are_packages_and_modules_not_metadata(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "demo", {"demo_pkg/__init__.py": "", "demo_mod.py": "", "demo.libs/libx.so": "", "d-1.0.data/x": ""}
    )
    assert gpu_deps.top_level_names(wheel) == {"demo_pkg", "demo_mod"}


def test_only_wheels_with_missing_modules_are_unpacked_and_then_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    make_wheel(wheels, "present", {"json/__init__.py": "raise ImportError('must not be unpacked')"})
    make_wheel(wheels, "absent", {"vnp_gpu_deps_probe/__init__.py": "VALUE = 42\n"})
    target = tmp_path / "deps"
    assert gpu_deps.unpack_missing(wheels, target) == ["absent-1.0-py3-none-any.whl"]
    assert not (target / "json").exists()
    assert (target / "vnp_gpu_deps_probe" / "__init__.py").read_text() == "VALUE = 42\n"
    assert gpu_deps.unpack_missing(wheels, target) == []  # a second run finds it unpacked
