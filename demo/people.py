"""The demo data: a fictional region with two systems, and a person for every role.

Every name is made up (the places come from fiction) and every ODS code starts with Z, which
no real organisation's does here. `openbook seed` loads it; loading it twice changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import Membership, Organisation, Region, Role, System, User
from accounts.services import membership_create

K = Organisation.Kind

REGION = ("midshire", "Midshire (demo region)")

SYSTEMS = {
    "borsetshire": (
        "Borsetshire Integrated Care System",
        [
            ("ZB1", "Borchester General Hospital NHS Trust", K.ACUTE),
            ("ZB2", "Felpersham University Hospitals NHS Foundation Trust", K.ACUTE),
            ("ZB3", "Borsetshire Community Health NHS Trust", K.COMMUNITY),
            ("ZB4", "Borsetshire Mind and Wellbeing NHS Foundation Trust", K.MENTAL_HEALTH),
            ("ZB5", "Midshire Ambulance Service NHS Trust", K.AMBULANCE),
            ("ZB6", "NHS Borsetshire Integrated Care Board", K.COMMISSIONER),
            ("ZB7", "Borsetshire County Council", K.LOCAL_AUTHORITY),
            ("ZB8", "Ambridge and Penny Hassett Primary Care Network", K.PRIMARY_CARE_NETWORK),
        ],
    ),
    "loamshire": (
        "Loamshire Integrated Care System",
        [
            ("ZL1", "Loamshire Royal Infirmary NHS Trust", K.ACUTE),
            ("ZL2", "Loamshire Partnership NHS Foundation Trust", K.MENTAL_HEALTH),
            ("ZL3", "Loamshire Community Services NHS Trust", K.COMMUNITY),
            ("ZL4", "NHS Loamshire Integrated Care Board", K.COMMISSIONER),
            ("ZL5", "Loamshire County Council", K.LOCAL_AUTHORITY),
        ],
    ),
}

# (e-mail, full name, role, where: ODS code, system code or region code)
PEOPLE = [
    ("reviewer@openbook.invalid", "Rita Reviewer", Role.REGION_REVIEWER, REGION[0]),
    ("borsetshire.lead@openbook.invalid", "Lena Lead", Role.SYSTEM_LEAD, "borsetshire"),
    ("borsetshire.viewer@openbook.invalid", "Vic Viewer", Role.SYSTEM_VIEWER, "borsetshire"),
    ("borchester.preparer@openbook.invalid", "Priya Preparer", Role.ORG_PREPARER, "ZB1"),
    ("borchester.approver@openbook.invalid", "Adam Approver", Role.ORG_APPROVER, "ZB1"),
    ("borchester.viewer@openbook.invalid", "Olu Viewer", Role.ORG_VIEWER, "ZB1"),
    ("borsetshire.icb.approver@openbook.invalid", "Cara Commissioner", Role.ORG_APPROVER, "ZB6"),
    ("loamshire.lead@openbook.invalid", "Leo Lead", Role.SYSTEM_LEAD, "loamshire"),
    ("loamshire.viewer@openbook.invalid", "Val Viewer", Role.SYSTEM_VIEWER, "loamshire"),
    ("loamroyal.preparer@openbook.invalid", "Pat Preparer", Role.ORG_PREPARER, "ZL1"),
    ("loamroyal.approver@openbook.invalid", "Ada Approver", Role.ORG_APPROVER, "ZL1"),
    ("loamroyal.viewer@openbook.invalid", "Owen Viewer", Role.ORG_VIEWER, "ZL1"),
    ("loamshire.icb.approver@openbook.invalid", "Cal Commissioner", Role.ORG_APPROVER, "ZL4"),
]
ADMIN = ("admin@openbook.invalid", "Ash Administrator")

_PLACES = {REGION[0]: REGION[1]} | {
    key: value
    for code, (system_name, organisations) in SYSTEMS.items()
    for key, value in [(code, system_name)]
    + [(ods, f"{name} ({ods})") for ods, name, _ in organisations]
}
DEMO_LOGINS = [(ADMIN[0], "Platform administrator (also /admin/)")] + [
    (email, f"{Role(role).label}, {_PLACES[where]}") for email, _, role, where in PEOPLE
]


def _user(email: str, full_name: str, **extra: object) -> tuple[User, bool]:
    user = User.objects.filter(email=email).first()
    if user is not None:
        return user, False
    if extra.get("is_superuser"):
        user = User.objects.create_superuser(email, settings.DEMO_PASSWORD, full_name=full_name)
    else:
        user = User.objects.create_user(email, settings.DEMO_PASSWORD, full_name=full_name)
    return user, True


@transaction.atomic
def seed_demo() -> dict[str, int]:
    """Create whatever part of the demo data is missing; return counts of what was made."""
    made = {"regions": 0, "systems": 0, "organisations": 0, "users": 0, "memberships": 0}
    region, created = Region.objects.get_or_create(code=REGION[0], defaults={"name": REGION[1]})
    made["regions"] += created
    for code, (name, organisations) in SYSTEMS.items():
        system, created = System.objects.get_or_create(
            code=code, defaults={"name": name, "region": region}
        )
        made["systems"] += created
        for ods_code, org_name, kind in organisations:
            _, created = Organisation.objects.get_or_create(
                ods_code=ods_code, defaults={"name": org_name, "kind": kind, "system": system}
            )
            made["organisations"] += created
    _, created = _user(*ADMIN, is_superuser=True)
    made["users"] += created
    for email, full_name, role, where in PEOPLE:
        user, created = _user(email, full_name)
        made["users"] += created
        scope = {
            "organisation": Organisation.objects.filter(ods_code=where).first(),
            "system": System.objects.filter(code=where).first(),
            "region": Region.objects.filter(code=where).first(),
        }
        scope = {k: v for k, v in scope.items() if v is not None}
        if not Membership.objects.filter(user=user, role=role, **scope).exists():
            membership_create(actor=None, user=user, role=role, **scope)
            made["memberships"] += 1
    return made
