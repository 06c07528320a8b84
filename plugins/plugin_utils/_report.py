# -*- coding: utf-8 -*-
# Copyright: cloudos.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet reports: one run over many hosts, rendered as JSON, Markdown, HTML, JUnit XML, Nagios plugin output and TAP.

Controller-only and private to this collection (the leading underscore): no compatibility
promise. The one entry point of the ``cloudos.ops.fleet_report`` action plugin:

* ``_report_model``: statuses, host entries (:func:`normalize_result`), the JSON document
  (:func:`build_report`, schema ``cloudos.ops/fleet-report/v1``);
* ``_report_markdown``, ``_report_html``, ``_report_junit``, ``_report_nagios`` (nagios and tap): the
  renderers;
* ``_report_history``: the comparison with the previous run;
* here: :data:`RENDERERS` (format -> file name and renderer) and :func:`render_all`.
"""

from __future__ import annotations

from ansible_collections.cloudos.ops.plugins.plugin_utils._report_html import render_html
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_junit import render_junit
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_markdown import render_markdown
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_nagios import render_nagios, render_tap
from ansible_collections.cloudos.ops.plugins.plugin_utils._report_model import (
    FAIL_ON, SCHEMA, ReportError, build_report, host_entry, normalize_result, reaches, render_json)

__all__ = ['FAIL_ON', 'RENDERERS', 'SCHEMA', 'ReportError', 'build_report', 'host_entry', 'normalize_result',
           'reaches', 'render_all', 'render_html', 'render_json', 'render_junit', 'render_markdown', 'render_nagios',
           'render_tap', 'DEFAULT_FORMATS']

RENDERERS = {
    'json': ('report.json', render_json),
    'markdown': ('report.md', render_markdown),
    'html': ('report.html', render_html),
    'junit': ('junit.xml', render_junit),
    'nagios': ('nagios.txt', render_nagios),
    'tap': ('report.tap', render_tap),
}
# What the action writes when formats is not given (nagios and tap on request).
DEFAULT_FORMATS = ['json', 'markdown', 'html', 'junit']


def render_all(report, formats=None):
    """``{format: (file name, text)}`` for each requested format."""
    formats = list(DEFAULT_FORMATS) if formats is None else formats
    unknown = [f for f in formats if f not in RENDERERS]
    if unknown:
        raise ReportError('formats: unknown format(s) %s; known: %s' % (', '.join(map(repr, unknown)), ', '.join(RENDERERS)))
    return dict((f, (RENDERERS[f][0], RENDERERS[f][1](report))) for f in formats)
