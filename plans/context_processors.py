"""The header's "My plan" / "My system plan" / "My region", worked out only when shown."""

from django.utils.functional import SimpleLazyObject

from plans.selectors import my_places


def places(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_places": SimpleLazyObject(lambda: my_places(user))}
