"""A workaround for azure-native resources that have an ARM property called ``resource_name``."""

from __future__ import annotations

from typing import Any


def resource_kwargs(args: object) -> dict[str, Any]:
    """A typed ``...Args`` object's fields as the resource's keyword arguments.

    Such resources take that property as ``resource_name_`` (the plain name is Pulumi's logical name), yet
    unpack an ``...Args`` object under the plain name, so passing the object fails with "multiple values
    for argument 'resource_name'" (pulumi/pulumi-azure-native#921, open). Building the Args first keeps
    its checks (a misspelled field still raises); this hands the fields over under the expected names.
    """
    fields = dict(vars(args))
    if "resource_name" in fields:
        fields["resource_name_"] = fields.pop("resource_name")
    return fields
