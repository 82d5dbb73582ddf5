"""Playbook rules: create and revise (each a version), publish without personal data,
search and suggest, import and export. Never imports the incidents package: incidents
hand in what they know (source text, known personal data) through plain values and hooks."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import bindparam, column, func, select, table

from app import redact, search
from app.errors import Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import Category, Grade, Role, User
from app.textcheck import bad_text
from app.timeutil import utcnow
from playbooks.models import TEXT_FIELDS, Playbook, PlaybookStatus, PlaybookVersion, Suggestion

DOC_TYPE = "playbook"
TEXT_MAX = 20_000

# Hooks: (playbook) -> personal data known for its source incidents (the incidents package
# registers one), so any later edit is cleaned of it too.
pii_sources: list[Callable[[Playbook], list[str]]] = []


@dataclass
class PlaybookData:
    title: str
    summary: str = ""
    symptoms: str = ""
    steps: str = ""
    authority: str = ""
    compensation: str = ""
    message: str = ""
    escalation: str = ""
    prevention: str = ""
    tags: list[str] = field(default_factory=list)
    language: str = "ko"
    grade: Grade | None = None
    category: Category | None = None

    def texts(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in ("title", *TEXT_FIELDS)}


def get(playbook_id: int) -> Playbook:
    playbook = db.session.get(Playbook, playbook_id)
    if playbook is None:
        raise NotFound(_("Playbook %(id)s does not exist.", id=playbook_id))
    return playbook


def _check(data: PlaybookData) -> PlaybookData:
    problems = {}
    data.title = (data.title or "").strip()
    if not data.title:
        problems["title"] = _("A title is required.")
    for name, value in data.texts().items():
        limit = 200 if name == "title" else TEXT_MAX
        if len(value or "") > limit or bad_text(value or ""):
            problems[name] = _("At most %(n)s ordinary characters.", n=limit)
    if data.language not in ("ko", "en"):
        problems["language"] = _("Use ko or en.")
    data.tags = list(dict.fromkeys(t.strip().lower() for t in data.tags if t and t.strip()))[:20]
    if any(len(t) > 40 or bad_text(t) or "," in t for t in data.tags):
        problems["tags"] = _("Tags are short words without commas.")
    if problems:
        raise ValidationFailed(_("Some fields need attention."), problems)
    return data


def require_first_steps(data: PlaybookData) -> None:
    """A playbook is published for the next person facing the same problem: without first
    steps it tells them nothing to do. Asked where a person publishes one (from an incident,
    over the API); an import carries what another system had."""
    if not (data.steps or "").strip():
        raise ValidationFailed(_("A playbook cannot be published without first steps."),
                               {"steps": _("Write what to do first, one step a line.")})


def known_pii(playbook: Playbook | None, extra: Iterable[str] = ()) -> list[str]:
    values = list(extra)
    if playbook is not None and playbook.id is not None:
        for source in pii_sources:
            values += source(playbook)
    return values


def redacted(data: PlaybookData, known: Iterable[str]) -> tuple[PlaybookData, list[redact.Removed]]:
    """The same content with personal data replaced by a marker in the playbook's language,
    and what went. A tag that held personal data goes altogether: a marker is no tag."""
    known = list(known)
    marker = redact.marker_for(data.language)
    removed: list[redact.Removed] = []
    cleaned = PlaybookData(**{**vars(data)})
    for name, value in data.texts().items():
        text, gone = redact.redact(value or "", known, marker=marker)
        setattr(cleaned, name, text)
        removed += gone
    cleaned.tags = []
    for tag in data.tags:
        _text, gone = redact.redact(tag, known, marker=marker)
        removed += gone
        if not gone:
            cleaned.tags.append(tag)
    unique = list(dict.fromkeys(removed))
    return cleaned, unique


def _data_of(playbook: Playbook) -> PlaybookData:
    return PlaybookData(**{name: getattr(playbook, name) for name in ("title", *TEXT_FIELDS)},
                        tags=list(playbook.tags or []), language=playbook.language,
                        grade=playbook.grade, category=playbook.category)


def scrub(playbook: Playbook, known: Iterable[str], now: datetime | None = None,
          ) -> list[redact.Removed]:
    """Remove personal data learnt after publishing (a customer added to a source incident)
    from the playbook and from every earlier version of it, which readers can open too. The
    current text becomes a new version, so the change shows in its history."""
    known = list(known)
    cleaned, removed = redacted(_data_of(playbook), known)
    if removed:
        _apply(playbook, cleaned)
        playbook.updated_at = now or utcnow()
        _version(playbook, None, _("personal data removed"), playbook.updated_at)
    for version in playbook.versions:
        content = dict(version.content or {})
        data = PlaybookData(**{name: content.get(name) or "" for name in ("title", *TEXT_FIELDS)},
                            tags=list(content.get("tags") or []),
                            language=content.get("language") or playbook.language)
        clean_data, gone = redacted(data, known)
        if gone:
            content.update(clean_data.texts(), tags=clean_data.tags)
            version.content = content  # a new dict, so the JSON column is written
            removed += gone
    db.session.flush()
    search.enqueue(DOC_TYPE, playbook.id)
    return list(dict.fromkeys(removed))


def _apply(playbook: Playbook, data: PlaybookData) -> None:
    for name, value in data.texts().items():
        setattr(playbook, name, value or "")
    playbook.tags, playbook.language = data.tags, data.language
    playbook.grade, playbook.category = data.grade, data.category


def _version(playbook: Playbook, actor: User | None, note: str, now: datetime) -> None:
    number = len(playbook.versions) + 1
    playbook.version = number
    playbook.versions.append(PlaybookVersion(number=number, content=playbook.snapshot(), note=note,
                                             created_by=actor, created_at=now))


def publish_new(actor: User | None, data: PlaybookData, *, known: Iterable[str] = (),
                note: str = "", now: datetime | None = None) -> tuple[Playbook, list]:
    """Create a published playbook; personal data is removed first and reported back."""
    if actor is not None:
        _require_lead(actor)
    now = now or utcnow()
    data, removed = redacted(_check(data), known)
    playbook = Playbook(created_by=actor, created_at=now, updated_at=now,
                        status=PlaybookStatus.published, published_at=now, published_by=actor,
                        recurrence_count=1)
    _apply(playbook, data)
    db.session.add(playbook)
    _version(playbook, actor, note, now)
    db.session.flush()
    search.enqueue(DOC_TYPE, playbook.id)
    return playbook, removed


def revise(actor: User, playbook: Playbook, data: PlaybookData, *, known: Iterable[str] = (),
           note: str = "", recurrence: bool = False,
           now: datetime | None = None) -> tuple[Playbook, list]:
    """A new version (a recurrence also counts up); published content is always cleaned."""
    _require_lead(actor)
    now = now or utcnow()
    data, removed = redacted(_check(data), known_pii(playbook, known))
    _apply(playbook, data)
    if recurrence:
        playbook.recurrence_count += 1
    playbook.updated_at = now
    if playbook.status != PlaybookStatus.published:
        playbook.status, playbook.published_at, playbook.published_by = (
            PlaybookStatus.published, now, actor)
    _version(playbook, actor, note, now)
    db.session.flush()
    search.enqueue(DOC_TYPE, playbook.id)
    return playbook, removed


def _require_lead(actor: User) -> None:
    if not actor.can(Role.lead):
        raise Forbidden(_("Only a lead or above may publish playbooks."))


# --- search -------------------------------------------------------------------------------------

def _document(p: Playbook) -> search.Document:
    # Its text was cleaned of its customers on publishing and again whenever a source incident
    # learnt of another (scrub); the index still removes e-mails and phones it finds.
    body = "\n\n".join(getattr(p, f) for f in TEXT_FIELDS if getattr(p, f))
    return search.Document(
        type=DOC_TYPE, id=p.id, title=p.title, body=body, grade=p.grade.name if p.grade else "",
        category=p.category.slug if p.category else "", tags=list(p.tags or []),
        date=p.updated_at, extra={"steps": p.steps[:600], "recurrence": p.recurrence_count},
        known_pii=[], language=p.language)


def _load(ids: list[int]) -> dict[int, search.Document | None]:
    found = {p.id: p for p in db.session.scalars(select(Playbook).where(Playbook.id.in_(ids)))}
    return {i: _document(found[i]) if i in found and found[i].status == PlaybookStatus.published
            else None for i in ids}


def _iterate():
    query = select(Playbook).where(Playbook.status == PlaybookStatus.published).order_by(Playbook.id)
    for playbook in db.session.scalars(query.execution_options(yield_per=500)):
        yield _document(playbook)


search.register(DOC_TYPE, _load, _iterate)


def similar(text: str, limit: int = 5) -> list[search.Hit]:
    """Best matching published playbooks for what is typed about a new incident."""
    if len(search.analyze(text)) == 0:
        return []
    # A quarter of the query's terms must match (at least one), so a long description
    # sharing one syllable pair with a playbook does not count as similar.
    hits = search.search(text, types=[DOC_TYPE], per_page=limit * 3, min_match=0.25).hits
    # The database is the source of truth: an index restored from elsewhere, or one that
    # lags a deletion, must not suggest a playbook that is not (or no longer) published.
    live = set(db.session.scalars(select(Playbook.id).where(
        Playbook.id.in_([h.id for h in hits]), Playbook.status == PlaybookStatus.published)))
    return [h for h in hits if h.id in live][:limit]


def record_suggestions(incident_id: int, text: str, limit: int = 3) -> list[Suggestion]:
    hits = similar(text, limit)
    existing = {s.playbook_id: s for s in db.session.scalars(
        select(Suggestion).where(Suggestion.incident_id == incident_id))}
    rows = []
    for rank, hit in enumerate(hits, start=1):
        row = existing.get(hit.id)
        if row is None:
            row = Suggestion(incident_id=incident_id, playbook_id=hit.id, rank=rank,
                             score=hit.score, shown_at=utcnow())
            db.session.add(row)
        rows.append(row)
    db.session.flush()
    return rows


# Built once: every incident page reads it, and a reused statement keeps its cache key.
_SUGGESTIONS = (select(Suggestion).where(Suggestion.incident_id == bindparam("incident_id"))
                .order_by(Suggestion.rank))


def suggestions(incident_id: int) -> list[Suggestion]:
    return list(db.session.scalars(_SUGGESTIONS, {"incident_id": incident_id}))


def feedback(actor: User, incident_id: int, playbook_id: int, action: str) -> Suggestion:
    if action not in ("used", "dismissed"):
        raise ValidationFailed(_("Unknown action."), {"action": _("Use used or dismissed.")})
    row = db.session.scalar(select(Suggestion).where(Suggestion.incident_id == incident_id,
                                                     Suggestion.playbook_id == playbook_id))
    if row is None:
        get(playbook_id)
        # By table name: this package never imports incidents. An unknown id was a 500
        # (the foreign key refused the row on flush).
        incidents = table("incidents", column("id"))
        if db.session.scalar(select(incidents.c.id).where(incidents.c.id == incident_id)) is None:
            raise NotFound(_("Incident %(id)s does not exist.", id=incident_id))
        row = Suggestion(incident_id=incident_id, playbook_id=playbook_id, rank=0, score=0.0)
        db.session.add(row)
    row.action, row.action_by_id, row.action_at = action, actor.id, utcnow()
    db.session.flush()
    return row


def suggestion_stats() -> dict[str, int]:
    rows = db.session.execute(select(Suggestion.action, func.count()).group_by(Suggestion.action))
    return {(action or "shown_only"): n for action, n in rows}


# --- import and export (JSON Lines) ----------------------------------------------------------

class PlaybookLine(BaseModel):
    """One playbook per line, as `flask playbooks import` reads and `export` writes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=200)
    summary: str = Field("", max_length=TEXT_MAX)
    symptoms: str = Field("", max_length=TEXT_MAX)
    steps: str = Field("", max_length=TEXT_MAX)
    authority: str | None = Field(None, max_length=TEXT_MAX)
    compensation: str | None = Field(None, max_length=TEXT_MAX)
    message: str | None = Field(None, max_length=TEXT_MAX)
    escalation: str | None = Field(None, max_length=TEXT_MAX)
    prevention: str | None = Field(None, max_length=TEXT_MAX)
    tags: list[str] = Field(default_factory=list, max_length=20)
    language: str = Field(pattern="^(ko|en)$")
    grade: str | None = None
    category: str | None = None


