"""cuttings' packaged data (installed as the package ``cuttings_data``; see ``cuttings/paths.py``).

Read only: the default configuration, the seed corpus, the gold quotes, the demo site and the
static embeddings. The user's own files and cuttings' state live in the home folder.
"""
