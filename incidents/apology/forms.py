"""Apology forms: shape only."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.forms import Form, SentOnce, storable
from app.i18n import lazy_gettext as _l
from incidents.apology.services import BODY_MAX, CHANNELS

CHANNEL_LABELS = {"email": _l("E-mail"), "sms": _l("Text message"), "chat": _l("Chat"),
                  "phone": _l("Phone call"), "post": _l("Post"), "website": _l("Website notice"),
                  "social": _l("Social media"), "in_person": _l("In person")}


class DraftForm(SentOnce):
    audience = RadioField(_l("For"), default="customer", choices=[
        ("customer", _l("One affected customer (personal letter)")),
        ("public", _l("Everyone (public notice)"))])
    customer = SelectField(_l("Customer"), coerce=int, validators=[Optional()])
    # Its own id: the postmortem panel's start form on the same page has a `language` too.
    language = RadioField(_l("Language"), default="ko",
                          choices=[("ko", "한국어"), ("en", "English")], id="letter-language")


class EditForm(Form):
    body = TextAreaField(_l("Letter (Markdown)"),
                         validators=[InputRequired(), Length(max=BODY_MAX), storable])
    signatories = SelectMultipleField(_l("Signed by"), validators=[Optional()],
                                      description=_l("The people who answer for the response and "
                                                     "the remedy, never the person whose mistake "
                                                     "caused it."))
    version = HiddenField(validators=[InputRequired()])


class ApproveForm(Form):
    override_reason = StringField(_l("Reason to approve despite the warnings"),
                                  validators=[Length(max=5000), storable],
                                  description=_l("Recorded with the approval. Errors cannot be "
                                                 "overridden."))


class SentForm(Form):
    channel = SelectField(_l("Sent by"), choices=[(c, CHANNEL_LABELS[c]) for c in CHANNELS])
