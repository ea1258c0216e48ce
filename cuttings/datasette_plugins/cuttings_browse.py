"""Datasette loads this file (``--plugins-dir``); the plugin itself is :mod:`cuttings.browse`."""
from cuttings.browse import (asgi_wrapper, extra_template_vars, filters_from_request,  # noqa: F401
                             register_facet_classes, register_routes, render_cell)
