"""The architecture's rules, checked mechanically from the imports and the source.

* ``nlp`` imports nothing of the project outside ``nlp`` (text in, annotations out);
* ``crawler`` imports only ``crawler`` and the store (``cuttings.store``, ``cuttings.errors``,
  ``cuttings.redaction``);
* the store (``cuttings/store/``) imports no stage, output or command line: only itself,
  ``cuttings.errors`` and ``cuttings.redaction`` (standard library only: secrets out of what it records);
* SQL that writes (INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, BEGIN, COMMIT ...) and
  sqlite-utils writes (``db["t"].insert(...)``, ``create_view`` ...) appear only in the store;
* the stage modules in ``READS_THROUGH_STORE`` run no SQL at all (``.execute(``, ``.query(`` ...,
  ``db["t"].rows_where(...)``): they read the database through store functions.

Each breach is reported as ``path:line: what`` so it can be fixed where it is. See
docs/architecture.md.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = ("cuttings", "crawler", "nlp", "pipeline")
STORE = ("cuttings.store", "cuttings.errors", "cuttings.redaction")

# Statements that change the database or its transactions, wherever they sit in a string.
WRITE_SQL = re.compile(
    r"\b(INSERT\s+(OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE\s+[\w\[\]\"]+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(UNIQUE\s+|TEMP\w*\s+|VIRTUAL\s+)?(TABLE|INDEX|VIEW|TRIGGER)|DROP\s+(TABLE|INDEX|VIEW|TRIGGER)"
    r"|ALTER\s+TABLE)\b", re.I)
# A statement on its own (upper case, as SQL is written here: "vacuum" in a message is not one).
BARE_STATEMENT = re.compile(r"^\s*((BEGIN|COMMIT|ROLLBACK|END|VACUUM)(\s+(IMMEDIATE|EXCLUSIVE|DEFERRED|TRANSACTION))?"
                            r"|(SAVEPOINT|RELEASE)\s+\w+)\s*;?\s*$|^\s*VACUUM\s+INTO\b")
# sqlite-utils Table methods that write, called on db["name"] or db.table("name").
TABLE_WRITES = {"insert", "insert_all", "upsert", "upsert_all", "update", "delete", "delete_where", "create",
                "drop", "transform", "add_column", "create_index", "enable_fts", "disable_fts", "populate_fts",
                "rebuild_fts", "add_foreign_key", "enable_counts", "add_missing_columns", "lookup", "convert"}
# Database / connection methods that write or end transactions, whatever they are called on.
DATABASE_WRITES = {"create_table", "create_view", "enable_wal", "disable_wal", "vacuum", "executescript",
                   "enable_counts", "add_foreign_keys", "index_foreign_keys", "commit", "rollback"}
# Stage modules that read the database only through store functions (outputs such as report, serve,
# export and browse may read it directly; docs/architecture.md).
READS_THROUGH_STORE = ("cuttings/doctor.py", "cuttings/failures.py", "cuttings/labelling.py", "cuttings/nightly.py",
                       "cuttings/stages.py")
# Calls that run SQL, whatever they are called on (sqlite3 and sqlite-utils), and sqlite-utils Table reads.
SQL_CALLS = {"execute", "executemany", "executescript", "query"}
TABLE_READS = {"rows_where", "pks_and_rows_where", "count_where", "rows"}


def python_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = REPO / root
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return files


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every absolute import, including ``from package import module``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names
                      if node.module in PROJECT]  # `from cuttings import store` imports cuttings.store
    return found


def is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT


def within(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in allowed)


def import_breaches(files: list[Path], allowed: tuple[str, ...], rule: str) -> list[str]:
    breaches = []
    for path in files:
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            if module in PROJECT and module != "pipeline":
                continue  # `from cuttings import x`: x is checked on its own
            if is_project(module) and not within(module, allowed):
                breaches.append(f"{rel(path)}:{line}: {rule} imports {module}")
    return breaches


def write_breaches(path: Path) -> list[str]:
    breaches = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            match = WRITE_SQL.search(node.value) or BARE_STATEMENT.match(node.value)
            if match:
                breaches.append(f"{rel(path)}:{node.lineno}: write SQL {match.group(0).strip()!r} outside the store")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, node.func.value
            table = isinstance(receiver, ast.Subscript) or (
                isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute)
                and receiver.func.attr == "table")
            # self.commit(), store.commit(db): the object's own method, or the store's function
            own = isinstance(receiver, ast.Name) and receiver.id in ("self", "cls", "store")
            if (table and method in TABLE_WRITES) or (method in DATABASE_WRITES and not own):
                breaches.append(f"{rel(path)}:{node.lineno}: sqlite-utils/sqlite3 write .{method}() outside the store")
    return sorted(breaches, key=lambda b: int(b.split(":")[1]))


def _table_receiver(receiver: ast.AST) -> bool:
    """``db["t"]`` or ``db.table("t")``: a sqlite-utils Table."""
    return isinstance(receiver, ast.Subscript) or (
        isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute) and receiver.func.attr == "table")


def sql_breaches(path: Path) -> list[str]:
    """Each place a module runs SQL itself (or reads a table through sqlite-utils) instead of calling the store."""
    breaches = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and (node.attr in SQL_CALLS
                                                or node.attr in TABLE_READS and _table_receiver(node.value)):
            breaches.append(f"{rel(path)}:{node.lineno}: runs SQL (.{node.attr}) itself: read through a store function")
    return sorted(breaches, key=lambda b: int(b.split(":")[1]))


def report(breaches: list[str]) -> str:
    return f"{len(breaches)} breach(es) of the architecture rules (docs/architecture.md):\n" + "\n".join(breaches)


def test_nlp_imports_nothing_of_the_project_outside_nlp():
    breaches = import_breaches(python_files("nlp"), ("nlp",), "nlp")
    assert not breaches, report(breaches)


def test_crawler_imports_only_the_crawler_and_the_store():
    breaches = import_breaches(python_files("crawler"), ("crawler", *STORE), "crawler")
    assert not breaches, report(breaches)


def test_store_imports_no_stage_output_or_command_line():
    breaches = import_breaches(python_files("cuttings/store"), STORE, "the store")
    assert not breaches, report(breaches)


def test_writes_only_in_the_store():
    files = [p for p in python_files("cuttings", "crawler", "nlp", "pipeline.py")
             if not rel(p).startswith("cuttings/store/")]
    breaches = [b for path in files for b in write_breaches(path)]
    assert not breaches, report(breaches)


def test_stages_read_through_the_store():
    breaches = [b for path in READS_THROUGH_STORE for b in sql_breaches(REPO / path)]
    assert not breaches, report(breaches)


def test_the_checks_find_breaches(tmp_path, monkeypatch):
    """The rules catch what they are meant to (a check that cannot fail is no check)."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""INSERT INTO docs is prose."""\n'
                      "from cuttings import labelling\n"
                      "import nlp.quotes\n"
                      'db.execute("INSERT INTO labels (x) VALUES (?)", [1])\n'
                      'db.execute("UPDATE crawl_state SET etag = ? WHERE url = ?")\n'
                      'db.conn.execute("BEGIN")\n'
                      'db["source_runs"].insert(row, replace=True)\n'
                      "db.conn.commit()\n"
                      'db.execute("SELECT * FROM articles WHERE title LIKE \'%update%\'")\n'
                      'rows = list(db["labels"].rows_where("task = ?", ["tone"]))\n'
                      "for row in db.query(SQL, params): pass\n"
                      "run = store.execute\n"
                      'labels = record["labels"].get("tone"), db["labels"].count\n')
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    assert import_breaches([sample], ("crawler", *STORE), "crawler") == [
        "sample.py:2: crawler imports cuttings.labelling", "sample.py:3: crawler imports nlp.quotes"]
    assert [b.split(":")[1] for b in write_breaches(sample)] == ["4", "5", "6", "7", "8"]
    assert [b.split(":")[1] for b in sql_breaches(sample)] == ["4", "5", "6", "9", "10", "11", "12"]
