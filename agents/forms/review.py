"""What reviewers write: the comment of a decision."""

from __future__ import annotations

from typing import Any

from django import forms


class ReviewCommentForm(forms.Form):
    """What a reviewer writes to an author when sending agents back (or, optionally, approving)."""

    comment = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField"}),
        help_text="Sent to the author. Required to request changes.",
    )


class RequestChangesForm(ReviewCommentForm):
    """The comment for sending many agents back at once: asked for before any of them moves."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["comment"].required = True
        self.fields["comment"].error_messages["required"] = (
            "Say what has to change: a comment is required to request changes."
        )
