"""Postmortem, action item and make-playbook forms: shape only."""

from __future__ import annotations

from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.bounds import DayRange
from app.forms import Form, SentOnce, storable
from app.i18n import lazy_gettext as _l
from incidents.postmortem.models import ActionKind
from incidents.postmortem.services import BODY_MAX

KIND_LABELS = {ActionKind.prevent: _l("Prevent"), ActionKind.detect: _l("Detect"),
               ActionKind.mitigate: _l("Mitigate"), ActionKind.process: _l("Process")}


class StartForm(Form):
    # Its own id: the apology panel's draft form on the same page has a `language` too.
    language = RadioField(_l("Language"), default="ko", choices=[("ko", "한국어"), ("en", "English")],
                          id="postmortem-language")


class PostmortemForm(Form):
    body = TextAreaField(_l("Postmortem (Markdown)"),
                         validators=[InputRequired(), Length(max=BODY_MAX), storable],
                         description=_l("Blameless: criticise processes, never people."))
    version = HiddenField(validators=[InputRequired()])


class ActionForm(SentOnce):
    title = StringField(_l("Action"), validators=[InputRequired(), Length(max=300), storable])
    owner = SelectField(_l("Owner"), coerce=int, validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=[(k.value, KIND_LABELS[k]) for k in ActionKind])
    due_date = DateField(_l("Due"), validators=[Optional(), DayRange()])


class PlaybookForm(Form):
    """The proposed playbook, editable before it is published."""

    target = HiddenField()
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200), storable])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=20_000), storable])
    symptoms = TextAreaField(_l("Symptoms: how you recognise it"),
                             validators=[Length(max=20_000), storable])
    steps = TextAreaField(_l("First steps"), validators=[Length(max=20_000), storable])
    authority = TextAreaField(_l("What the front line may do without asking"),
                              validators=[Length(max=20_000), storable])
    compensation = TextAreaField(_l("Compensation given before"),
                                 validators=[Length(max=20_000), storable])
    message = TextAreaField(_l("Customer message"), validators=[Length(max=20_000), storable])
    escalation = TextAreaField(_l("Whom to escalate to"), validators=[Length(max=20_000), storable])
    prevention = TextAreaField(_l("Prevention status"), validators=[Length(max=20_000), storable])
    tags = StringField(_l("Tags (comma-separated)"), validators=[Length(max=800), storable])
