"""factory_boy factories for the accounts structure."""

import factory

from accounts.models import Membership, Organisation, Region, Role, System, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"person{n}@example.nhs.uk")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password("correct horse battery staple")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    code = factory.Sequence(lambda n: f"region{n}")
    name = factory.Sequence(lambda n: f"Region {n}")


class SystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = System

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"system{n}")
    name = factory.Sequence(lambda n: f"System {n}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    system = factory.SubFactory(SystemFactory)
    ods_code = factory.Sequence(lambda n: f"Q{n:03d}")
    name = factory.Sequence(lambda n: f"Organisation {n} NHS Trust")
    kind = Organisation.Kind.ACUTE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.ORG_PREPARER
