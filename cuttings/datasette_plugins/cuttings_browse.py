"""Datasette loads this file (``--plugins-dir``); the plugin itself is :mod:`cuttings.browse`."""
from cuttings.browse import (asgi_wrapper, extra_template_vars, register_facet_classes, register_routes,  # noqa: F401
                             render_cell)
