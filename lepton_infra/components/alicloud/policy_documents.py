"""RAM policy documents (trust, permission and OSS bucket policies) as typed data, serialized once resolved.

RAM's grammar is IAM's without ``Sid``, with ``Version: "1"`` and principals always as lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi


@dataclass(frozen=True)
class RamStatement:
    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]] = ()
    effect: str = "Allow"
    # Trust policies name the kind ({"Federated": [oidc provider ARN]}); OSS bucket policies list ids (["*"]).
    principals: Mapping[str, Sequence[pulumi.Input[str]]] | Sequence[pulumi.Input[str]] = ()
    # Operator → {condition key → value}, e.g. {"StringEquals": {"oidc:aud": "sts.aliyuncs.com"}}.
    conditions: Mapping[str, Mapping[str, pulumi.Input[Any]]] = field(default_factory=dict)


def ram_policy(*statements: RamStatement) -> pulumi.Output[str]:
    """The JSON document, a plain string to the engine once every ARN and ID inside is known."""
    bodies = [
        {
            "Effect": s.effect,
            "Action": list(s.actions),
            "Resource": list(s.resources),
            "Principal": _principals(s),
            "Condition": dict(s.conditions),
        }
        for s in statements
    ]
    return pulumi.Output.from_input(bodies).apply(
        lambda resolved: json.dumps(
            {"Version": "1", "Statement": [{k: v for k, v in body.items() if v} for body in resolved]},
            sort_keys=True,
        )
    )


def _principals(s: RamStatement) -> dict[str, list[pulumi.Input[str]]] | list[pulumi.Input[str]]:
    if isinstance(s.principals, Mapping):
        return {kind: list(names) for kind, names in s.principals.items()}
    return list(s.principals)
