"""`cuttings doctor` prints stored crawl errors, warnings and names from configuration: what it prints is
stripped of C0/C1 controls and bidi overrides (``cuttings.redaction.strip_controls``, the helper the label
screen and failures.py use), and a line break in a stored message cannot start a false check line. The JSON
output is unchanged (json.dumps escapes every control)."""
import json

from cuttings import store
from cuttings.redaction import CONTROL_CHARS
from tests.conftest import invoke_cli
from tests.test_doctor import add_run, add_source_run

# OSC 52 (writes some terminals' clipboard), C1 CSI (U+009B), a right-to-left override, a bell
HOSTILE = "\x1b]52;c;Y3V0dGluZ3M=\x07dropped \x9b31mred\u202egnp.exe\r\n[ok  ] all fine"


def test_doctor_strips_controls_from_stored_warnings_and_source_names(tmp_path):
    db = store.connect(tmp_path / "d.db")
    for n in range(5):
        run_id = add_run(db, f"2026-11-{19 + n}T02:30:00Z", command="crawl (run)")
        add_source_run(db, run_id, "evil\u202eoutlet\x1b[2J", 0 if n == 4 else 2, errors=7 if n == 4 else 0,
                       warning=HOSTILE if n == 4 else None)
    db.conn.close()
    sources = tmp_path / "sources.toml"
    sources.write_text('[[source]]\nid = "x\\u202ey"\nname = "X\\u001b[31m"\nhome = "nope"\n', encoding="utf-8")
    result = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--sources", str(sources),
                        "--models", str(tmp_path / "no-models"))
    out = result.stdout.decode()
    assert "evil" in out and "dropped" in out and "gnp.exe" in out   # the words are still shown
    assert not CONTROL_CHARS.findall(out), [c for c in CONTROL_CHARS.findall(out)]
    assert "\r" not in out
    # each printed line is a check, its fix or acknowledgement, or the closing count: a stored line break
    # does not forge a check line
    assert sum(line.startswith("[ok  ] all fine") for line in out.splitlines()) == 0
    as_json = invoke_cli("--db", str(tmp_path / "d.db"), "doctor", "--json", "--sources", str(sources),
                         "--models", str(tmp_path / "no-models")).stdout.decode()
    assert not CONTROL_CHARS.findall(as_json)   # escaped as \\u sequences, as before
    assert any("\u202e" in check["message"] for check in json.loads(as_json))   # the JSON keeps what is stored
