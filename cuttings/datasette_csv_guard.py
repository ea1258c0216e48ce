"""Datasette plugin: Datasette's own CSV export guarded against spreadsheet formulas.

Crawled text is untrusted. A headline such as ``=HYPERLINK("http://evil.example", "x")`` or
``@SUM(1+1)*cmd|' /C calc'!A0`` in a CSV opened in Excel or LibreOffice runs as a formula.
This plugin (an ``asgi_wrapper`` hook, registered under the ``datasette`` entry point in
setup.cfg) rewrites every CSV response Datasette sends (``.csv`` and ``?_format=csv``,
streamed or not): a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
return (also past leading spaces and invisible characters, and in their fullwidth forms
such as ``＝``: :func:`cuttings.redaction.formula_like`, the test ``cuttings export`` uses)
gets a leading apostrophe, the OWASP advice. Plain numbers (``-3``, ``+4.5``) are left
alone. JSON and HTML are untouched.
"""
from __future__ import annotations

import csv
import io
import re

from cuttings.redaction import formula_like

try:
    from datasette import hookimpl
except ImportError:  # the module is importable without Datasette (tests of guard_cell)
    def hookimpl(function):
        return function

NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def guard_cell(value: str) -> str:
    """The cell as a spreadsheet will read it as text, never as a formula."""
    if formula_like(value) and not NUMBER.match(value):
        return "'" + value
    return value


def guard_csv(text: str) -> str:
    """Rewrite complete CSV records (Datasette writes them with csv.writer, ``\\r\\n`` ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text, newline="")):
        writer.writerow([guard_cell(cell) for cell in row])
    return out.getvalue()


def _complete_prefix(text: str) -> int:
    """Length of the longest prefix of ``text`` made of complete CSV records (a record ends at a
    newline outside quotes; quotes inside fields are doubled, so quote parity tells)."""
    end, inside = 0, False
    for index, char in enumerate(text):
        if char == '"':
            inside = not inside
        elif char == "\n" and not inside:
            end = index + 1
    return end


def _is_csv(scope) -> bool:
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    return path.endswith(".csv") or "_format=csv" in query


class CsvFormulaGuard:
    """ASGI middleware rewriting CSV response bodies record by record (works with ``_stream=1``)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or not _is_csv(scope):
            return await self.app(scope, receive, send)
        state = {"csv": False, "pending": "", "charset": "utf-8"}

        async def guarded_send(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                content_type = dict((k.lower(), v) for k, v in headers).get(b"content-type", b"").decode("latin-1")
                state["csv"] = message.get("status") == 200 and content_type.startswith(("text/csv", "text/plain"))
                return await send({**message, "headers": headers} if state["csv"] else message)
            if message["type"] != "http.response.body" or not state["csv"]:
                return await send(message)
            text = state["pending"] + message.get("body", b"").decode("utf-8", "surrogateescape")
            more = message.get("more_body", False)
            cut = _complete_prefix(text) if more else len(text)
            state["pending"] = text[cut:]
            body = guard_csv(text[:cut]).encode("utf-8", "surrogateescape") if cut else b""
            return await send({**message, "body": body})

        return await self.app(scope, receive, guarded_send)


@hookimpl
def asgi_wrapper(datasette):
    return CsvFormulaGuard
