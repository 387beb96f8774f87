"""Minimal Django project used by django-ldap-bridge's tests (see test/helpers/django.js)."""
