"""Compensation forms: shape only."""

from __future__ import annotations

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.bounds import DayRange
from app.forms import Form, SentOnce, storable
from app.i18n import lazy_gettext as _l
from incidents.compensation.models import CompType

TYPE_LABELS = {CompType.refund: _l("Refund"), CompType.replacement: _l("Replacement"),
               CompType.coupon: _l("Coupon or discount"), CompType.credit: _l("Service credit"),
               CompType.service_extension: _l("Service extension"),
               CompType.cash: _l("Cash (consequential damages)")}


class ProposeForm(SentOnce):
    # Explicit ids: the incident page holds other forms with a `note` or `customer` field,
    # and a duplicate id would tie these labels to the wrong input.
    comp_type = SelectField(_l("Type"), choices=[(t.value, TYPE_LABELS[t]) for t in CompType],
                            validators=[InputRequired()], id="comp-type")
    amount = StringField(_l("Amount"), validators=[InputRequired(), Length(max=30)],
                         description=_l("In the currency's ordinary units, e.g. 30000 or 12.50."),
                         id="comp-amount")
    currency = StringField(_l("Currency"), validators=[InputRequired(), Length(min=3, max=3)],
                           id="comp-currency")
    customer = SelectField(_l("For customer"), coerce=int, validators=[Optional()],
                           id="comp-customer")
    note = TextAreaField(_l("Why, in a sentence"), validators=[Length(max=5000), storable],
                         id="comp-note")
    approve = BooleanField(_l("Approve now if it is within my authority"), default=True,
                           id="comp-approve")


class DecisionForm(Form):
    reason = StringField(_l("Reason or note"), validators=[Length(max=5000), storable])


class PeriodForm(Form):
    class Meta:
        csrf = False  # a GET report filter changes nothing

    start = DateField(_l("From"), validators=[Optional(), DayRange()])
    end = DateField(_l("To (inclusive)"), validators=[Optional(), DayRange()])
