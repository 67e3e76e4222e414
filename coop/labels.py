"""Stored values -> the words people read, translated: registered once, for every template.

Templates show a role as `role_label(user)`, never the raw value ("member"), so a French page
says "(membre)". (The market's state labels still live in coop/market/forms.py.)
"""

from flask_babel import lazy_gettext as _l

from coop.models import CATEGORIES, MemberStatus, Role

ROLE_LABELS = {
    Role.CLIENT: _l("client"),
    Role.MEMBER: _l("member"),
    Role.BOARD: _l("board"),
}
# Until the board admits them, a would-be member's standing is their application's.
STATUS_LABELS = {
    MemberStatus.APPLICANT: _l("applicant"),
    MemberStatus.DECLINED: _l("declined"),
}
assert set(ROLE_LABELS) == set(Role)  # noqa: S101 (a new role needs a label)

CATEGORY_LABELS = {
    "moderation": _l("Content moderation"),
    "transcription": _l("Transcription"),
    "image_labelling": _l("Image labelling"),
    "search_relevance": _l("Search relevance"),
    "id_check": _l("ID checks"),
    "photo_clipping": _l("Photo clipping"),
    "data_entry": _l("Data entry"),
}
assert set(CATEGORY_LABELS) == set(CATEGORIES)  # noqa: S101 (a new category needs a label)
# A statement's lines of paid project answers carry this category.
PROJECT_ANSWERS = "projects"


def category_label(category: str) -> str:
    """Return a task category in the reader's language ("Modération de contenu")."""
    if category == PROJECT_ANSWERS:
        return str(_l("Project answers"))
    return str(CATEGORY_LABELS.get(category, category))


def role_label(user) -> str:
    """Return the user's role in the reader's language: applicant, declined, member, board."""
    if user.role != Role.CLIENT and user.member_status in STATUS_LABELS:
        return str(STATUS_LABELS[user.member_status])
    return str(ROLE_LABELS.get(user.role, user.role))


def init_app(app) -> None:
    app.jinja_env.globals["role_label"] = role_label
