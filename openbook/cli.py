"""The `openbook` console script: Django's management commands with Openbook's settings preset.

`openbook demo` and `openbook serve` first start the embedded PostgreSQL and Redis (when
DATABASE_URL / REDIS_URL are not set), because Django reads its settings from the
environment once, at start-up.
"""

import os
import sys

EMBEDDED_COMMANDS = {"demo", "serve"}


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openbook.settings")
    from django.core.management import execute_from_command_line

    if len(sys.argv) > 1 and sys.argv[1] in EMBEDDED_COMMANDS:
        from openbook.runtime import embedded_services, raise_on_sigterm

        raise_on_sigterm()
        try:
            with embedded_services():
                os.environ.setdefault("SECURE", "0")  # the embedded site is plain http on 127.0.0.1
                execute_from_command_line(sys.argv)
        except KeyboardInterrupt:
            pass
        return 0
    execute_from_command_line(sys.argv)
    return 0
