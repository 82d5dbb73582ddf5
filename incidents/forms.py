"""Incident forms: shape only; incidents.services enforces the rules."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional, Regexp

from app.forms import Form, SentOnce, storable
from app.i18n import lazy_gettext as _l
from incidents.models import Channel, EventKind, Status

CHANNEL_LABELS = {Channel.chat: _l("Chat"), Channel.phone: _l("Phone"),
                  Channel.email: _l("E-mail"), Channel.social: _l("Social media"),
                  Channel.internal: _l("Internal"), Channel.monitoring: _l("Monitoring")}
STATUS_LABELS = {Status.detected: _l("Detected"), Status.shared: _l("Shared"),
                 Status.mitigated: _l("Mitigated"), Status.resolved: _l("Resolved"),
                 Status.closed: _l("Closed")}


def channel_choices():
    return [("", _l("— not set —"))] + [(c.value, CHANNEL_LABELS[c]) for c in Channel]


class CustomerFields(Form):
    customer_name = StringField(_l("Customer name"), validators=[Length(max=200), storable])
    customer_contact = StringField(_l("Contact (phone or e-mail)"),
                                   validators=[Length(max=200), storable])
    customer_reference = StringField(_l("Order or account reference"),
                                     validators=[Length(max=200), storable])
    customer_impact = TextAreaField(_l("What happened to them"),
                                    validators=[Length(max=20_000), storable])


class IncidentForm(CustomerFields):
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200), storable],
                        description=_l("What is wrong, in a few words."))
    grade = RadioField(_l("Grade"), validators=[InputRequired()], coerce=int)
    description = TextAreaField(_l("Description"), validators=[Length(max=20_000), storable],
                                description=_l("Markdown. What you know so far."))
    owner = SelectField(_l("Accountable owner"), coerce=int, validators=[InputRequired()])
    category = SelectField(_l("Category"), coerce=int, validators=[Optional()])
    channel = SelectField(_l("Channel"), choices=channel_choices, validators=[Optional()])
    detected_at = DateTimeLocalField(_l("Detected at"), validators=[Optional()],
                                     description=_l("Your time zone. Empty means now."))
    impact = TextAreaField(_l("Customer impact"), validators=[Length(max=20_000), storable])
    affected_count = IntegerField(_l("Customers affected"),
                                  validators=[Optional(), NumberRange(min=0, max=1_000_000_000)])
    abusive_customer = BooleanField(_l("Abusive customer"),
                                    description=_l("The case goes to the lead on duty at once."))
    abuse_kind = SelectField(_l("What crossed the line"), validators=[Optional()], choices=[
        ("other", _l("Other")), ("threat", _l("Threat")), ("extortion", _l("Extortion")),
        ("harassment", _l("Harassment")), ("insult", _l("Insult"))])
    one_stop = BooleanField(_l("Resolved at first contact by one person (one-stop)"))


class NewIncidentForm(IncidentForm, SentOnce):
    """Opening an incident: the fields of IncidentForm, sent once."""


class IncidentEditForm(IncidentForm):
    cause = TextAreaField(_l("Cause"), validators=[Length(max=20_000), storable])
    resolution = TextAreaField(_l("Resolution"), validators=[Length(max=20_000), storable])
    # What customers are told: apology drafts take these, never the fields above.
    public_summary = TextAreaField(_l("What happened, as customers saw it"),
                                   validators=[Length(max=20_000), storable],
                                   description=_l("Full sentences, in the customer's words."))
    public_harm = TextAreaField(_l("What it cost them"), validators=[Length(max=20_000), storable],
                                description=_l("Their time, money, plans or worry, said plainly."))
    public_cause = TextAreaField(_l("The cause, as it can be told"),
                                 validators=[Length(max=20_000), storable],
                                 description=_l("Leave it empty while the cause is not known, "
                                                "and give the day by which customers will be "
                                                "told."))
    public_cause_due = DateField(_l("Day by which customers are told the cause"),
                                 validators=[Optional()])
    public_fix = TextAreaField(_l("What we did for them"), validators=[Length(max=20_000), storable],
                               description=_l("Empty: the draft says when it was fixed."))
    public_change = TextAreaField(_l("What will change"), validators=[Length(max=20_000), storable],
                                  description=_l("One change per line; open and done action "
                                                 "items are added."))
    responders = SelectMultipleField(_l("Responders"), coerce=int, validators=[Optional()])
    version = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])


class StatusForm(Form):
    status = HiddenField(validators=[InputRequired(), AnyOf([s.value for s in Status])])
    expected = HiddenField(validators=[InputRequired(), AnyOf([s.value for s in Status])])
    note = StringField(_l("Note (optional)"), validators=[Length(max=20_000), storable])


class EventForm(SentOnce):
    kind = RadioField(_l("Kind"), default=EventKind.note.value,
                      choices=[(EventKind.note.value, _l("Note")),
                               (EventKind.action.value, _l("Action taken"))])
    body = TextAreaField(_l("Text"), validators=[InputRequired(), Length(max=20_000), storable])


class CustomerForm(CustomerFields, SentOnce):
    """Adding an affected customer from the incident page."""


class FilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = SelectField(_l("Status"), validators=[Optional()])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    owner = SelectField(_l("Owner"), validators=[Optional()])
    q = StringField(_l("Text"), validators=[Optional(), Length(max=200)])
