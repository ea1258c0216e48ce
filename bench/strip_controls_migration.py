"""Time migration m035 (stored text cleaned of control characters) on a copy of a demo database grown to COPIES
times its articles (copies with new ids and URLs), 1 in 100 given a zero-width space inside words and a
right-to-left override after the title. The demo database is only read.

    CUTTINGS_HOME=/tmp/c-home cuttings --db /tmp/c-demo.db demo
    CUTTINGS_HOME=/tmp/c-home PYTHONPATH=. python bench/strip_controls_migration.py /tmp/c-demo.db /tmp/m035.db 135
"""
import shutil
import sys
import time

from sqlite_utils import Database
from cuttings import store
src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.copy(src, dst)
db = Database(dst)
store.migrations.apply(db, stop_before="m035_strip_stored_controls")
cols = [r[1] for r in db.execute("PRAGMA table_info(articles)").fetchall()]
vcols = [r[1] for r in db.execute("PRAGMA table_info(article_versions)").fetchall() if r[1] != "id"]
step = db.execute("SELECT max(id) FROM articles").fetchone()[0] + 1
for k in range(1, copies):
    sel = ", ".join(f"id + {k * step}" if c == "id" else f"url || '?c{k}'" if c == "url" else
                    f"canonical_url || '?c{k}'" if c == "canonical_url" else
                    f"duplicate_of + {k * step}" if c == "duplicate_of" else c for c in cols)
    db.execute(f"INSERT INTO articles ({', '.join(cols)}) SELECT {sel} FROM articles WHERE id < {step}")
    vsel = ", ".join(f"article_id + {k * step}" if c == "article_id" else c for c in vcols)
    db.execute(f"INSERT INTO article_versions ({', '.join(vcols)}) SELECT {vsel} FROM article_versions WHERE article_id < {step}")
    db.execute(f"INSERT INTO article_fingerprints SELECT article_id + {k * step}, minhash FROM article_fingerprints WHERE article_id < {step}")
db.execute("UPDATE articles SET body = replace(body, ' the ', ' th' || char(8203) || 'e '), title = title || char(8238) WHERE id % 100 = 0")
db.conn.commit()
n = db.execute("SELECT count(*) FROM articles").fetchone()[0]
dirty = db.execute("SELECT count(*) FROM articles WHERE id % 100 = 0").fetchone()[0]
db.conn.close()
db = Database(dst)
started = time.perf_counter()
store.migrations.apply(db)
print(f"{n} articles ({dirty} with controls): m035 {time.perf_counter() - started:.2f} s")
left = db.execute("SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_fingerprints f WHERE f.article_id = a.id)").fetchone()[0]
print(f"fingerprints to compute at the next crawl: {left}")
