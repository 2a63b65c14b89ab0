"""The component reference (``docs/components.md``), generated from the code: ``python -m lepton_infra.docs``.

Every public component with its type token and docstring, the fields of its ``Args`` (type, default and
attribute docstring) and its outputs (type and attribute docstring), then every type those fields use. The
page is never edited by hand: a test regenerates it and fails when the checked-in copy is stale, and another
fails when a field or an output has no docstring.
"""
