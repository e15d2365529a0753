"""A cheaper Argon2 for the test suite: same algorithm, smaller cost, so hundreds of test
sign-ins stay fast. Never listed in production settings."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class FastArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 256
    parallelism = 1
