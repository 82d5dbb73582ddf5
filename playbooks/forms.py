"""Search form: shape only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from app.bounds import DayRange


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # searching changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=500)])
    type = SelectField(_l("Type"), validators=[Optional()], choices=[
        ("", _l("Playbooks and postmortems")), ("playbook", _l("Playbooks")),
        ("postmortem", _l("Postmortems"))])
    grade = SelectField(_l("Grade"), validators=[Optional()])
    category = SelectField(_l("Category"), validators=[Optional()])
    tag = StringField(_l("Tag"), validators=[Optional(), Length(max=40)])
    start = DateField(_l("From"), validators=[Optional(), DayRange()])
    end = DateField(_l("To"), validators=[Optional(), DayRange()])
