"""IAM policy documents as typed data, serialized once the ARNs they name are known."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

# Operator → {condition key → value}; the inner map may itself be an Output when keys are computed.
Condition = Mapping[str, pulumi.Input[Mapping[str, Any]]]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: Sequence[str]
    resources: Sequence[pulumi.Input[str]] = ()
    effect: str = "Allow"
    principals: Mapping[str, pulumi.Input[str] | Sequence[pulumi.Input[str]]] = field(default_factory=dict)
    conditions: Condition = field(default_factory=dict)


def policy_document(*statements: Statement) -> pulumi.Output[str]:
    """The JSON document, resolved once every ARN inside is known (so it is a plain string to the engine)."""
    rendered = [_statement(s) for s in statements]
    return pulumi.Output.from_input(rendered).apply(
        lambda resolved: json.dumps({"Version": "2012-10-17", "Statement": resolved}, sort_keys=True)
    )


def _statement(s: Statement) -> dict[str, Any]:
    body: dict[str, Any] = {"Sid": s.sid, "Effect": s.effect, "Action": list(s.actions)}
    if s.resources:
        body["Resource"] = list(s.resources)
    if s.principals:
        body["Principal"] = dict(s.principals)
    if s.conditions:
        body["Condition"] = dict(s.conditions)
    return body
