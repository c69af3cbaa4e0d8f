"""factory-boy factories for the contracts app, shared by every app's tests.

Versions are built from a ContractSpec so their stored JSON, content hash and the asset's
``active_version``/``content_hash`` stay consistent with what a sync would have written:

    asset = AssetFactory()
    v1 = ContractVersionFactory(asset=asset, spec=ContractSpec(columns=[ColumnSpec("id", "integer")]))
    key, secret = api_key_for(team, scopes="read,write")
"""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from contracts.compat.serialize import columns_to_json, guarantees_to_json
from contracts.domain import ColumnSpec, ContractSpec, GuaranteeSpec, relation_name
from contracts.models import (
    ApiKey,
    Asset,
    AssetNode,
    ContractVersion,
    LineageEdge,
    Project,
    Proposal,
    Registration,
    Team,
    TeamMembership,
)


def default_spec() -> ContractSpec:
    return ContractSpec(
        columns=[
            ColumnSpec("id", "integer", nullable=False, description="Primary key"),
            ColumnSpec("name", "varchar"),
            ColumnSpec("created_at", "timestamp"),
        ],
        guarantees=[GuaranteeSpec("not_null", "id"), GuaranteeSpec("unique", "id")],
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("password")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    email = factory.LazyAttribute(lambda o: f"{o.slug}@example.com")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(UserFactory)
    role = TeamMembership.Role.MEMBER


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"project_{n}")
    owner_team = factory.SubFactory(TeamFactory)


class AssetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Asset

    project = factory.SubFactory(ProjectFactory)
    owner_team = factory.LazyAttribute(lambda o: o.project.owner_team if o.project else TeamFactory())
    resource_type = Asset.Type.MODEL
    name = factory.Sequence(lambda n: f"model_{n}")
    database = factory.LazyAttribute(lambda o: o.project.name if o.project else "warehouse")
    schema = "main"
    identifier = factory.LazyAttribute(lambda o: o.name)
    relation = factory.LazyAttribute(lambda o: relation_name(o.database, o.schema, o.identifier))
    unique_id = factory.LazyAttribute(
        lambda o: f"{o.resource_type}.{o.project.name if o.project else 'warehouse'}.{o.name}"
    )
    package_name = factory.LazyAttribute(lambda o: o.project.name if o.project else "")
    materialized = "table"
    compatibility_mode = "backward"


class ContractVersionFactory(factory.django.DjangoModelFactory):
    """A contract version from ``spec`` (a ContractSpec). An ``active`` version becomes the
    asset's active version and supersedes the previous one, as a publish would."""

    class Meta:
        model = ContractVersion
        exclude = ("spec",)

    asset = factory.SubFactory(AssetFactory)
    spec = factory.LazyFunction(default_spec)
    major = 1
    minor = 0
    patch = 0
    status = ContractVersion.Status.ACTIVE
    change_kind = ContractVersion.ChangeKind.INITIAL
    columns = factory.LazyAttribute(lambda o: columns_to_json(o.spec))
    guarantees = factory.LazyAttribute(lambda o: guarantees_to_json(o.spec))
    compatibility_mode = factory.LazyAttribute(lambda o: o.asset.compatibility_mode)
    content_hash = factory.LazyAttribute(
        lambda o: ContractSpec(
            columns=list(o.spec.columns), guarantees=list(o.spec.guarantees), mode=o.compatibility_mode
        ).content_hash()
    )
    published_at = factory.LazyFunction(timezone.now)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        asset = kwargs["asset"]
        if kwargs.get("status") == ContractVersion.Status.ACTIVE:
            ContractVersion.objects.filter(asset=asset, status=ContractVersion.Status.ACTIVE).update(
                status=ContractVersion.Status.SUPERSEDED
            )
        version = super()._create(model_class, *args, **kwargs)
        if version.status == ContractVersion.Status.ACTIVE:
            asset.active_version = version
            asset.active_major = version.major
            asset.content_hash = version.content_hash
            asset.save(update_fields=["active_version", "active_major", "content_hash"])
        return version


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    asset = factory.SubFactory(AssetFactory)
    team = factory.SubFactory(TeamFactory)
    origin = Registration.Origin.MANUAL
    purpose = ""


class AssetNodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssetNode

    asset = factory.SubFactory(AssetFactory)
    project = factory.LazyAttribute(lambda o: o.asset.project)
    unique_id = factory.LazyAttribute(lambda o: o.asset.unique_id)
    resource_type = factory.LazyAttribute(lambda o: o.asset.resource_type)


class LineageEdgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineageEdge

    upstream = factory.SubFactory(AssetFactory)
    downstream = factory.SubFactory(AssetFactory)
    project = factory.LazyAttribute(lambda o: o.downstream.project)


class ProposalFactory(factory.django.DjangoModelFactory):
    """An open proposal; pass ``required_teams=[...]`` to set who must answer."""

    class Meta:
        model = Proposal
        skip_postgeneration_save = True

    asset = factory.SubFactory(AssetFactory)
    base_version = factory.LazyAttribute(lambda o: o.asset.active_version)
    proposed_hash = factory.Sequence(lambda n: f"{n:064x}")
    verdict = factory.LazyFunction(dict)
    origin = Proposal.Origin.SYNC
    status = Proposal.Status.OPEN
    deadline = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

    @factory.post_generation
    def required_teams(obj, create, extracted, **kwargs):  # noqa: N805 (factory-boy hook)
        if create and extracted:
            obj.required_teams.set(extracted)


def api_key_for(team: Team, *, scopes: str = "read,write", name: str = "test") -> tuple[ApiKey, str]:
    """An API key of ``team`` and its plain secret (for ``Authorization: Bearer <secret>``)."""
    from contracts.services.apikeys import apikey_create

    return apikey_create(team=team, name=name, scopes=scopes)
