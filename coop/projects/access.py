"""Who may see what of a project: one rule used by the pages, the media and the downloads."""

from flask_babel import gettext as _

from coop.errors import NotFound
from coop.models import User
from coop.projects.models import Answer, Assignment, Item, Project, ProjectState

# Members see a project once it has been published, never a draft or a cancelled one.
MEMBER_VISIBLE = (ProjectState.PUBLISHED, ProjectState.PAUSED, ProjectState.FINISHED)


def _project(project_id: int) -> Project:
    project = Project.get_or_none(Project.id == project_id)
    if project is None:
        raise NotFound(_("No such project."))
    return project


def client_project(viewer: User, project_id: int) -> Project:
    """Return the project if viewer is the client who owns it; else NotFound.

    A qualification's test is nobody's to review or download: members' test answers are
    their own, so its holder has no client pages for it.
    """
    project = _project(project_id)
    if project.client_id != viewer.id or project.is_test:
        raise NotFound(_("No such project among yours."))
    return project


def visible_project(viewer: User, project_id: int) -> Project:
    """Return the project if viewer may see it: its client, the board, or members once live."""
    project = _project(project_id)
    if project.is_test:
        # A test is seen only by the members who sit it, from its qualification's page.
        if viewer.is_member and project.state == ProjectState.PUBLISHED:
            return project
        raise NotFound(_("No such project."))
    if project.client_id == viewer.id or viewer.is_board:
        return project
    if viewer.is_member and project.state in MEMBER_VISIBLE:
        if project.sensitive and not viewer.sensitive_opt_in:
            raise NotFound(_("No such project."))
        return project
    raise NotFound(_("No such project."))


def member_assignment(viewer: User, assignment_id: int) -> Assignment:
    """Return the member's own assignment; anybody else's is NotFound."""
    assignment = Assignment.get_or_none(Assignment.id == assignment_id)
    if assignment is None or assignment.member_id != viewer.id:
        raise NotFound(_("No such item among yours."))
    return assignment


def client_answer(viewer: User, answer_id: int) -> Answer:
    """Return an answer on one of the client's projects; else NotFound."""
    answer = Answer.get_or_none(Answer.id == answer_id)
    if answer is None or answer.project.client_id != viewer.id or answer.project.is_test:
        raise NotFound(_("No such answer among your projects."))
    return answer


def media_item(viewer: User, project_id: int, item_id: int) -> Item:
    """Return an item whose media viewer may load: the project's client, or a member leased it."""
    item = Item.get_or_none((Item.id == item_id) & (Item.project == project_id))
    if item is None:
        raise NotFound(_("No such item."))
    if item.project.client_id == viewer.id:
        return item
    leased = Assignment.select().where(
        (Assignment.item == item.id) & (Assignment.member == viewer.id)
    )
    if viewer.is_member and leased.exists():
        return item
    raise NotFound(_("No such item."))
