"""The portal's collection form: name, title, description, keywords and the members in order."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from .. import permissions
from ..models import Agent, Collection

MAX_KEYWORDS = 20
MAX_KEYWORD_LENGTH = 50
MAX_MEMBERS = 500


def visible_agents(user: Any) -> Any:
    agents = Agent.objects.all()
    visible = permissions.view_filter(user)
    return agents if visible is None else agents.filter(visible)


def find_agents(user: Any, names: list[str]) -> tuple[list[Agent], list[str]]:
    """The agents these names or addresses (slugs) name, in this order, among those the user may
    see; and the names that name none of them."""
    found = visible_agents(user).filter(Q(slug__in=names) | Q(name__in=names))
    by_name = {agent.name: agent for agent in found}
    by_slug = {agent.slug: agent for agent in found}
    agents, unknown = [], []
    for name in names:
        agent = by_name.get(name) or by_slug.get(name)
        if agent is None:
            unknown.append(name)
        elif agent not in agents:
            agents.append(agent)
    return agents, unknown


class CollectionForm(forms.ModelForm):
    keywords = forms.CharField(
        required=False,
        help_text="Separated by commas, e.g. backend, python, review.",
    )
    members = forms.CharField(
        required=False,
        label="Agents",
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=(
            "One agent name per line, in the order people should see them. Only their "
            "published revisions go into the plugin."
        ),
    )

    class Meta:
        model = Collection
        fields = ["slug", "title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        self.agents: list[Agent] = []
        # Members this user may not see (drafts of others an admin added): neither shown nor
        # removed by this form.
        self.kept: list[Agent] = []
        if self.instance.pk:
            # The name is the plugin's: people installed it as name@marketplace.
            del self.fields["slug"]
            self.initial.setdefault("keywords", ", ".join(self.instance.keywords or []))
            members = [member.agent for member in self.instance.members.all()]
            visible = set(
                visible_agents(user)
                .filter(pk__in=[agent.pk for agent in members])
                .values_list("pk", flat=True)
            )
            self.kept = [agent for agent in members if agent.pk not in visible]
            self.initial.setdefault(
                "members", "\n".join(agent.name for agent in members if agent.pk in visible)
            )
            if self.kept:
                self.fields[
                    "members"
                ].help_text += (
                    f" {len(self.kept)} more agent(s) that you cannot see stay in the collection."
                )

    def clean_keywords(self) -> list[str]:
        words: list[str] = []
        for word in self.cleaned_data["keywords"].split(","):
            word = " ".join(word.split())
            if word and word not in words:
                words.append(word)
        too_long = [word for word in words if len(word) > MAX_KEYWORD_LENGTH]
        if too_long:
            raise forms.ValidationError(
                f"A keyword may be at most {MAX_KEYWORD_LENGTH} characters: {too_long[0]}"
            )
        if len(words) > MAX_KEYWORDS:
            raise forms.ValidationError(f"At most {MAX_KEYWORDS} keywords; this has {len(words)}.")
        return words

    def clean_members(self) -> str:
        text = self.cleaned_data["members"]
        names = [line.strip() for line in text.splitlines() if line.strip()]
        if len(names) > MAX_MEMBERS:
            raise forms.ValidationError(
                f"At most {MAX_MEMBERS} agents in a collection; this lists {len(names)}."
            )
        agents, unknown = find_agents(self.user, names)
        if unknown:
            raise forms.ValidationError(
                "No agent you can see is called " + ", ".join(unknown) + ". Check the spelling "
                "(names are exact), or remove the line."
            )
        self.agents = agents
        return text

    def save(self, commit: bool = True) -> Collection:
        collection = super().save(commit=False)
        collection.keywords = self.cleaned_data["keywords"]
        if commit:
            collection.save()
        return collection
