"""WSGIAuthUserScript for the benchmark: Django's documented way to protect an Apache location
with the site's users (https://docs.djangoproject.com/en/3.2/howto/deployment/wsgi/apache-auth/).
bench/run.mjs starts its private Apache with BENCH_DB_NAME (the benchmark's SQLite database) in
the environment, which mod_wsgi's embedded interpreter sees as os.environ."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'bench_settings')
os.environ.setdefault('BENCH_DB_ENGINE', 'sqlite')

import django  # noqa: E402

django.setup()

from django.contrib.auth.handlers.modwsgi import check_password  # noqa: E402,F401
