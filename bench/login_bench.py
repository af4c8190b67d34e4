"""CPU of one log-in, with Django's PBKDF2 (its default) beside Argon2 (Genboard's hasher).

    .venv/bin/python bench/login_bench.py [--logins 8]

In a throwaway SQLite database with production settings, for each hasher it makes a user
whose password is hashed by it, then logs in `--logins` times through /accounts/login/
(allauth's form, Django's test Client) and prints the p50 CPU time (time.process_time) and
wall time per log-in. Last, a user with a PBKDF2 hash logs in once under Genboard's
settings: the stored hash is Argon2 afterwards (Django re-hashes at log-in).
"""

import argparse
import os
import tempfile
import time
from pathlib import Path
from statistics import median

from benchenv import production_env, start_django

PASSWORD = "correct horse battery staple 2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="genboard-login-bench-") as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
        production_env(Path(tmp), SECURE_SSL_REDIRECT="0", ALLOWED_HOSTS="testserver")
        os.environ.pop("REDIS_URL", None)
        run(args)


def run(args: argparse.Namespace) -> None:
    start_django()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import get_hasher, make_password
    from django.test import Client, override_settings

    User = get_user_model()
    genboard = list(settings.PASSWORD_HASHERS)
    pbkdf2_first = ["django.contrib.auth.hashers.PBKDF2PasswordHasher", *genboard]

    def login_cpu(username: str) -> tuple[float, float]:
        cpu, wall = [], []
        for _ in range(args.logins):
            client = Client()
            started_cpu, started = time.process_time(), time.perf_counter()
            response = client.post("/accounts/login/", {"login": username, "password": PASSWORD})
            cpu.append((time.process_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, response.status_code
        return median(cpu), median(wall)

    print(f"{args.logins} log-ins each through /accounts/login/ (p50 per log-in)")
    for label, hashers in (("PBKDF2 (Django's default)", pbkdf2_first), ("Argon2 (Genboard)", genboard)):
        with override_settings(PASSWORD_HASHERS=hashers):
            hasher = get_hasher()
            name = hasher.algorithm
            User.objects.create(username=name, password=make_password(PASSWORD))
            cpu, wall = login_cpu(name)
            print(f"  {label:<28} {hasher.algorithm:<22} CPU {cpu:7.1f} ms   wall {wall:7.1f} ms")

    with override_settings(PASSWORD_HASHERS=pbkdf2_first):
        User.objects.create(username="upgrading", password=make_password(PASSWORD))
    before = User.objects.get(username="upgrading").password.split("$")[0]
    Client().post("/accounts/login/", {"login": "upgrading", "password": PASSWORD})
    after = User.objects.get(username="upgrading").password.split("$")[0]
    print(f"  an old hash at its next log-in: {before} -> {after}")


if __name__ == "__main__":
    main()
