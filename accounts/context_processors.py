"""What every page may need to know about how the person signs in: their two-step verification,
and whether passwords are used here at all."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts import policy, second_factor


def second_factor_due(request):
    """Beside a button that signs, submits, accepts or decides: "" if it goes straight ahead,
    "verify" if the person will be asked for their code first, "set_up" if they will be asked
    to set up two-step verification first. Worked out only on a page that asks."""

    def due() -> str:
        user = getattr(request, "user", None)
        if user is None or not policy.second_factor_missing(user):
            return ""
        return "verify" if second_factor.has_device(user) else "set_up"

    return {
        "second_factor_due": SimpleLazyObject(due),
        "password_sign_in": settings.PASSWORD_SIGN_IN,
    }
