"""What the webhooks app tells the platform (openbook/registry.py): the words for its audit
actions. Its objects are not linked from the timeline: their pages are the lead's alone."""

from __future__ import annotations

from openbook import registry

KINDS = {"webhook": "Webhooks"}
ACTIONS = {
    "webhook.registered": "Webhook registered",
    "webhook.changed": "Webhook changed",
    "webhook.removed": "Webhook removed",
    "webhook.secret_rotated": "Webhook given a new signing secret",
    "webhook.test_sent": "Webhook test event sent",
    "webhook.resent": "Webhook delivery sent again",
}


def register() -> None:
    registry.register_actions(KINDS, ACTIONS)
