"""The Markdown guides, installed as the package ``cuttings_docs`` so an installed cuttings has them
(``cuttings docs`` prints where; cuttings/paths.py: ``docs_dir``). Nothing to import."""
