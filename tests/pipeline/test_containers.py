"""Container and conda set-ups cannot be built here; what can be checked is that they agree with the
package and with each other, and that the conda environment's pip part resolves."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import tomllib

from tests.pipeline.helpers import REPO

PIN = re.compile(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)")


def environment_pins() -> dict[str, str]:
    text = (REPO / "environment.yml").read_text()
    pip_part = text[text.index("- pip:") :]
    return dict(PIN.findall(pip_part))


def dockerfile_pins() -> dict[str, str]:
    text = (REPO / "Dockerfile").read_text()
    install = text[text.index("RUN python -m pip install") :].split("&&")[0]
    return dict(PIN.findall(install))


def runtime_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "python" / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~ ;\[]", requirement)[0].lower() for requirement in project["dependencies"]}


def test_docker_and_conda_pin_the_same_versions_of_every_dependency() -> None:
    assert environment_pins() == dockerfile_pins()
    assert runtime_dependencies() <= {name.lower() for name in environment_pins()}


def test_dockerfile_installs_the_package_as_the_readme_does_and_has_ps() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert "RUN python -m pip install --no-cache-dir ./python" in text
    assert re.search(r"apt-get install .*procps", text)


def test_the_versioned_container_and_the_conda_environment_are_set_once_for_every_process() -> None:
    version = re.search(r"version\s+=\s+'([^']+)'", (REPO / "nextflow.config").read_text()).group(1)
    base = (REPO / "conf" / "base.config").read_text()
    assert f"container     = 'ghcr.io/virnucpro/virnucpro:{version}'" in base
    assert 'conda         = "${projectDir}/environment.yml"' in base
    modules = sorted((REPO / "modules" / "local").glob("*/main.nf"))
    assert [module.parent.name for module in modules] == [
        "check_input",
        "classify",
        "embed",
        "make_test_models",
        "multiqc",
        "report",
        "shard",
        "translate",
    ]
    for module in modules:
        text = module.read_text()
        assert "container" not in text and "conda" not in text, module
        assert "stub:" in text and "versions.yml" in text, module


@pytest.mark.second_tier
def test_conda_environment_pip_part_resolves(tmp_path) -> None:
    """Asks PyPI to resolve the pins together (downloads metadata only; needs the package registry)."""
    pins = [f"{name}=={version}" for name, version in environment_pins().items()]
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
    command += ["--report", str(tmp_path / "report.json"), *pins]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