def to_data(line: PlaybookLine) -> PlaybookData:
    grade = category = None
    if line.grade:
        grade = db.session.scalar(select(Grade).where(func.lower(Grade.name) == line.grade.lower()))
        if grade is None:
            raise ValidationFailed(_("Unknown grade."), {"grade": _("Unknown grade %(name)s.",
                                                                    name=line.grade)})
    if line.category:
        key = line.category.lower()
        category = db.session.scalar(select(Category).where(
            (Category.slug == key) | (func.lower(Category.name) == key)))
        if category is None:
            raise ValidationFailed(_("Unknown category."), {"category": _(
                "Unknown category %(key)s.", key=line.category)})
    return PlaybookData(title=line.title, summary=line.summary, symptoms=line.symptoms,
                        steps=line.steps, authority=line.authority or "",
                        compensation=line.compensation or "", message=line.message or "",
                        escalation=line.escalation or "", prevention=line.prevention or "",
                        tags=line.tags, language=line.language,
                        grade=grade, category=category)


class ImportFailed(Exception):
    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(f"{len(problems)} bad line(s)")
        self.problems = problems


def import_lines(lines: Iterable[str], actor: User | None = None) -> list[Playbook]:
    """All lines or none: every bad line is reported with its number, nothing is half-imported."""
    parsed: list[PlaybookData] = []
    problems: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = PlaybookLine.model_validate(json.loads(raw))
            parsed.append(_check(to_data(line)))
        except json.JSONDecodeError as err:
            problems.append((number, f"not valid JSON ({err.msg})"))
        except ValidationError as err:
            details = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}"
                                for e in err.errors())
            problems.append((number, details))
        except ValidationFailed as err:
            problems.append((number, "; ".join(f"{k}: {v}" for k, v in err.fields.items())
                             or err.message))
    if problems:
        raise ImportFailed(problems)
    return [publish_new(actor, data, note="imported")[0] for data in parsed]


def export_lines() -> Iterable[str]:
    query = select(Playbook).where(Playbook.status == PlaybookStatus.published).order_by(Playbook.id)
    for p in db.session.scalars(query):
        yield json.dumps({"title": p.title, "summary": p.summary, "symptoms": p.symptoms,
                          "steps": p.steps, "authority": p.authority,
                          "compensation": p.compensation, "message": p.message,
                          "escalation": p.escalation, "prevention": p.prevention,
                          "tags": list(p.tags or []),
                          "language": p.language, "grade": p.grade.name if p.grade else None,
                          "category": p.category.slug if p.category else None},
                         ensure_ascii=False)


# Hooks: (playbook) -> [(label, url)] of the incidents it was made from; the incidents
# package registers one, so this package can show them without importing it.
source_providers: list[Callable[[Playbook], list[tuple[str, str]]]] = []


def source_links(playbook: Playbook) -> list[tuple[str, str]]:
    return [link for provider in source_providers for link in provider(playbook)]
