"""Settings for the django-ldap-bridge test project, driven by environment variables:

DLB_DB_ENGINE   'sqlite' (default), 'postgres' or 'mysql' (MySQL or MariaDB)
DLB_DB_NAME     SQLite file path, or PostgreSQL/MySQL database name (required)
DLB_DB_HOST     PostgreSQL/MySQL host (default 127.0.0.1)
DLB_DB_PORT     PostgreSQL port (default 5432), MySQL port (default 3306)
DLB_DB_USER     PostgreSQL user (default postgres), MySQL user (default root)
DLB_CUSTOM_USER '1' installs the `accounts` app and sets AUTH_USER_MODEL = 'accounts.User'
DLB_OTP         '1' installs django-otp and its TOTP plugin (their tables: otp_totp_totpdevice)
"""
import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = 'django-ldap-bridge-tests-not-secret'
DEBUG = False
ALLOWED_HOSTS = []
USE_TZ = True
TIME_ZONE = 'UTC'
USE_I18N = False
DEFAULT_AUTO_FIELD = 'django.db.models.AutoField'

CUSTOM_USER = os.environ.get('DLB_CUSTOM_USER') == '1'

INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'svn',
]
if os.environ.get('DLB_OTP') == '1':
    # Only when a test asks: the apps add their own permissions and content types, which every
    # other test's expectations would otherwise have to include.
    INSTALLED_APPS += ['django_otp', 'django_otp.plugins.otp_totp']
if CUSTOM_USER:
    # Only in this mode: installing `accounts` next to an active auth.User would clash
    # (reverse accessors groups/user_permissions).
    INSTALLED_APPS.append('accounts')
    AUTH_USER_MODEL = 'accounts.User'

_engine = os.environ.get('DLB_DB_ENGINE', 'sqlite')
_name = os.environ.get('DLB_DB_NAME')
if not _name:
    raise ImproperlyConfigured('DLB_DB_NAME must be set (SQLite file path or PostgreSQL/MySQL database name)')
if _engine == 'sqlite':
    DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': _name}}
elif _engine in ('postgres', 'postgresql'):
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': _name,
        'HOST': os.environ.get('DLB_DB_HOST', '127.0.0.1'),
        'PORT': os.environ.get('DLB_DB_PORT', '5432'),
        'USER': os.environ.get('DLB_DB_USER', 'postgres'),
        'PASSWORD': os.environ.get('DLB_DB_PASSWORD', ''),
    }}
elif _engine in ('mysql', 'mariadb'):
    # Tables take the database's default collation (as on a real site: Django does not choose
    # one); the test helper creates the database with the collation under test.
    DATABASES = {'default': {
        'ENGINE': 'django.db.backends.mysql',
        'NAME': _name,
        'HOST': os.environ.get('DLB_DB_HOST', '127.0.0.1'),
        'PORT': os.environ.get('DLB_DB_PORT', '3306'),
        'USER': os.environ.get('DLB_DB_USER', 'root'),
        'PASSWORD': os.environ.get('DLB_DB_PASSWORD', ''),
        'OPTIONS': {'charset': 'utf8mb4'},
    }}
else:
    raise ImproperlyConfigured('DLB_DB_ENGINE must be sqlite, postgres or mysql, not %r' % _engine)

# Every hasher Django 3.2 ships. The first is the default used by set_password(); the others
# are reachable through make_password(..., hasher=<algorithm>) and check_password().
PASSWORD_HASHERS = [
    'testsite.hashers.FastPBKDF2PasswordHasher',          # pbkdf2_sha256
    'testsite.hashers.FastPBKDF2SHA1PasswordHasher',      # pbkdf2_sha1
    'testsite.hashers.FastArgon2PasswordHasher',          # argon2
    'testsite.hashers.FastBCryptSHA256PasswordHasher',    # bcrypt_sha256
    'testsite.hashers.FastBCryptPasswordHasher',          # bcrypt
    'django.contrib.auth.hashers.SHA1PasswordHasher',     # sha1
    'django.contrib.auth.hashers.MD5PasswordHasher',      # md5
    'django.contrib.auth.hashers.UnsaltedSHA1PasswordHasher',  # unsalted_sha1
    'django.contrib.auth.hashers.UnsaltedMD5PasswordHasher',   # unsalted_md5
    'django.contrib.auth.hashers.CryptPasswordHasher',    # crypt
]

AUTHENTICATION_BACKENDS = ['django.contrib.auth.backends.ModelBackend']

LOGGING_CONFIG = None
