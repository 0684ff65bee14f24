from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.services import TOKEN_LIFETIMES_DAYS


class LoginForm(AuthenticationForm):
    """E-mail and password, with messages in plain English."""

    username = forms.EmailField(
        label="E-mail address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": (
            "The e-mail address or password is not right. Check them and try again. "
            "After %(limit)s wrong attempts the account is locked for a while."
        ),
        "inactive": "This account has been closed. Ask your administrator.",
    }

    def get_invalid_login_error(self):
        from django.conf import settings

        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={"limit": settings.AXES_FAILURE_LIMIT},
        )


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=80,
        help_text="What will use it, for example “Finance team's upload script”.",
    )
    lifetime_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        choices=[(d, f"{d} days") for d in TOKEN_LIFETIMES_DAYS],
        initial=90,
        widget=forms.RadioSelect,
    )
