"""Django settings for the benchmark (bench/run.mjs): the schema of the PostgreSQL scale
database (`python3 -m django migrate`) and Django's own Apache authentication
(django.contrib.auth.handlers.modwsgi, see wsgi_auth.py) over the benchmark's users.

BENCH_DB_ENGINE  'sqlite' (default), 'postgres' or 'mysql' (MySQL or MariaDB, root@127.0.0.1:3306)
BENCH_DB_NAME    SQLite file path, or PostgreSQL / MySQL database name
"""
import os

SECRET_KEY = 'django-ldap-bridge-bench-not-secret'
DEBUG = False
ALLOWED_HOSTS = ['*']
USE_TZ = True
TIME_ZONE = 'UTC'
USE_I18N = False
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'
INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth']

_engine = os.environ.get('BENCH_DB_ENGINE', 'sqlite')
_name = os.environ['BENCH_DB_NAME']
if _engine == 'sqlite':
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': _name}}
elif _engine == 'mysql':
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.mysql', 'NAME': _name, 'HOST': '127.0.0.1', 'PORT': '3306', 'USER': 'root',
        'OPTIONS': {'charset': 'utf8mb4'},
    }}
else:
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.postgresql', 'NAME': _name,
        'HOST': os.environ.get('BENCH_DB_HOST', '127.0.0.1'), 'PORT': os.environ.get('BENCH_DB_PORT', '5432'),
        'USER': os.environ.get('BENCH_DB_USER', 'postgres'),
    }}

# The users' hashes are pbkdf2_sha256 at 1,000,000 iterations (Django 4.2+'s default is
# 600,000-870,000; 5.x reaches 1,000,000). Django 3.2's own hasher defaults to 260,000 and would
# re-hash (and write) on every successful login: this one keeps 1,000,000 so check_password
# only checks.
PASSWORD_HASHERS = ['bench_hashers.PBKDF2Million']
