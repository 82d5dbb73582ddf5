"""Forms for signing in, first run, account settings and admin pages: shape only."""

from __future__ import annotations

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app import idempotency
from app.i18n import WTFormsTranslations
from app.i18n import lazy_gettext as _l
from app.models import Role
from app.textcheck import bad_text

_WTFORMS_TRANSLATIONS = WTFormsTranslations()


class Form(FlaskForm):
    """Every form's base: Flask-WTF's, with WTForms' messages kept translated per locale."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _WTFORMS_TRANSLATIONS


class SentOnce(Form):
    """A form that makes something: a key made when it is shown travels with it, so a second
    sending of it leads to what the first made (app.idempotency)."""

    # No id: a page holds several such forms, and ids must be unique in it.
    idempotency_key = HiddenField(default=idempotency.new_key, render_kw={"id": False})

    def once(self, user_id: int, kind: str, make, **scope: object) -> idempotency.Outcome:
        """idempotency.once for this form as posted; `scope` names what it was posted to (an
        incident), so the same text sent to two incidents is two requests. A form edited
        after it was sent makes its new thing (changed_content="new")."""
        content = [*((name, str(value)) for name, value in sorted(scope.items())),
                   *idempotency.form_content(request.form.items(multi=True))]
        return idempotency.once(user_id, self.idempotency_key.data, kind, content, make,
                                changed_content="new")


def storable(form, field):
    if isinstance(field.data, str) and bad_text(field.data):
        raise ValidationError(_l("Contains characters that cannot be stored."))


def role_choices():
    labels = {Role.viewer: _l("Viewer (read only)"), Role.agent: _l("Agent"),
              Role.lead: _l("Lead"), Role.manager: _l("Manager"), Role.admin: _l("Admin")}
    return [(r.value, labels[r]) for r in Role]


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254), storable])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=200)])


class PersonFields(Form):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120), storable],
                       description=_l("Shown in full when this person signs an apology."))
    title = StringField(_l("Job title"), validators=[InputRequired(), Length(max=120), storable])
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254), storable])


class SetupForm(PersonFields):
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(min=10, max=200)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords differ."))])


class UserForm(PersonFields):
    role = SelectField(_l("Role"), choices=role_choices, validators=[InputRequired()])
    active = BooleanField(_l("Active (may sign in)"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=10, max=200)],
                             description=_l("Leave empty to keep the current password."))


class NewUserForm(UserForm):
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(min=10, max=200)],
                             description=_l("At least 10 characters."))


class AccountForm(Form):
    locale = SelectField(_l("Language"), choices=[("en", "English"), ("ko", "한국어")])
    timezone = SelectField(_l("Time zone"), validators=[InputRequired()])


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[InputRequired(), Length(max=200)])
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=10, max=200)],
                             description=_l("At least 10 characters."))
    confirm = PasswordField(_l("Repeat new password"), validators=[
        InputRequired(), EqualTo("password", message=_l("The passwords differ."))])


def _minutes(label):
    return IntegerField(label, validators=[Optional(), NumberRange(min=1, max=525_600)],
                        description=_l("Minutes; leave empty for no target."))


class GradeForm(Form):
    rank = IntegerField(_l("Rank (1 = most urgent)"),
                        validators=[InputRequired(), NumberRange(min=1, max=99)])
    colour = StringField(_l("Colour"), validators=[
        InputRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Use a colour like #d64545."))])
    description = TextAreaField(_l("Meaning (English)"), validators=[Length(max=2000), storable])
    description_ko = TextAreaField(_l("Meaning (Korean)"), validators=[Length(max=2000), storable])
    target_share_minutes = _minutes(_l("Share internally within"))
    target_resolve_minutes = _minutes(_l("Resolve within"))
    postmortem_required = BooleanField(_l("Postmortem required before closing"))
    notified_role = SelectField(_l("Role notified"), choices=role_choices)


class CategoryForm(Form):
    slug = StringField(_l("Key"), validators=[
        InputRequired(), Length(max=40),
        Regexp(r"^[a-z0-9_]+$", message=_l("Lower-case letters, digits and _ only."))])
    name = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=80), storable])
    name_ko = StringField(_l("Name (Korean)"), validators=[Length(max=80), storable])
    active = BooleanField(_l("Offered on new incidents"), default=True)
