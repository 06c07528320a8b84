"""The fleet-report JSON Schema (docs/schemas/fleet-report-v1.schema.json) for the tests.

``errors(report)`` lists where a report does not match the schema, in its strict form: the
published schema lets a consumer ignore fields it does not know (additive changes keep v1), the
tests also refuse fields the schema does not document, so that a new field gets documented.
"""

from __future__ import annotations

import copy
import json
import os

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_PATH = os.path.join(ROOT, 'docs', 'schemas', 'fleet-report-v1.schema.json')


def load_schema():
    with open(SCHEMA_PATH, encoding='utf-8') as handle:
        return json.load(handle)


def strict(schema):
    """``schema`` with ``additionalProperties: false`` on every object that lists its properties."""
    schema = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if 'properties' in node and 'additionalProperties' not in node:
                node['additionalProperties'] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    return schema


_VALIDATOR = jsonschema.Draft202012Validator(strict(load_schema()))


def errors(report):
    """``['hosts/0/status: 'purple' is not one of [...]', ...]``; empty when ``report`` matches."""
    found = sorted(_VALIDATOR.iter_errors(report), key=lambda e: list(e.absolute_path))
    return ['%s: %s' % ('/'.join(str(p) for p in e.absolute_path) or '(top)', e.message) for e in found]


def validate_file(path):
    """:func:`errors` of the report.json at ``path`` (an unreadable file is one error)."""
    try:
        with open(path, encoding='utf-8') as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        return ['cannot read %s: %s' % (path, exc)]
    return errors(report)
