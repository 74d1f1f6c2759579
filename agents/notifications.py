"""E-mail about reviews: reviewers hear of submissions, authors of approvals and send-backs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from .permissions import REVIEWERS

if TYPE_CHECKING:
    from .models import Event


def send_for(event: Event) -> None:
    """Send the e-mail an audit event calls for, if any (called once the event is committed)."""
    agent = event.agent
    who = event.actor.get_username() if event.actor else "the operator"
    if event.action == "submit":
        User = get_user_model()
        reviewers = User.objects.filter(is_active=True).exclude(email="")
        reviewers = reviewers.filter(groups__name=REVIEWERS).exclude(pk=event.actor_id).distinct()
        recipients = sorted(reviewers.values_list("email", flat=True))
        subject = f"[Agent Portal] {agent.name} is waiting for review"
        body = f"{who} submitted {agent.name} for review."
    elif event.action in ("approve", "request_changes"):
        submitter = agent.events.filter(action="submit").select_related("actor").first()
        author = submitter.actor if submitter and submitter.actor else agent.owner
        recipients = [author.email] if author and author.email else []
        if event.action == "approve":
            subject = f"[Agent Portal] {agent.name} was approved"
            body = f"{who} approved {agent.name}; everyone now downloads this revision."
        else:
            subject = f"[Agent Portal] {agent.name} needs changes"
            body = f"{who} sent {agent.name} back with this comment:"
    else:
        return
    if event.comment:
        body += f"\n\n{event.comment}"
    if recipients:
        send_mail(subject, body, None, recipients)
