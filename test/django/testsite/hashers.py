"""Cheaper versions of Django 3.2's password hashers, for fast tests.

Each subclass keeps its parent's `algorithm` name, so the hashes stored in the database have
exactly the format of production ones; only the work factors (which are part of each encoded
hash) are lowered. Verification of a hash never depends on the hasher's configured work factor
-- it is read from the hash -- so a hash made with Django's real default (260000 PBKDF2
iterations) still verifies through these classes.
"""
from django.contrib.auth import hashers


class FastPBKDF2PasswordHasher(hashers.PBKDF2PasswordHasher):
    iterations = 1000


class FastPBKDF2SHA1PasswordHasher(hashers.PBKDF2SHA1PasswordHasher):
    iterations = 1000


class FastArgon2PasswordHasher(hashers.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024  # KiB (Django's default is 102400)
    parallelism = 8


class FastBCryptSHA256PasswordHasher(hashers.BCryptSHA256PasswordHasher):
    rounds = 4


class FastBCryptPasswordHasher(hashers.BCryptPasswordHasher):
    rounds = 4
