"""The SQLite store: every stage (crawl, analyse, classify, report) meets the others only here.

The store owns every write and imports no stage, no output and no command line. Modules:

* ``schema``: tables and views, built and upgraded by sqlite-utils migrations;
* ``connection``: opening a database, transactions and batches;
* ``runs``: ``crawl_runs``, ``crawl_errors``, ``source_runs``, the ``reports`` log;
* ``articles``: sources, articles, their versions and fingerprints, ``crawl_state``;
* ``analyses``: entities, mentions, quotes, named entities, classifications, ``processing``;
* ``labels``: human labels; ``models``: trained models; ``maintenance``: backup, prune, VACUUM.

Callers use the package: ``from cuttings import store; store.connect(path)``. Conventions: WAL
journal, foreign keys on, ISO-8601 UTC timestamps (``YYYY-MM-DDTHH:MM:SSZ``; ``YYYY-MM-DD`` where
only a date is known). ``docs/schema.md`` documents every table, column and view.
"""
from __future__ import annotations

from cuttings.errors import StoreError  # noqa: F401
from cuttings.store.analyses import *  # noqa: F401,F403
from cuttings.store.articles import *  # noqa: F401,F403
from cuttings.store.connection import *  # noqa: F401,F403
from cuttings.store.labels import *  # noqa: F401,F403
from cuttings.store.maintenance import *  # noqa: F401,F403
from cuttings.store.models import *  # noqa: F401,F403
from cuttings.store.runs import *  # noqa: F401,F403
from cuttings.store.schema import migrations  # noqa: F401
