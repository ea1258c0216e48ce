"""The label views before and after a change of their rule, on the same labels: label flows run on a copy of a
database (the demo's: it holds no human labels) by whatever cuttings is on the path, then every row of each
view compared between two databases (session 21, m032: the views by time instead of by id).

``flows SRC OUT OTHER``: copies SRC to OUT and OTHER; in OUT, 60 stories' stance and topics labelled at one
time, a second person's tone, rejected and new topic in the same second on 15 of them, 30 quotes' speakers
corrected; a day later 12 stance withdrawals, 8 withdrawals of one quote's corrections (``--quote``) and 6 new
stances in the same second as the withdrawals; then withdrawals given elsewhere a day before the labels,
imported (``store.import_withdrawal``: session 20-b's flow) on 9 stories' stance and 5 of the corrected
quotes' stories; OUT's export (OUT.jsonl) imported into OTHER, which has 20 older answers of its own. Every
write under ``store.clock``, so two runs write the same times.
``compare A B``: each view's rows (sorted) equal or not, and the ``labels`` rows written twice.

    git archive f9affbf | tar -x -C /tmp/b-old          # the code before
    PYTHONPATH=/tmp/b-old python bench/label_flows.py flows demo.db old.db old-other.db
    PYTHONPATH=. python bench/label_flows.py flows demo.db new.db new-other.db
    python bench/label_flows.py compare old.db new.db

(No ``sys.path`` change here: the ``cuttings`` on ``PYTHONPATH`` is the one measured.)
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys

VIEWS = ["effective_labels", "article_summary", "entity_daily", "quote_view", "quotes_by_speaker", "most_quoted",
         "story_bodies"]
COLUMNS = "article_id, task, target, label, annotator, created_at, quote_id, quote_text"


def flows(src: str, out: str, other: str) -> None:
    from cuttings import labelling, store

    shutil.copy(src, out)
    shutil.copy(src, other)
    tasks = labelling.load_label_tasks()
    db = store.connect(out)
    stories = [row[0] for row in db.execute("SELECT article_id FROM article_summary ORDER BY article_id LIMIT 60")]
    quoted = db.execute("SELECT article_id, start_char || ':' || end_char, id FROM quotes WHERE article_id IN "
                        "(SELECT article_id FROM article_summary) ORDER BY article_id, start_char LIMIT 30").fetchall()
    T = ["2026-12-01T09:00:00Z", "2026-12-02T09:00:00Z", "2026-12-03T09:00:00Z", "2026-12-04T09:00:00Z"]
    with store.clock(T[1]):
        for i, story in enumerate(stories):
            labelling.save_labels(db, story, [("stance_governance", "", ["favour", "against", "neutral"][i % 3]),
                                              ("topics", "", "incident")], "officer")
            if i % 4 == 0:
                labelling.save_labels(db, story, [("tone", "hwfrs", "negative"), ("topics", "incident", "__rejected__"),
                                                  ("topics", "", "governance")], "colleague")   # same second
        for article_id, place, _ in quoted:
            store.add_correction(db, article_id, [("quote_speaker", place, "Jo Bloggs")], "officer")
    with store.clock(T[2]):
        for story in stories[::5]:
            labelling.withdraw_labels(db, str(story), ["stance_governance"], "lead")
        for article_id, _, quote_id in quoted[::4]:
            labelling.withdraw_quote_correction(db, str(article_id), "quote_speaker", quote_id, "lead")
        for story in stories[::10]:
            labelling.save_labels(db, story, [("stance_governance", "", "neutral")], "colleague")   # same second again
    # s20-b: a withdrawal given elsewhere before the labels here (T0): imported, the labels here stand on
    for story in stories[1::7]:
        store.import_withdrawal(db, story, "stance_governance", "elsewhere", T[0])
    for article_id, _, _ in quoted[1::6]:
        store.import_withdrawal(db, article_id, "quote_speaker", "elsewhere", T[0])
    with store.clock(T[3]):
        labelling.export_labels(db, out + ".jsonl", tasks)
    db.conn.close()
    # a second copy: older answers of its own, then the file
    odb = store.connect(other)
    with store.clock(T[0]):
        for story in stories[::3]:
            labelling.save_labels(odb, story, [("stance_governance", "", "against")], "second")
    with store.clock(T[3]):
        summary = labelling.import_labels(odb, out + ".jsonl", tasks, "importer")
    print("imported:", summary.labels_added, "labels,", summary.withdrawals_added, "withdrawals")
    odb.conn.close()


def rows(path: str, view: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(map(repr, conn.execute(f"SELECT * FROM {view}").fetchall()))
    finally:
        conn.close()


def compare(a: str, b: str) -> None:
    for view in VIEWS:
        ra, rb = rows(a, view), rows(b, view)
        digest = [hashlib.sha1("".join(r).encode()).hexdigest()[:10] for r in (ra, rb)]
        print(f"{view}: {len(ra)} / {len(rb)} rows, identical: {ra == rb}, sha1 {digest[0]} / {digest[1]}")
    for path in (a, b):
        conn = sqlite3.connect(path)
        total, withdrawals = conn.execute("SELECT count(*), count(*) FILTER (WHERE label = '__withdrawn__') "
                                          "FROM labels").fetchone()
        twice = conn.execute(f"SELECT count(*) FROM (SELECT 1 FROM labels GROUP BY {COLUMNS} "
                             f"HAVING count(*) > 1)").fetchone()[0]
        print(f"{path}: {total} labels rows ({withdrawals} withdrawals), {twice} written more than once")
        conn.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["flows"] and len(sys.argv) == 5:
        flows(*sys.argv[2:])
    elif sys.argv[1:2] == ["compare"] and len(sys.argv) == 4:
        compare(*sys.argv[2:])
    else:
        sys.exit(__doc__)
