"""Amounts, percentages and times come out in the reader's language, through coop.formats.

A French page shows "12,00 €" (with the no-break space Babel puts before the sign) and French
month names; an English one "€12.00"; dates are the medium date and the short time, never the
US short form; mails and statements use the same formats (tested with them).
"""

from datetime import UTC, datetime

from conftest import login_client

from coop import formats

NBSP = "\u00a0"


def test_money_and_percent_in_english_and_french(app):
    with app.app_context():
        assert formats.money(1200, locale="en") == "€12.00"
        assert formats.money(1200, locale="fr") == f"12,00{NBSP}€"
        assert formats.money(-123456, locale="fr") == f"-1\u202f234,56{NBSP}€"
        assert formats.percent(750, locale="en") == "7.50%"
        assert formats.percent(750, locale="fr") == f"7,50{NBSP}%"
        assert formats.percent(7500, places=0, locale="fr") == f"75{NBSP}%"
        assert formats.hours(100, locale="fr") == "1,67"
        assert formats.month("2026-12", locale="fr") == "décembre 2026"


def test_times_are_the_medium_date_and_short_time_in_the_zone_given(app):
    moment = datetime(2026, 12, 4, 7, 13)  # naive UTC, as stored: 08:13 in Paris
    with app.app_context():
        assert formats.datetime_(moment, locale="fr", zone="Europe/Paris") == "4 déc. 2026, 08:13"
        english = formats.datetime_(moment, locale="en", zone="Europe/Paris")
        assert english.replace("\u202f", " ") == "Dec 4, 2026, 8:13 AM"
        assert formats.date_(moment, locale="en", zone="Europe/Paris") == "Dec 4, 2026"


def test_ledger_times_in_plain_words_round_outward_and_name_the_zone(app):
    # 4 Dec 2026, 08:14:30.5 UTC: 09:14 in Paris.
    ns = int(datetime(2026, 12, 4, 8, 14, 30).replace(tzinfo=UTC).timestamp()) * 10**9 + 5 * 10**8
    with app.app_context():
        assert formats.ns_date(ns, locale="fr", zone="Europe/Paris") == "4 déc. 2026"
        assert formats.ns_clock(ns, locale="fr", zone="Europe/Paris") == "09:14"
        # The upper end of a bound is raised to the next minute, never cut below the truth.
        assert formats.ns_clock(ns, up=True, locale="fr", zone="Europe/Paris") == "09:15"
        on_the_minute = ns - 30 * 10**9 - 5 * 10**8  # 09:14:00 exactly stays 09:14
        assert formats.ns_clock(on_the_minute, up=True, locale="fr", zone="Europe/Paris") \
            == "09:14"
        # Beside a time on another day, the day is given too.
        day_later = ns + 24 * 3600 * 10**9
        assert formats.ns_clock(ns, beside=day_later, locale="fr", zone="Europe/Paris") \
            == "4 déc. 2026, 09:14"
        assert formats.zone_name(locale="en", zone="Europe/Paris") == "Central European Time"
        assert formats.zone_name(locale="fr", zone="Europe/Paris") == "heure d’Europe centrale"
        assert formats.zone_name(locale="fr", zone="UTC") == "UTC"


def test_a_french_page_shows_french_amounts_and_month_names(app, make_member, make_task):
    make_task(title="Label 50 photos", price_cents=1200, estimated_minutes=30,
              deadline=datetime(2030, 12, 4, 7, 13))
    member = login_client(app, make_member())
    french = member.get("/tasks", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert f"12,00{NBSP}€" in french
    assert "€12.00" not in french
    assert "4 déc. 2030, 08:13" in french  # Paris time, French month
    english = member.get("/tasks", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "€12.00" in english
    assert "Dec 4, 2030" in english and "12/4/30" not in english


def test_a_french_home_page_states_the_margin_as_a_french_percentage(client):
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert f"8,00{NBSP}%" in page
    assert f"12,00{NBSP}€" in page
    english = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "8.00%" in english and "€12.00" in english
