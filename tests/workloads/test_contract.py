"""The platform/workload contract: one module, importable alone, and what each side spells agrees with it.

``lepton_infra.contract`` is what the workload images carry of the library; the Dockerfiles, which cannot
import it, are read here and held to it: what they copy, the ports they expose, the variables they set.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
import uvicorn.config
from dockerfiles import copied_files, instructions
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lepton_infra.blueprint.workloads import InferenceWorkloadSpec, TrainingWorkloadSpec
from lepton_infra.components.kubernetes.alerts import serving_rules, training_rules
from lepton_infra.contract import (
    CHECKPOINT_DIR_ENV,
    COMPLETIONS_PATH,
    RENDEZVOUS_PORT,
    SERVE_PORT,
    SERVE_QUEUE_DEPTH_METRIC,
    TRAIN_METRICS_PORT,
    ServeExit,
    export_name,
    export_path,
    named_export_path,
)
from workloads.serve.metrics import Metrics
from workloads.train.progress import TrainMetrics

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("lepton_infra", "workloads")
# What each image runs: its entry point and whatever its build step imports to prove the copy complete.
IMAGES = {
    "train": ("workloads.train.__main__", "workloads.train.cli", "workloads.train.launch"),
    "serve": ("workloads.serve.__main__", "workloads.serve.server"),
}


def _instructions(image: str, keyword: str) -> list[str]:
    return instructions(ROOT / "workloads" / image / "Dockerfile", keyword)


def _copied_files(image: str) -> set[Path]:
    return copied_files(ROOT / "workloads" / image / "Dockerfile")


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> Iterable[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module, f"{path}: a relative import"
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _first_party_closure(modules: Iterable[str]) -> set[Path]:
    """Files of every first-party module (and of the packages around it) the modules import, lazily too."""
    files: set[Path] = set()
    pending = list(modules)
    while pending:
        parts = pending.pop().split(".")
        if parts[0] not in FIRST_PARTY:
            continue
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py
            path = _module_file(".".join(parts[:depth]))
            if path is not None and path not in files:
                files.add(path)
                pending.extend(_imported_modules(path))
    return files


def test_the_contract_imports_nothing_but_the_standard_library(tmp_path: Path) -> None:
    # The two files exactly as the images hold them, in an interpreter that sees no site-packages (-S)
    # and no environment (-I): a third-party import would fail, a first-party one could not be found.
    package = tmp_path / "lepton_infra"
    package.mkdir()
    for name in ("__init__.py", "contract.py"):
        shutil.copy(ROOT / "lepton_infra" / name, package / name)
    probe = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        "before = set(sys.modules)\n"
        "import lepton_infra.contract\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    ours = {"lepton_infra", "lepton_infra.contract"}
    loaded = set(json.loads(result.stdout))
    assert ours <= loaded
    assert not {m for m in loaded - ours if m.split(".")[0] not in sys.stdlib_module_names}
    assert not {"pulumi", "pydantic", "torch", "yaml"} & {m.split(".")[0] for m in loaded}


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_copies_every_module_it_imports_and_of_the_library_only_the_contract(image: str) -> None:
    needed = _first_party_closure(IMAGES[image])
    copied = _copied_files(image)

    assert ROOT / "lepton_infra" / "contract.py" in needed
    missing = sorted(p.relative_to(ROOT).as_posix() for p in needed - copied)
    assert not missing, f"the {image} image lacks {missing}"
    library = {p.relative_to(ROOT).as_posix() for p in copied if p.is_relative_to(ROOT / "lepton_infra")}
    assert library == {"lepton_infra/__init__.py", "lepton_infra/contract.py"}


# What an image takes from its base image (pytorch/pytorch, pinned by digest) rather than installing itself:
# torch, so that the CUDA build that runs is the one NVIDIA and PyTorch tested.
FROM_BASE_IMAGE = {"torch"}


def _distribution(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503's normalised name


def _pins(lines: Iterable[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for token in (token for line in lines for token in line.split("#")[0].split()):
        if "==" in token:
            name, version = token.split("==", 1)
            pins[_distribution(name)] = version
    return pins


def _installed(image: str) -> dict[str, str]:
    """Each distribution the image's ``pip install`` lines install, and its pinned version."""
    lines: list[str] = []
    for arguments in _instructions(image, "RUN"):
        if "pip install" in arguments:
            lines.append(arguments)
            if "-r /tmp/storage-requirements.txt" in arguments:
                lines += (ROOT / "workloads" / "storage-requirements.txt").read_text().splitlines()
    return _pins(lines)


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_each_image_installs_every_package_its_modules_import_at_the_versions_ci_tests(image: str) -> None:
    """Issue 20 added safetensors to both images: a module that imports a package its image does not
    install fails only when the image is built, or at run time for a lazy import; a version other than
    constraints.txt's is one no test ran against."""
    installed = _installed(image)
    distributions = importlib.metadata.packages_distributions()
    imported = {
        module.split(".")[0]
        for path in _first_party_closure(IMAGES[image])
        for module in _imported_modules(path)
    }
    third_party = {top for top in imported if top not in sys.stdlib_module_names and top not in FIRST_PARTY}
    needed = {_distribution(distributions.get(top, [top])[0]) for top in third_party - {"__future__"}}
    missing = sorted(needed - FROM_BASE_IMAGE - set(installed))
    assert not missing, f"the {image} image does not install {missing}"
    tested = _pins((ROOT / "constraints.txt").read_text().splitlines())
    untested = {name: version for name, version in installed.items() if tested.get(name, version) != version}
    assert not untested, f"the {image} image pins other versions than constraints.txt: {untested}"


