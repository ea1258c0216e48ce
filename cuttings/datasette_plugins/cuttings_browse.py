"""Datasette loads this file (``--plugins-dir``); the plugin itself is :mod:`cuttings.browse`."""
from cuttings.browse import asgi_wrapper, extra_template_vars, register_routes, render_cell  # noqa: F401
