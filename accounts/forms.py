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
            "After %(free)s wrong attempts in a row, each further attempt has to wait a "
            "little longer: a second, then two, four and so on, up to %(longest)s."
        ),
        # Said the same whether or not the address has an account.
        "throttled": (
            "Too many wrong passwords have been tried for this account. Wait %(seconds)s "
            "second%(plural)s, then sign in again. If you have forgotten your password, "
            "reset it: that also ends the wait."
        ),
        "inactive": "This account has been closed. Ask your administrator.",
    }

    def get_invalid_login_error(self):
        from django.conf import settings

        wait = getattr(self.request, "signin_wait_seconds", None)
        if wait:
            return forms.ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"seconds": wait, "plural": "" if wait == 1 else "s"},
            )
        longest = settings.SIGNIN_MAX_DELAY_SECONDS
        return forms.ValidationError(
            self.error_messages["invalid_login"],
            code="invalid_login",
            params={
                "free": settings.SIGNIN_FREE_ATTEMPTS,
                "longest": f"{longest // 60} minutes" if longest % 60 == 0 else f"{longest} s",
            },
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


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Their e-mail address", max_length=254,
                             help_text="Their work address, such as name@nhs.net.")  # fmt: skip
    role = forms.ChoiceField(label="Role", widget=forms.RadioSelect)

    def __init__(self, *args, roles: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles


class NewAccountForm(forms.Form):
    """Someone invited who has no account yet: their name and a password of their own."""

    full_name = forms.CharField(label="Your full name", max_length=150)
    password1 = forms.CharField(label="Choose a password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text="At least 12 characters; not a common one.")  # fmt: skip
    password2 = forms.CharField(
        label="The password again", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        from django.contrib.auth import password_validation

        from accounts.models import User

        data = super().clean()
        one, two = data.get("password1"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", "The two passwords are not the same.")
        elif one:
            try:
                password_validation.validate_password(
                    one, User(email=self.email, full_name=data.get("full_name", ""))
                )
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class SecurityCodeForm(forms.Form):
    """The code from the person's authenticator app (or, when signing in, a recovery code)."""

    code = forms.CharField(
        label="Security code",
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "autocapitalize": "none",
                "class": "nhsuk-input--width-10",
            }
        ),  # fmt: skip
        error_messages={"required": "Enter the security code."},
    )

    def __init__(self, *args, recovery: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery:
            self.fields["code"].help_text = (
                "The 6-digit code your authenticator app shows for Openbook. Lost your phone? "
                "Enter one of your recovery codes instead."
            )
        else:
            self.fields["code"].help_text = "The 6-digit code the app now shows for Openbook."
            self.fields["code"].widget.attrs["inputmode"] = "numeric"


class PasswordAgainForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password."},
    )


class SetUpForm(SecurityCodeForm):
    """The first code from a new authenticator, and the person's password where they have
    one: a session alone (a cookie taken from a shared computer, say) cannot make its own
    authenticator the person's second factor."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, recovery=False, **kwargs)
        self.user = user
        if not user.has_usable_password():
            del self.fields["password"]  # signs in through the identity provider only

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password