def test_the_library_package_itself_imports_nothing() -> None:
    # The images carry lepton_infra/__init__.py: anything it imported would have to come along.
    tree = ast.parse((ROOT / "lepton_infra" / "__init__.py").read_text())
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


def test_the_images_expose_the_contracts_ports_and_default_its_checkpoint_variable() -> None:
    assert _instructions("train", "EXPOSE") == [f"{TRAIN_METRICS_PORT} {RENDEZVOUS_PORT}"]
    assert _instructions("serve", "EXPOSE") == [str(SERVE_PORT)]
    assert _instructions("serve", "CMD") == [f'["--port", "{SERVE_PORT}"]']
    for image in IMAGES:
        [environment] = _instructions(image, "ENV")
        assert f" {CHECKPOINT_DIR_ENV}=/checkpoints" in f" {environment}"


def test_the_status_for_a_port_the_server_cannot_listen_on_is_uvicorns() -> None:
    assert uvicorn.config.STARTUP_FAILURE == ServeExit.CANNOT_LISTEN


def _queried(expressions: Iterable[str]) -> dict[str, set[str]]:
    """Each workload metric the expressions query, and the label names they select on (not target labels)."""
    queried: dict[str, set[str]] = {}
    for expression in expressions:
        for name, selector in re.findall(r"\b(lepton_[a-z0-9_]+)(?:\{([^}]*)\})?", expression):
            labels = set(re.findall(r"(\w+)\s*[=!]~?", selector)) - {"namespace", "service"}
            queried.setdefault(name, set()).update(labels)
    return queried


def _exported(exposition: str) -> dict[str, set[str]]:
    exported: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    return exported


def test_every_metric_and_label_the_platforms_alerts_query_is_one_the_workloads_export() -> None:
    common = {"sites": ["a"], "image": {"repository": "lepton/app", "digest": "sha256:" + "0" * 64}}
    training = TrainingWorkloadSpec.model_validate(
        {"kind": "training", "name": "pretrain", "accelerator": "H100", "max_steps": 10, **common}
    )
    serving = InferenceWorkloadSpec.model_validate(
        {"kind": "inference", "name": "serve", "accelerator": "L4", **common}
    )
    trainer = TrainMetrics(with_mfu=False)
    server = Metrics()
    server.record_request(COMPLETIONS_PATH, 500, 0.1)  # a labelled series only shows once it has a value
    exported = {
        **_exported(generate_latest(trainer.registry).decode()),
        **_exported(server.render().decode()),
    }
    queried = _queried(rule.expr for rule in [*training_rules(training), *serving_rules(serving)])

    assert len(queried) == 3
    for name, labels in queried.items():
        assert name in exported, f"an alert queries {name}, which no workload exports"
        assert labels <= exported[name], f"an alert selects {name} on {labels - exported[name]}"
    # The autoscaler's documented per-pod metric, too.
    assert SERVE_QUEUE_DEPTH_METRIC in exported


@pytest.mark.parametrize(
    "name", ["../step-00000001", "step-00000001/..", "step-00000001\n", "step-1", "latest", "/etc"]
)
def test_an_exports_name_read_from_a_marker_is_never_a_path(name: str) -> None:
    """``export/latest`` is data read from a bucket: the path it leads to stays under ``export/``."""
    with pytest.raises(ValueError, match="not an export's name"):
        named_export_path("s3://bucket/run", name)


def test_the_export_a_marker_names_is_where_the_trainer_writes_it() -> None:
    for step in (0, 42, 123456789):
        assert named_export_path("s3://bucket/run/", export_name(step)) == export_path(
            "s3://bucket/run", step
        )
