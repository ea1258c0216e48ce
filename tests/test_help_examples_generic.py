"""Help examples are generic or the shipped demo's: no `cuttings ... --help` names an outlet id or a site of the
West Mercia sources file (data/sources.toml) that the demo (data/demo_sources.toml) does not have; a team reads
the examples against its own sources.toml."""
import re
import tomllib
from urllib.parse import urlsplit

from click.testing import CliRunner

import pipeline
from cuttings import paths
from tests.test_cli import all_commands


def _sources(name: str) -> list[dict]:
    return tomllib.loads(paths.package_data(name).read_text(encoding="utf-8"))["source"]


def test_no_help_text_names_a_west_mercia_outlet():
    demo = {source["id"] for source in _sources("demo_sources.toml")}
    shipped = [source for source in _sources("sources.toml") if source["id"] not in demo]
    ids = {source["id"] for source in shipped}
    hosts = {urlsplit(source["home"]).netloc.removeprefix("www.") for source in shipped}
    assert "worcester-news" in ids and "worcesternews.co.uk" in hosts   # what the test looks for
    runner = CliRunner()
    found = []
    for path in [(), *(p for p, _c in all_commands())]:
        text = runner.invoke(pipeline.cli, [*path, "--help"], terminal_width=200).output
        words = set(re.findall(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", text.lower()))
        found += [(" ".join(path), word) for word in sorted(words & ids)]
        found += [(" ".join(path), host) for host in sorted(hosts) if host in text.lower()]
    assert found == []
