"""The confirmation step of an irreversible action: one page that says what will happen.

Each such action has a GET page (read-only) that states its consequences and what cannot be
undone, with the form that does it. The form carries `confirmed=1`; a POST without it (a page
cached from before, a script) shows the same page and changes nothing. Without JavaScript it
is two ordinary page loads.
"""

from dataclasses import dataclass, field

from flask import render_template, request


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says and where its form goes."""

    title: str
    consequences: list[str]  # what will happen, one sentence each
    final: str  # what cannot be undone
    action: str  # the URL the form posts to
    submit: str  # the button that does it
    back: str  # where "go back" leads, changing nothing
    hidden: dict[str, str] = field(default_factory=dict)  # values carried to the POST
    danger: bool = True  # the button is drawn as destructive (red) when the action removes


def is_confirmed() -> bool:
    """Return whether the POST came from a confirmation page's form."""
    return request.form.get("confirmed") == "1"


def render_confirmation(confirmation: Confirmation, form=None, fields=(), status: int = 200):
    """Render the confirmation page; form and fields add inputs (a reason, a decision)."""
    page = render_template(
        "confirm.html",
        confirmation=confirmation,
        form=form,
        fields=[form[name] for name in fields] if form is not None else [],
    )
    return page, status
