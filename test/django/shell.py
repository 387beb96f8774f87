#!/usr/bin/env python3
"""Run Python code read from stdin with Django set up against the DLB_* database.

Used by djangoShell() in test/helpers/django.js, e.g. to deactivate a user through the ORM.
The code runs in a namespace that already has User (get_user_model()), Group, Permission,
make_password and transaction; what it prints is returned to the caller.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'testsite.settings')

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group, Permission  # noqa: E402
from django.db import transaction  # noqa: E402

code = sys.stdin.read()
namespace = {
    '__name__': '__djangoshell__',
    'User': get_user_model(),
    'Group': Group,
    'Permission': Permission,
    'make_password': make_password,
    'transaction': transaction,
}
exec(compile(code, '<djangoShell stdin>', 'exec'), namespace)
