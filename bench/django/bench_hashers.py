from django.contrib.auth.hashers import PBKDF2PasswordHasher


class PBKDF2Million(PBKDF2PasswordHasher):
    """pbkdf2_sha256 at 1,000,000 iterations (the benchmark users' cost), so must_update() is
    False and a login never rewrites the hash."""
    iterations = 1_000_000
