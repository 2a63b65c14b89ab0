"""Secrets in plain config are refused, naming the field and `pulumi config set --secret`, and never repeated
back (issue 15 item 3); a kubeconfig path stays in the project unless the site says otherwise (item 4).

Before: a cloud key in artifact_env, a token in trainer_args, kubeconfig content pasted into
`kubeconfig.path`, a `secret_config_key` naming plain config all validated, and went in clear into the
plan JSON, the manifests and the state. The credentials below are the documented example values of each
vendor (AWS's AKIAIOSFODNN7EXAMPLE ...) or made-up ones in the vendor's format.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plan_helpers import ROOT, problems, stack_config

from lepton_infra.blueprint.secret_scan import REDACTED, redact, secret_name
from lepton_infra.cli import main

# (format, value): values in a credential format, whatever name they are written under.
CREDENTIALS = [
    ("AWS Access Key", "AKIAIOSFODNN7EXAMPLE"),
    ("AWS Access Key", "ASIAY34FZKBOKMUTVV7A"),
    ("Basic Auth Credentials", "https://admin:hunter2hunter2@minio.example.internal:9000"),
    ("GitHub Token", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("Slack Token", "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("Stripe Access Key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    (
        "JSON Web Token",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
    ),
    ("Private Key", "-----BEGIN RSA PRIVATE KEY-----"),
    (
        "Azure Storage Account access key",
        "AccountKey="
        + "lJzRc1YdHaAA2KCNJJ1tkYwF/+mKK6Ygw0NGe170Xu592euJv2wYUtBlV8z+qnlcNQSnIYVTkLWntUO1F8j8rQ==",
    ),
]
# Names that say "secret", in the spellings people use.
SECRET_NAMES = [
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_CLIENT_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "HF_TOKEN", "WANDB_API_KEY", "DB_PASSWORD", "apiKey", "api-key", "client.secret", "private_key",
    "GITHUB_TOKEN", "OSS_ACCESS_KEY_SECRET", "passwd", "db_pass", "x-auth-key", "credentials",
]  # fmt: skip
# Names that are not: the scan must not trip on them.
PLAIN_NAMES = [
    "AWS_ENDPOINT_URL", "AWS_REGION", "TOKENIZERS_PARALLELISM", "tokenizer", "AWS_ACCESS_KEY_ID_FILE_PATH",
    "keyspace", "team", "cost-center", "eks.amazonaws.com/role-arn", "azure.workload.identity/client-id",
    "monkey", "passage", "secretary-general",
]  # fmt: skip
PLAIN_VALUES = [
    "https://minio.example.internal:9000", "us-west-2", "true", "arn:aws:iam::123456789012:role/train",
    "00000000-0000-0000-0000-000000000000", "ml-platform", "4711", "s3://bucket/prefix",
]  # fmt: skip


def existing() -> dict[str, Any]:
    return copy.deepcopy(stack_config("existing-cluster"))


def aws() -> dict[str, Any]:
    return copy.deepcopy(stack_config("aws-dev"))


def issues(config: dict[str, Any]) -> dict[str, str]:
    try:
        found = problems(config)
    except BaseException as error:  # pytest.fail when it validated: report what was expected
        if "DID NOT RAISE" in str(error):
            return {}
        raise
    return {path.removeprefix("lepton-infra:platform."): m for path, m in found.items()}


PLACES = {
    "artifact_env value": lambda c, name, value: c["sites"][0]["artifact_env"].update(
        {name or "ENDPOINT": value}
    ),
    "annotation value": lambda c, name, value: c["sites"][0]["service_account_annotations"].update(
        {name or "example.com/ref": value}
    ),
    "tag value": lambda c, name, value: c["tags"].update({name or "owner": value}),
}
FIELD = {
    "artifact_env value": "sites[0].artifact_env",
    "annotation value": "sites[0].service_account_annotations",
    "tag value": "tags",
}


def _apply(place: str, name: str | None, value: str) -> dict[str, Any]:
    config = existing()
    config["sites"][0].setdefault("artifact_env", {})
    config["sites"][0].setdefault("service_account_annotations", {})
    config.setdefault("tags", {})
    PLACES[place](config, name, value)
    return config


@pytest.mark.parametrize("place", list(PLACES))
@pytest.mark.parametrize(("kind", "value"), CREDENTIALS, ids=[c[0] for c in CREDENTIALS])
def test_a_credential_format_is_refused_wherever_it_is_written(place: str, kind: str, value: str) -> None:
    if place == "tag value" and kind == "Basic Auth Credentials":
        pytest.skip("the cloud's tag rules refuse the characters first")
    found = issues(_apply(place, None, value))
    message = found.get(FIELD[place], "")
    assert "looks like a secret" in message and "pulumi config set --secret" in message, found
    assert value not in " ".join(found.values())


@pytest.mark.parametrize("place", ["artifact_env value", "tag value"])
@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_secret_name_is_refused_whatever_its_value(place: str, name: str) -> None:
    if place == "tag value" and "." in name:
        pytest.skip("not a tag key")
    if place == "artifact_env value" and not name.replace("-", "_").replace(".", "_").isidentifier():
        pytest.skip("not an environment variable name")
    found = issues(_apply(place, name, "s3cr3t-value-1234"))
    assert "its name says" in found.get(FIELD[place], ""), found
    assert "s3cr3t-value-1234" not in " ".join(found.values())


@pytest.mark.parametrize("name", PLAIN_NAMES)
@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_plain_names_and_values_pass(name: str, value: str) -> None:
    assert secret_name(name) is None
    config = (
        _apply("annotation value", name, value)
        if "/" in name
        else _apply("artifact_env value", name.upper().replace("-", "_").replace(".", "_"), value)
    )
    assert not [m for m in issues(config).values() if "looks like a secret" in m]


@pytest.mark.parametrize(
    ("args", "index"),
    [
        (["--hf-token", "hf_abcdefghijklmnopqrstuvwxyz"], 1),
        (["--hf-token=hf_abcdefghijklmnopqrstuvwxyz"], 0),
        (["--wandb-api-key", "0123456789abcdef"], 1),
        (["--password", "hunter2"], 1),
        (["--n-layer", "12", "--data", "https://u:hunter2hunter2@data.example.com/x"], 3),
        (["--batch-size", "32", "AKIAIOSFODNN7EXAMPLE"], 2),
    ],
)
def test_a_token_in_trainer_args_is_refused_at_its_index(args: list[str], index: int) -> None:
    config = aws()
    config["workloads"][0]["trainer_args"] = args
    found = issues(config)
    assert "looks like a secret" in found[f"workloads[0].trainer_args[{index}]"], found
    assert args[index].split("=")[-1] not in " ".join(found.values())


def test_trainer_args_without_secrets_pass() -> None:
    config = aws()
    config["workloads"][0]["trainer_args"] = ["--n-layer", "12", "--tokenizer", "gpt2", "--batch-size", "32"]
    assert not [m for m in issues(config).values() if "secret" in m]


def test_not_secrets_waves_a_false_positive_through_field_by_field() -> None:
    config = _apply("artifact_env value", "TOKEN_BUDGET", "1000")
    assert "sites[0].artifact_env" in issues(config)
    config["not_secrets"] = ["sites[0].artifact_env.TOKEN_BUDGET"]
    assert "sites[0].artifact_env" not in issues(config)
    config["not_secrets"].append("sites[0].artifact_env.NOPE")
    assert "names no value the secret scan reads" in issues(config)["not_secrets[1]"]


# --- kubeconfig ---------------------------------------------------------------------------------------------

KUBECONFIG_CONTENT = [
    "apiVersion: v1\nkind: Config\nclusters: []\n",
    "apiVersion: v1",
    "clusters:\n- cluster: {server: https://k8s}\n",
    "certificate-authority-data: LS0tLS1CRUdJTg==",
    "client-key-data: LS0tLS1CRUdJTg==",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "users:\n- name: admin\n  user: {token: abc}\n",
]


@pytest.mark.parametrize("content", KUBECONFIG_CONTENT)
def test_kubeconfig_content_in_path_is_refused_without_echoing_it(content: str) -> None:
    config = existing()
    config["sites"][0]["kubeconfig"] = {"path": content}
    found = issues(config)
    assert "kubeconfig's content, not a path" in found["sites[0].kubeconfig.path"]
    assert content not in " ".join(found.values())


@pytest.mark.parametrize(
    "path",
    [
        "/etc/kubernetes/admin.conf",
        "~/.kube/config",
        "../kubeconfig",
        "a/../../b",
        "C:\\kube\\config",
        "\\\\host\\c",
    ],
)
def test_a_kubeconfig_path_outside_the_project_needs_allow_outside_project(path: str) -> None:
    config = existing()
    config["sites"][0]["kubeconfig"] = {"path": path}
    assert "allow_outside_project" in issues(config)["sites[0].kubeconfig.path"]
    config["sites"][0]["kubeconfig"]["allow_outside_project"] = True
    assert "sites[0].kubeconfig.path" not in issues(config)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "..", "."]), min_size=1, max_size=8))
def test_relative_paths_are_judged_by_where_they_lead(parts: list[str]) -> None:
    from lepton_infra.blueprint.site_existing import path_leaves

    depth, lowest = 0, 0
    for part in parts:
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        lowest = min(lowest, depth)
    assert (path_leaves("/".join(parts) or ".") is not None) == (lowest < 0)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copy(
        ROOT / "stacks" / "Pulumi.existing-cluster.yaml", root / "stacks" / "Pulumi.existing-cluster.yaml"
    )
    return root


def test_a_kubeconfig_linked_from_outside_the_project_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = project / "stacks" / "Pulumi.existing-cluster.yaml"
    text = stack.read_text()
    outside = project.parent / "admin.conf"
    outside.write_text("apiVersion: v1\n")
    (project / "kube").symlink_to(outside)
    import yaml

    data = yaml.safe_load(text)
    data["config"]["lepton-infra:platform"]["sites"][0]["kubeconfig"] = {"path": "kube"}
    stack.write_text(yaml.safe_dump(data))
    code = main(["validate", "--project", str(project), "--stack", "existing-cluster"])
    err = capsys.readouterr().err
    assert code == 2 and "outside the project" in err


def test_a_secret_config_key_naming_plain_config_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    stack = project / "stacks" / "Pulumi.existing-cluster.yaml"
    data = yaml.safe_load(stack.read_text())
    data["config"]["lepton-infra:platform"]["sites"][0]["kubeconfig"] = {"secret_config_key": "kube"}
    data["config"]["lepton-infra:kube"] = "apiVersion: v1\nclusters: []\n"
    stack.write_text(yaml.safe_dump(data))
    code = main(["validate", "--project", str(project), "--stack", "existing-cluster"])
    err = capsys.readouterr().err
    assert code == 2 and "is plain config" in err and "pulumi config set --secret kube" in err
    assert "clusters: []" not in err
    data["config"]["lepton-infra:kube"] = {"secure": "v1:abc"}
    stack.write_text(yaml.safe_dump(data))
    assert main(["validate", "--project", str(project), "--stack", "existing-cluster"]) == 0
    del data["config"]["lepton-infra:kube"]
    stack.write_text(yaml.safe_dump(data))
    assert main(["validate", "--project", str(project), "--stack", "existing-cluster"]) == 2
    assert "has no config key" in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "value"), CREDENTIALS, ids=[c[0] for c in CREDENTIALS])
def test_errors_never_repeat_a_credential_even_in_fields_the_scan_does_not_read(
    kind: str, value: str
) -> None:
    """A region field echoes what it was given; a credential pasted there comes back redacted."""
    assert REDACTED in redact(f"region {value!r} is not an aws region"), kind
    config = aws()
    config["sites"][0]["region"] = value
    assert value not in " ".join(issues(config).values())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("env", {"HF_TOKEN": "hf_abcdefghijklmnopqrstuvwxyz"}),
        ("env", {"DATA_URL": "https://u:hunter2hunter2@x.io/d"}),
    ],
)
def test_a_secret_in_a_workloads_own_env_is_refused(field: str, value: dict[str, str]) -> None:
    config = aws()
    config["workloads"][0][field] = value
    found = issues(config)
    assert "looks like a secret" in found.get(f"workloads[0].{field}", ""), found
