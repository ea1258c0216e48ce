"""The tests' own sites on 127.0.0.1 (faultserver.local_site): what they answer, what they log,
and that they are gone once the ``with`` block ends."""
from __future__ import annotations

import http.server
import json
import urllib.error
import urllib.request

import pytest

from faultserver import HTML, local_site


def _get(url: str | urllib.request.Request):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_dict_of_pages_is_served_as_html_other_paths_404_and_every_path_logged():
    pages = {"/": b"<p>home</p>"}
    with local_site(pages) as server:
        pages["/late/"] = "<p>caf\u00e9</p>"   # added once the address is known
        status, headers, body = _get(f"{server.base}/")
        assert (status, headers["Content-Type"], body) == (200, HTML, b"<p>home</p>")
        status, headers, body = _get(f"{server.base}/late/")
        assert (status, headers["Content-Type"], body) == (200, HTML, "<p>caf\u00e9</p>".encode("utf-8"))
        assert headers["Content-Length"] == str(len(body))   # bytes, not characters
        assert _get(f"{server.base}/missing/")[0] == 404
    assert server.paths == ["/", "/late/", "/missing/"]
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.base}/", timeout=5)


def test_a_reply_function_sees_the_request_and_its_posted_body():
    def respond(request):
        if request.path == "/none/":
            return None
        return 201, {"X-Seen": request.headers["X-Test"]}, json.dumps([request.command, request.body.decode()])

    with local_site(respond) as server:
        post = urllib.request.Request(f"{server.base}/hook", data=b"payload", headers={"X-Test": "yes"})
        status, headers, body = _get(post)
        assert (status, headers["X-Seen"], json.loads(body)) == (201, "yes", ["POST", "payload"])
        assert _get(f"{server.base}/none/")[0] == 404


def test_a_handler_class_of_a_tests_own_is_served_as_it_is():
    class Teapot(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(418)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    with local_site(Teapot) as server:
        assert _get(f"{server.base}/")[0] == 418
    assert server.paths == []   # its own handler keeps its own log
