"""The post-task form (issue 11, item 10): files chosen on a submit that fails are kept and
attached by the next submit, carried by tokens only the same user's same session can use (a
hash, someone else's token or a tampered one attaches nothing); the least price shown for the
minutes is exactly where the server starts refusing; a pricing mode's fields are ignored when
the other mode is chosen."""

import hashlib
import html
import io
import re
from datetime import timedelta

import pytest
from conftest import login_client
from test_market_posting import fixed_form, local_input

from coop import kept_uploads
from coop.models import Parameter, Task, TaskAttachment
from coop.money import parse_cents

GUIDE = b"Draw a box around every bicycle.\n"
GUIDE_SHA = hashlib.sha256(GUIDE).hexdigest()


def post(web, data, files=()):
    data = dict(data)
    data["attachments"] = [(io.BytesIO(body), name) for body, name in files]
    return web.post("/tasks/new", data=data, content_type="multipart/form-data")


def tokens(response) -> list[str]:
    page = response.get_data(as_text=True)
    return [html.unescape(t) for t in re.findall(r'name="kept_upload" value="([^"]+)"', page)]


def minimum_shown(response) -> str:
    page = response.get_data(as_text=True)
    return re.search(r'<output class="minimum-pay"[^>]*>([^<]*)</output>', page).group(1)


def test_a_failed_submit_keeps_the_file_and_the_next_attaches_it(app, make_client_user):
    web = login_client(app, make_client_user())
    failed = post(web, fixed_form(price="1.00"), [(GUIDE, "guide.txt")])
    assert failed.status_code == 400
    assert Task.select().count() == 0
    page = failed.get_data(as_text=True)
    assert "guide.txt" in page and "(33 bytes)" in page
    assert f'name="remove_upload" value="{GUIDE_SHA}"' in page

    # The second submit chooses no file: the token carries the first one.
    fixed = post(web, fixed_form(price="9.00", kept_upload=tokens(failed)))
    assert fixed.status_code == 302
    (attachment,) = TaskAttachment.select()
    assert (attachment.filename, attachment.sha256, attachment.size) == (
        "guide.txt", GUIDE_SHA, len(GUIDE))
    assert attachment.task_id == Task.get().id


def test_kept_files_survive_several_failures_and_join_new_ones_once(app, make_client_user):
    web = login_client(app, make_client_user())
    first = post(web, fixed_form(title=""), [(GUIDE, "guide.txt")])
    # Fails again; adds a file, and the guide chosen again is not attached twice.
    second = post(web, fixed_form(price="1", kept_upload=tokens(first)),
                  [(b"a,b\n", "list.csv"), (GUIDE, "guide.txt")])
    assert second.status_code == 400
    assert len(tokens(second)) == 2
    assert post(web, fixed_form(kept_upload=tokens(second))).status_code == 302
    assert sorted(a.filename for a in TaskAttachment.select()) == ["guide.txt", "list.csv"]


def test_remove_leaves_a_kept_file_out(app, make_client_user):
    web = login_client(app, make_client_user())
    failed = post(web, fixed_form(price="1"), [(GUIDE, "guide.txt"), (b"a,b\n", "list.csv")])
    response = post(web, fixed_form(kept_upload=tokens(failed), remove_upload=[GUIDE_SHA]))
    assert response.status_code == 302
    assert [a.filename for a in TaskAttachment.select()] == ["list.csv"]


def _refused(web, kept):
    response = post(web, fixed_form(kept_upload=kept))
    assert response.status_code == 400
    assert "A file kept from your last attempt is no longer available" in response.get_data(
        as_text=True)
    assert Task.select().count() == 0 and TaskAttachment.select().count() == 0


def test_a_hash_nobody_kept_for_this_user_attaches_nothing(app, make_client_user):
    user = make_client_user()
    owner = login_client(app, user)
    failed = post(owner, fixed_form(price="1"), [(GUIDE, "guide.txt")])
    (token,) = tokens(failed)
    # The bare hash of a file in the store, as if guessed.
    _refused(login_client(app, make_client_user()), [GUIDE_SHA])
    # The owner's token, copied by another client.
    _refused(login_client(app, make_client_user()), [token])
    # The owner's own token in another session (another browser, or after signing out).
    _refused(login_client(app, user), [token])
    # The owner's token with a character of its payload changed.
    _refused(owner, [token[:9] + ("A" if token[9] != "A" else "B") + token[10:]])
    # The owner's token itself is still good.
    assert post(owner, fixed_form(kept_upload=[token])).status_code == 302


