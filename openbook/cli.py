"""The `openbook` console script: Django's management commands with Openbook's settings preset.

`openbook demo` and `openbook serve` first start the embedded PostgreSQL and Redis (when
DATABASE_URL / REDIS_URL are not set), because Django reads its settings from the
environment once, at start-up.

Every other command with no DATABASE_URL uses the demo's database too, when the demo has made
one under $OPENBOOK_HOME, with the demo's Redis and secret key: a running demo's own servers,
or the same servers started for the length of the command. Without a demo it says which
database it falls back to, so a command never quietly works on some other PostgreSQL.
"""

import os
import sys
from pathlib import Path

EMBEDDED_COMMANDS = {"demo", "serve"}
# Nothing here reads the database.
NO_DATABASE = {None, "help", "version", "--help", "-h", "--version"}
# As openbook/settings.py: its fallback when DATABASE_URL is not set.
FALLBACK_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/openbook"


def say(message: str) -> None:
    # stderr: a command's own output (dumpdata, the benchmarks' JSON) stays clean on stdout.
    print(f"openbook: {message}", file=sys.stderr, flush=True)


def _read_dotenv() -> None:
    """The .env file the settings read, read now, so what it sets counts as set here too."""
    import environ

    env_file = Path(__file__).resolve().parent.parent / ".env"
    if env_file.exists():
        environ.Env.read_env(str(env_file))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbook.settings")
    _read_dotenv()
    from django.core.management import execute_from_command_line

    command = sys.argv[1] if len(sys.argv) > 1 else None
    if command in EMBEDDED_COMMANDS:
        from openbook.runtime import embedded_services, raise_on_sigterm

        raise_on_sigterm()
        try:
            with embedded_services():
                os.environ.setdefault("SECURE", "0")  # the embedded site is plain http on 127.0.0.1
                execute_from_command_line(sys.argv)
        except KeyboardInterrupt:
            pass
        return 0
    if command not in NO_DATABASE and not os.environ.get("DATABASE_URL"):
        from openbook.runtime import (
            demo_database_dir,
            embedded_services,
            openbook_home,
            raise_on_sigterm,
        )

        home = openbook_home(create=False)
        data_dir = demo_database_dir(home)
        if data_dir is not None:
            raise_on_sigterm()  # so what the command started is stopped on the way out
            with embedded_services(say=None):
                say(f"using the demo's database in {data_dir} (DATABASE_URL is not set)")
                execute_from_command_line(sys.argv)
            return 0
        say(
            f"DATABASE_URL is not set and there is no demo database in {home}; using "
            f"{FALLBACK_DATABASE_URL}. Set DATABASE_URL, or run `openbook demo` first "
            "(with OPENBOOK_HOME as for the demo)."
        )
    execute_from_command_line(sys.argv)
    return 0
