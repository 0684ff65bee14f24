"""Django's `changepassword`, which also revokes the person's API tokens (audited), as every
other way of changing a password does."""

import getpass

from django.contrib.auth.management.commands import changepassword
from django.db import transaction

from accounts import services
from accounts.models import User


class Command(changepassword.Command):
    def handle(self, *args, **options):
        people = User._default_manager.using(options["database"])
        # Found as Django's command finds the person (it refuses anyone it cannot find).
        username = options["username"] or getpass.getuser()
        before = people.filter(**{User.USERNAME_FIELD: username}).first()
        with transaction.atomic(using=options["database"]):
            result = super().handle(*args, **options)
            after = people.get(pk=before.pk)
            if after.password != before.password:
                revoked = services.password_changed(actor=None, user=after, how="command line")
                result += f" ({revoked} API token{'' if revoked == 1 else 's'} revoked)"
        return result
