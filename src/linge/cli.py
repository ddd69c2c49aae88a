"""The `linge` command: Django's management commands plus a few of Linge's own.

`linge serve [--no-worker]` runs gunicorn and, unless told not to, `linge worker` beside
it; `linge audit verify` is the `audit` command; every other
word is passed to Django (`linge migrate`, `linge demo`, `linge import-areas FILE`).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

ALIASES = {"import-areas": "import_areas", "import-categories": "import_categories"}


def _start_worker() -> None:
    """`linge worker` beside the web processes, so messages leave and deadlines are
    swept without a second command; stopped when the server stops."""
    worker = subprocess.Popen([sys.executable, "-m", "linge.cli", "worker"])

    def stop() -> None:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()

    atexit.register(stop)


def _serve(args: list[str]) -> None:
    from gunicorn.app.wsgiapp import run

    if "--no-worker" in args:
        args = [a for a in args if a != "--no-worker"]
    else:
        _start_worker()
    bind = os.environ.get("LINGE_BIND", "127.0.0.1:8000")
    workers = os.environ.get("LINGE_WORKERS", "2")
    threads = os.environ.get("LINGE_THREADS", "4")
    # Threads: a request busy decoding photos (which waits for its turn, cases.photos)
    # leaves the others of its process free. Request lines and headers are bounded;
    # bodies are bounded by linge.guard before they are read.
    sys.argv = ["gunicorn", "--bind", bind, "--workers", workers,
                "--worker-class", "gthread", "--threads", threads,
                "--limit-request-line", "4094", "--limit-request-fields", "100",
                "--limit-request-field_size", "8190",
                *args, "linge.wsgi:application"]
    run()


# Linge's own words that are not Django commands, listed by `linge help`.
OWN_COMMANDS = {
    "serve": "gunicorn on LINGE_BIND with LINGE_WORKERS processes, and `linge worker` "
             "beside it unless --no-worker",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linge.settings")
    if argv and argv[0] == "serve":
        _serve(argv[1:])
        return
    if argv:
        argv[0] = ALIASES.get(argv[0], argv[0])
    from django.core.management import execute_from_command_line

    execute_from_command_line(["linge", *argv])
    if argv in ([], ["help"], ["--help"], ["-h"]):
        print("\n[linge]")
        for name, what in OWN_COMMANDS.items():
            print(f"    {name}    {what}")


if __name__ == "__main__":
    main()