def test_a_token_past_its_day_attaches_nothing(app, make_client_user, monkeypatch):
    web = login_client(app, make_client_user())
    failed = post(web, fixed_form(price="1"), [(GUIDE, "guide.txt")])
    monkeypatch.setattr(kept_uploads, "MAX_AGE_SECONDS", -1)
    _refused(web, tokens(failed))


def test_a_failed_submit_keeps_only_what_fits_the_quota(app, make_client_user, make_task):
    user = make_client_user()
    Parameter.create(key="client_storage_quota_mb", value=1)
    TaskAttachment.create(task=make_task(client=user), filename="old.zip", sha256="0" * 64,
                          size=1024 * 1024 - 10)
    response = post(login_client(app, user), fixed_form(price="1"), [(GUIDE, "guide.txt")])
    assert response.status_code == 413
    assert "past your storage quota of 1 MiB" in response.get_data(as_text=True)
    assert tokens(response) == []
    with app.test_request_context():
        assert not kept_uploads.files.is_stored(GUIDE_SHA)


def test_the_least_price_shown_is_where_the_server_starts_refusing(app, make_client_user):
    web = login_client(app, make_client_user())
    assert minimum_shown(web.get("/tasks/new")) == "enter the estimated minutes"
    shown = minimum_shown(post(web, fixed_form(estimated_minutes="60", title="")))
    least = parse_cents(shown.removeprefix("€"))
    assert least == 1304  # nets the member 12.00 € after the 8 % margin (1303 nets 11.99 €)
    below = post(web, fixed_form(estimated_minutes="60", price=f"{(least - 1) / 100:.2f}"))
    assert below.status_code == 400 and f"must be at least {shown}" in below.get_data(
        as_text=True)
    assert post(web, fixed_form(estimated_minutes="60", price=shown.removeprefix("€"))
                ).status_code == 302


def test_the_least_price_follows_the_board_and_the_language(app, make_client_user):
    Parameter.create(key="pay_floor_cents_per_hour", value=1500)
    web = login_client(app, make_client_user())
    with web.session_transaction() as session:
        session["lang"] = "fr"
    response = post(web, fixed_form(estimated_minutes="60", title=""))
    assert minimum_shown(response) == "16,30\N{NO-BREAK SPACE}€"
    page = response.get_data(as_text=True)
    assert 'data-floor="1500"' in page and 'data-margin-bp="800"' in page


@pytest.mark.parametrize(
    ("pricing", "other_fields"),
    [
        ("bids", {"price": "abc"}),
        ("fixed", {"budget": "-3", "bidding_deadline": "someday"}),
    ],
)
def test_the_other_modes_fields_are_ignored(app, make_client_user, pricing, other_fields):
    mode = {"fixed": {"price": "9.00"},
            "bids": {"budget": "20", "bidding_deadline": local_input(timedelta(days=1))}}
    data = fixed_form(pricing=pricing, price="")
    data.update(mode[pricing])
    data.update(other_fields)
    assert post(login_client(app, make_client_user()), data).status_code == 302
    task = Task.get()
    assert (task.price_cents, task.budget_cents) == (
        (900, None) if pricing == "fixed" else (None, 2000))


def test_each_mode_has_its_own_fieldset(app, make_client_user):
    page = login_client(app, make_client_user()).get("/tasks/new").get_data(as_text=True)
    fixed = page[page.index('class="pricing-mode mode-fixed"'):page.index("mode-bids")]
    bids = page[page.index('class="pricing-mode mode-bids"'):]
    assert 'name="price"' in fixed and 'name="budget"' not in fixed
    assert 'name="budget"' in bids and 'name="bidding_deadline"' in bids
    assert 'name="price"' not in bids


def test_a_form_carrying_no_file_adds_nothing_to_the_session(app, make_client_user):
    web = login_client(app, make_client_user())
    assert web.get("/tasks/new").status_code == 200
    assert post(web, fixed_form(price="1")).status_code == 400
    with web.session_transaction() as session:
        assert kept_uploads._SESSION_KEY not in session
