"""People, the NHS structure they work in (region → system → organisation) and their roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from knox.models import AbstractAuthToken

# ODS codes: three to five upper-case letters and digits (RX1, 15M, RXH01, QSL).
ods_code_validator = RegexValidator(
    r"^[A-Z0-9]{3,5}$",
    "An ODS code is 3 to 5 capital letters or digits, for example RX1 or 15M.",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their e-mail address. Platform administrators are superusers."""

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May sign in to the platform administration pages."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    more_places = models.BooleanField(
        "show figures to more decimal places",
        default=False,
        help_text="Tables show every place a figure is kept to (£000 to the pound) rather than "
        "the usual places for its unit.",
    )
    # Unused accounts expire (accounts/expiry.py): when this period's warning went, and when an
    # administrator last made the account active again (which starts a new period).
    expiry_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    reactivated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The identity provider's fixed name for the person ("<issuer> <sub>"), bound at their
    # first single sign-on: an e-mail address can be changed or given to someone else there,
    # this cannot (accounts/sso.py).
    sso_identity = models.CharField(max_length=400, blank=True, default="", editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["sso_identity"], condition=~models.Q(sso_identity=""),
                name="user_sso_identity_unique",
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Region(models.Model):
    """An NHS England region, whose reviewers oversee the systems in it."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class System(models.Model):
    """An integrated care system: the partners who plan together, open book."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="systems")
    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=160, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """A trust, commissioner, local authority or other partner, identified by its ODS code."""

    class Kind(models.TextChoices):
        ACUTE = "acute", "Acute trust"
        COMMUNITY = "community", "Community trust"
        MENTAL_HEALTH = "mental_health", "Mental health trust"
        AMBULANCE = "ambulance", "Ambulance trust"
        COMMISSIONER = "commissioner", "Commissioner (CCG or ICB)"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        PRIMARY_CARE_NETWORK = "pcn", "Primary care network"
        VOLUNTARY = "voluntary", "Voluntary sector"

    PROVIDER_KINDS = (Kind.ACUTE, Kind.COMMUNITY, Kind.MENTAL_HEALTH, Kind.AMBULANCE)

    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="organisations")
    ods_code = models.CharField(
        "ODS code", max_length=5, unique=True, validators=[ods_code_validator]
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ods_code__regex=r"^[A-Z0-9]{3,5}$"), name="organisation_ods_code_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    @property
    def is_provider(self) -> bool:
        return self.kind in self.PROVIDER_KINDS


class Role(models.TextChoices):
    """What a membership lets a person do, and at which level (organisation, system, region)."""

    ORG_VIEWER = "org_viewer", "Organisation viewer"
    ORG_PREPARER = "org_preparer", "Preparer"
    ORG_APPROVER = "org_approver", "Approver"
    SYSTEM_VIEWER = "system_viewer", "System viewer"
    SYSTEM_LEAD = "system_lead", "System lead"
    REGION_REVIEWER = "region_reviewer", "Regional reviewer"


ORGANISATION_ROLES = (Role.ORG_VIEWER, Role.ORG_PREPARER, Role.ORG_APPROVER)
SYSTEM_ROLES = (Role.SYSTEM_VIEWER, Role.SYSTEM_LEAD)
REGION_ROLES = (Role.REGION_REVIEWER,)


def scope_matches_role() -> Q:
    """Each role is held at exactly one level, and only that level's key is set."""
    return (
        Q(role__in=[r.value for r in ORGANISATION_ROLES], organisation__isnull=False,
          system__isnull=True, region__isnull=True)
        | Q(role__in=[r.value for r in SYSTEM_ROLES], organisation__isnull=True,
            system__isnull=False, region__isnull=True)
        | Q(role__in=[r.value for r in REGION_ROLES], organisation__isnull=True,
            system__isnull=True, region__isnull=False)
    )  # fmt: skip


class Membership(models.Model):
    """A person's role in one organisation, system or region. A person may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    system = models.ForeignKey(
        System, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    region = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "id"]
        constraints = [
            # Each role is held at exactly one level, and only that level's key is set.
            models.CheckConstraint(
                name="membership_scope_matches_role", condition=scope_matches_role()
            ),
            models.UniqueConstraint(
                fields=["user", "role", "organisation", "system", "region"],
                name="membership_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.scope}"

    @property
    def scope(self) -> Organisation | System | Region | None:
        return self.organisation or self.system or self.region


class PersonalToken(AbstractAuthToken):
    """An API token a person makes for themselves: only its hash is stored; it expires."""

    name = models.CharField(max_length=80)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # How the session that made it had confirmed the person with a second factor ("totp",
    # "recovery", "identity-provider"), blank if it had not: acts that need two-step
    # verification (accounts/policy.py) are refused through a token made without it.
    second_factor = models.CharField(max_length=20, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"


class Invitation(models.Model):
    """An e-mail invitation to a role in one organisation, system or region. Its link works
    once, for INVITATION_DAYS; only a hash of the link's token is kept."""

    email = models.EmailField()
    # The name an administrator's file gave (people imported in bulk): the new account's
    # name unless the person changes it.
    full_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    system = models.ForeignKey(System, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")  # fmt: skip
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")  # fmt: skip
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Made in bulk: the worker has still to make its link and e-mail it (accounts/invitations.py
    # `invitations_send_waiting`). Until then the token hash is of a token nobody holds.
    link_unsent = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="invitation_scope_matches_role", condition=scope_matches_role()
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} — {self.get_role_display()} — {self.scope}"

    @property
    def scope(self) -> Organisation | System | Region | None:
        return self.organisation or self.system or self.region

    @property
    def pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.withdrawn_at is None
            and self.expires_at > timezone.now()
        )


class UserSession(models.Model):
    """One signed-in browser of a person, so they can see where they are signed in and end it
    (accounts/sessions.py). Django's session table has no owner column to find them by.

    The session key is kept as Django's own table keeps it: ending a session deletes it through
    the session store, which needs the key. It is never shown, nor used in a URL."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(max_length=300, blank=True)
    client_address = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} — {self.device}"

    @property
    def device(self) -> str:
        from accounts.useragents import describe_user_agent

        return describe_user_agent(self.user_agent)


class SecuritySetting(models.Model):
    """The platform's sign-in rules an administrator changes in the product (one row).

    Two-step verification is always required of approvers, system leads, regional reviewers
    and administrators before they act; an administrator may require it of everyone, at
    sign-in. Until an administrator first chooses, SECOND_FACTOR_FOR_EVERYONE gives the
    answer."""

    second_factor_for_everyone = models.BooleanField(
        "require two-step verification of everyone",
        default=False,
        help_text="Everyone must confirm it is them with a security code when they sign in, "
        "not only the people who sign, submit and decide.",
    )
    changed_at = models.DateTimeField(default=timezone.now, editable=False)
    changed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        verbose_name = verbose_name_plural = "sign-in rules"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="security_setting_one_row")]

    def __str__(self) -> str:
        return "Sign-in rules"
