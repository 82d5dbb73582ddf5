"""Entry point for `flask --app wsgi` and gunicorn (`gunicorn wsgi:app`)."""

import gc

from app import create_app

app = create_app()
# What start-up built (modules, mappers, locale data) lives as long as the process. Frozen,
# it is no longer walked by each full collection that requests' garbage sets off.
gc.freeze()
