"""Every Datasette canned query runs on the demo database, through the real Datasette server."""
import json
import subprocess
import time
import urllib.parse
import urllib.request

import pytest

from cuttings import serve
from tests.test_serve import _free_port

pytestmark = pytest.mark.slow

PARAMS = {
    "search": {"q": "fire authority"},
    "entity_coverage": {"entity": "wm_pcc", "start": "2015-01-01", "end": "2026-12-31"},
    "critical_articles": {},
    "model_quality": {},
    "label_reliability": {},
    "quotes_by": {"speaker": "Campion"},
}


@pytest.fixture(scope="module")
def demo_server(demo_db, tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo-serve")
    serve.checkpoint(demo_db)
    metadata = serve.write_metadata(demo_db, directory)
    port = _free_port()
    process = subprocess.Popen(serve.datasette_command(demo_db, metadata, port=port),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=5).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("datasette did not start: " + process.stdout.read().decode(errors="replace"))
            time.sleep(0.2)
    yield base, demo_db.stem
    process.terminate()
    process.wait(timeout=10)


def test_every_canned_query_has_test_parameters():
    assert set(PARAMS) == set(serve.CANNED_QUERIES)


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_canned_query_on_demo_database(demo_server, name):
    base, database = demo_server
    query = urllib.parse.urlencode({**PARAMS[name], "_shape": "array"})
    with urllib.request.urlopen(f"{base}/{database}/{name}.json?{query}", timeout=30) as response:
        rows = json.loads(response.read())
    assert rows, f"canned query {name} returned nothing on the demo database"
    if name == "quotes_by":
        assert all("Campion" in row["speaker"] for row in rows)
        assert {row["entity_id"] for row in rows} >= {"wm_pcc"}
    if name == "entity_coverage":
        assert all(row["published_at"][:4] >= "2015" for row in rows)
    if name == "search":
        assert len(rows) > 10
