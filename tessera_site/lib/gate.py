"""The publish gate as contracts sees it: a callable named by ``settings.TESSERA_PUBLISH_GATE``.

The gate's judgement (the latest audits of an asset) lives in the audits app, above contracts;
the publishing services in contracts ask through this seam, so they import nothing from audits.
The setting names the concrete gate (``"audits.selectors.publish_allowed"``), resolved with
``import_string`` as Django resolves its backends. There is no default: a gate that silently
allowed every publish would be a trust hole, so missing wiring raises ``ImproperlyConfigured``.
"""

from __future__ import annotations

from typing import Any, Protocol

from tessera_site.lib.wiring import setting_callable


class GateWord(Protocol):
    """The gate's answer: publish or hold, with its reasons in words."""

    publish: bool
    reasons: list[str]


class PublishGate(Protocol):
    """None when the asset does not require a passing audit, else the gate's word on ``version``."""

    def __call__(self, *, asset: Any, version: Any | None = None) -> GateWord | None: ...


def publish_gate() -> PublishGate:
    """The gate the settings name; raises ImproperlyConfigured when none is named or it cannot be imported."""
    gate: PublishGate = setting_callable(
        "TESSERA_PUBLISH_GATE", required_because="publishing cannot be judged."
    )
    return gate


def publish_allowed(*, asset: Any, version: Any | None = None) -> GateWord | None:
    """Ask the configured gate about publishing ``version`` of ``asset`` (see ``PublishGate``)."""
    return publish_gate()(asset=asset, version=version)
