"""The words for a crawl failure carry no terminal controls: the refused URL and the error's message of a
``private_address`` row come from crawled links (a hostile page may link to an intranet address), and the
line is printed by the crawl summary, doctor and ``cuttings run`` (cuttings.failures)."""
from __future__ import annotations

from cuttings.failures import describe, private_address_warning


def test_a_refused_private_address_line_keeps_no_terminal_controls():
    errors = [{"kind": "private_address", "url": "http://10.0.0.7:8080/\x1b]52;c;aGk=\x07news",
               "message": "10.0.0.7 resolves to \x1b[2J10.0.0.8\u202e, a private or loopback address"}]
    line = private_address_warning(errors)
    assert line is not None
    assert "10.0.0.7:8080" in line and "set local = true" in line
    assert not any(char in line for char in ("\x1b", "\x07", "\u202e"))


def test_a_failure_host_keeps_no_terminal_controls():
    line = describe("timeout", "http://exa\x1b\u202emple.org\x07/page")
    assert line == "example.org did not answer in time (timeout)"


def test_a_failure_url_that_does_not_parse_is_the_site():
    """An unbalanced "[" in the host made urlsplit raise (ValueError: Invalid IPv6 URL) and the line crash."""
    assert describe("timeout", "http://example.org\x1b[31m/page") == "the site did not answer in time (timeout)"
    errors = [{"kind": "private_address", "url": "http://10.0.0.7\x1b[2J/", "message": None}]
    assert private_address_warning(errors).startswith("the crawler refused 1 request to the site, a private")
