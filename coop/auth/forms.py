"""Account forms (Flask-WTF: every one carries a CSRF token)."""

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length

COMMON_TIMEZONES = sorted(
    tz for tz in available_timezones() if tz.startswith(("Europe/", "America/", "Africa/", "Asia/"))
) + ["UTC"]


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class RegisterForm(FlaskForm):
    name = StringField(_l("Name or organisation"), validators=[DataRequired(), Length(max=100)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class NewPasswordForm(FlaskForm):
    """A new password typed twice; its rules are the operations' (passwords.py says why)."""

    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=200)]
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=200)]
    )


class ForgotPasswordForm(FlaskForm):
    # No format check: any address an account has (the CLI makes some) must be able to reset.
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(NewPasswordForm):
    token = HiddenField(validators=[DataRequired(), Length(max=100)])


class ApplyForm(RegisterForm):
    note = TextAreaField(
        _l("Why you want to join, and the work you know"),
        validators=[DataRequired(), Length(max=2000)],
    )
    sensitive_opt_in = BooleanField(_l("I accept tasks flagged as sensitive content"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for declining (shown to the applicant)"),
        validators=[DataRequired(), Length(max=2000)],
    )


class ReapplyForm(FlaskForm):
    note = TextAreaField(
        _l("Why you want to join, and the work you know"),
        validators=[DataRequired(), Length(max=2000)],
    )


class EmptyForm(FlaskForm):
    """A form with only its CSRF token, for buttons that change something."""


class SettingsForm(FlaskForm):
    sensitive_opt_in = BooleanField(_l("I accept tasks flagged as sensitive content"))
    timezone = SelectField(
        _l("Time zone"), choices=[SelectChoice(tz, tz) for tz in COMMON_TIMEZONES]
    )


class LanguageForm(FlaskForm):
    lang = SelectField(
        _l("Language"), choices=[SelectChoice("en", "English"), SelectChoice("fr", "Français")]
    )
