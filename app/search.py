"""Full-text search over playbooks and published postmortems: every Whoosh call lives here.

Korean is indexed as overlapping syllable bigrams, so a word is found across
particles and endings (배탈 finds 배탈이 났다고); Latin words are lower-cased
and Porter-stemmed (refund finds refunded). SEARCH-NOTES.md measured this
pairing at recall@3 1.00 on inflected Korean queries.

The database is the source of truth. A change to an indexed record adds an
IndexChange row in the same transaction; `apply_pending` replays those rows
in order, under an exclusive file lock, so one process writes while the
others read. A crash between commit and index write leaves the rows pending
for the next writer. `rebuild` writes a fresh index beside the old one and
swaps a symlink, so readers never see a half-built index.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import current_app, g, has_request_context, request
from markupsafe import Markup, escape
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import TOC, EmptyIndexError, FileIndex, clean_files
from whoosh.lang.porter import stem
from whoosh.query import DateRange
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from app import ranking, redact
from app.extensions import db
from app.models import IndexChange
from app.timeutil import as_utc, utcnow

# --- analysis -----------------------------------------------------------------------------------

_WORD = re.compile(r"[가-힣]+|[A-Za-z]+(?:'[A-Za-z]+)?|\d+|[\u3040-\u30ff\u4e00-\u9fff]+")
_HANGUL_OR_CJK = re.compile(r"[가-힣\u3040-\u30ff\u4e00-\u9fff]")
STOPWORDS = frozenset(["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "i", "in", "is", "it", "its", "of", "on", "or", "our", "so", "that", "the", "their", "them", "there", "they", "this", "to", "was", "we", "were", "will", "with", "you", "your", "not", "no"])


class HybridTokenizer(Tokenizer):
    """Hangul/CJK runs -> syllable bigrams; Latin words -> lower-cased Porter stems.

    Module-level and attribute-free, so Whoosh can pickle it into the index schema.
    """

    def __eq__(self, other):
        return self.__class__ is other.__class__

    def __call__(self, value, positions=False, chars=False, keeporiginal=False, removestops=True,
                 start_pos=0, start_char=0, tokenize=True, mode="", **kwargs):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _WORD.finditer(value):
            word, start = match.group(), match.start()
            if _HANGUL_OR_CJK.match(word):
                pieces = ([(word, 0)] if len(word) == 1
                          else [(word[i:i + 2], i) for i in range(len(word) - 1)])
            else:
                lowered = word.lower()
                if lowered in STOPWORDS and removestops:
                    continue
                pieces = [(stem(lowered) if lowered.isalpha() else lowered, 0)]
                if len(pieces[0][0]) < 1:
                    continue
            for text, offset in pieces:
                token.text = text
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = text
                if positions:
                    token.pos = pos
                    pos += 1
                if chars:
                    token.startchar = start_char + start + offset
                    token.endchar = token.startchar + (len(text) if _HANGUL_OR_CJK.match(text)
                                                       else len(word))
                yield token


ANALYZER = HybridTokenizer()


def analyze(text: str) -> list[str]:
    return [t.text for t in ANALYZER(text or "")]


SCHEMA = Schema(
    key=ID(unique=True, stored=True),
    type=ID(stored=True),
    title=TEXT(analyzer=ANALYZER, stored=True, field_boost=2.5, phrase=False),
    body=TEXT(analyzer=ANALYZER, stored=True, phrase=False),
    grade=ID(stored=True),
    category=ID(stored=True),
    tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True),
    date=DATETIME(stored=True),
    extra=STORED,
)


# --- documents and their providers --------------------------------------------------------------

@dataclass
class Document:
    type: str
    id: int
    title: str
    body: str
    grade: str = ""
    category: str = ""
    tags: list[str] = field(default_factory=list)
    date: datetime | None = None
    extra: dict = field(default_factory=dict)
    known_pii: list[str] = field(default_factory=list)  # removed before indexing
    language: str = "en"  # of the text: the marker for removed personal data reads in it

    @property
    def key(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass
class Provider:
    """How to read one type of document from the database: by ids, and all of them."""

    load: Callable[[list[int]], dict[int, Document | None]]
    iterate: Callable[[], Iterable[Document]]


_providers: dict[str, Provider] = {}


def register(doc_type: str, load: Callable, iterate: Callable) -> None:
    _providers[doc_type] = Provider(load, iterate)


def enqueue(doc_type: str, doc_id: int) -> None:
    """Record, in the caller's transaction, that this document must be (re)indexed."""
    db.session.add(IndexChange(doc_type=doc_type, doc_id=doc_id))
    if has_request_context():
        g.search_dirty = True


_MARKUP = re.compile(r"^\s{0,3}#{1,6}\s*|\*\*|__|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)|`+", re.MULTILINE)


def plain(markdown_text: str) -> str:
    """Markdown markers out, so snippets read as text."""
    return _MARKUP.sub("", markdown_text)


def _fields(doc: Document) -> dict:
    marker = redact.marker_for(doc.language)
    title = redact.clean(doc.title, doc.known_pii, marker=marker)
    body = plain(redact.clean(doc.body, doc.known_pii, marker=marker))
    # A tag is a whole value: one that holds personal data is left out, not marked.
    tags = [t.strip().lower() for t in doc.tags
            if t.strip() and not redact.redact(t, doc.known_pii)[1]]
    return {"key": doc.key, "type": doc.type, "title": title, "body": body,
            "grade": doc.grade or "", "category": doc.category or "",
            "tags": ",".join(tags),
            "date": as_utc(doc.date).replace(tzinfo=None) if doc.date else None,
            "extra": doc.extra}


# --- the index on disk --------------------------------------------------------------------------

# --- storage ------------------------------------------------------------------------------------

class _Storage(FileStorage):
    """Index files read through the OS page cache, which the workers share, never copied
    whole into a process (as Whoosh's compound files are, see WRITER_OPTIONS). Only small
    files are held in memory: chiefly the one-byte-per-document field lengths, which scoring
    reads for every matching document, where a read call each cost a tenth of a search."""

    IN_MEMORY_BYTES = 1 << 20

    def open_file(self, name, **kwargs):
        path = self._fpath(name)
        if os.path.getsize(path) <= self.IN_MEMORY_BYTES:
            with open(path, "rb") as handle:
                return BufferFile(handle.read(), name=name)  # BytesIO shares bytes, no copy
        return super().open_file(name, **kwargs)


INDEX_NAME = "MAIN"  # Whoosh's default, so indexes written before this storage still open


# --- readers against deletions ------------------------------------------------------------------
#
# A commit writes its new table of contents (TOC), then deletes every file the new TOC does not
# name: the old TOC, and after a merge the segments merged away. A reader opens the index by
# listing the TOCs, reading the newest, then opening each segment's files, and Whoosh opens some
# of those only at first use. A deletion landing between the reader's TOC and its opens failed
# the search: a missing column file reads as an absent column, so stored_fields() hit None
# (TypeError, the 500 after a publish), and a missing length column silently scored as 0.
#
# So readers hold a shared flock on readers.lock (beside writer.lock) from listing the TOC until
# every file they will use is open (searcher(), _open_files()); once open, a file survives its
# deletion on POSIX. A committing writer, after its new TOC is in place and before deleting,
# waits until it can take the lock exclusively and lets go at once: a barrier, not a critical
# section. Every reader still opening from the old TOC has finished by then, and every later
# reader lists the new TOC, which names none of the files about to go; so the deletions, however
# long, run with no lock held. A reader never waits for a merge, only, at most, for the instant
# a writer holds the lock; the writer waits for opens in progress, never for a search. flock
# locks belong to an open file, so threads of one process exclude each other as processes do,
# and a killed process's locks go with it. Under a stream of overlapping opens the writer may
# not get its turn: it then deletes nothing, and the next commit's cleanup (which removes every
# file its TOC does not name) takes the leftovers behind its own barrier.

READERS_LOCK = "readers.lock"
READERS_BARRIER_SECONDS = 0.5


@contextlib.contextmanager
def _reading(lock_path: Path) -> Iterator[None]:
    """Hold off deletions of index files while this reader lists and opens them."""
    with open(lock_path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)  # waits only while a writer's barrier holds it
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _readers_done(lock_path: Path) -> bool:
    """Wait until no reader is opening index files, blocking new readers for an instant at
    most; False if readers kept the lock busy for READERS_BARRIER_SECONDS."""
    deadline = time.monotonic() + READERS_BARRIER_SECONDS
    with open(lock_path, "a+") as handle:
        while True:
            # Polled, not blocking: on Linux a waiting flock(LOCK_EX) does not hold back new
            # shared locks, so a blocking call could wait for as long as readers keep coming.
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.001)
                continue
            fcntl.flock(handle, fcntl.LOCK_UN)
            return True


class _SegmentWriter(SegmentWriter):
    """Whoosh's writer with the readers' barrier between the new TOC and its cleanup."""

    def _commit_toc(self, segments):
        # As SegmentWriter._commit_toc, which deletes right after writing the TOC.
        TOC(self.schema, segments, self.generation).write(self.storage, self.indexname)
        # One lock for all index directories, which sit directly under the root (so that
        # a rebuild's removal of the old directory is fenced by it too).
        if _readers_done(Path(self.storage.folder).parent / READERS_LOCK):
            clean_files(self.storage, self.indexname, self.generation, segments)


class _FileIndex(FileIndex):
    def writer(self, procs=1, **kwargs):
        # Every commit must go through _SegmentWriter: Whoosh's MpWriter (procs > 1) commits
        # through SegmentWriter._commit_toc, deleting with no barrier.
        if procs != 1:
            raise ValueError("the search index is written by one process (procs=1)")
        return _SegmentWriter(self, **kwargs)


def _index(path: Path, create: bool = False) -> FileIndex:
    storage = _Storage(str(path))
    if create:
        return _FileIndex.create(storage, SCHEMA, INDEX_NAME)
    return _FileIndex(storage, indexname=INDEX_NAME)


def _root() -> Path:
    return Path(current_app.config["SEARCH_INDEX_DIR"])


@contextlib.contextmanager
def _writer_lock(timeout: float) -> Iterator[bool]:
    """One writer at a time across processes and threads (flock on a lock file)."""
    root = _root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "writer.lock", "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _current_dir() -> Path | None:
    link = _root() / "current"
    return link.resolve() if link.exists() else None


def _swap_to(new_dir: Path) -> None:
    link = _root() / "current"
    tmp = _root() / f"current.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(new_dir.name)
    os.replace(tmp, link)  # atomic: readers see the old index or the new one


def _new_index_dir() -> Path:
    path = _root() / f"index-{time.time_ns()}-{os.getpid()}"
    path.mkdir(parents=True)
    _index(path, create=True)
    return path


def _create_if_missing() -> Path:
    """The current index, created if there is none yet; the caller holds the writer lock."""
    current = _current_dir()
    if current is None:
        current = _new_index_dir()
        _swap_to(current)
    return current


def _ensure_index() -> Path:
    current = _current_dir()
    if current is not None:
        return current
    with _writer_lock(timeout=30) as locked:
        current = _current_dir()
        if current is not None:
            return current
        if not locked:
            raise RuntimeError("timed out waiting for the search writer lock")
        return _create_if_missing()


# One searcher per thread: Whoosh reads the large index files by seek-then-read on a shared
# file object (see _Storage), which two threads must not interleave. Keyed by thread, not
# thread-local, so a finished thread's searcher is closed (its files with it), not left to GC.
_searchers_lock = threading.Lock()
_searchers: dict[tuple[str, int], tuple] = {}


_format_checked: set[Path] = set()  # an index directory's old segments never change


def _open(path: Path):
    for attempt in range(5):
        try:
            ix = _index(path)
            break
        except (FileNotFoundError, EmptyIndexError):
            # A commit replacing the TOC as we list it: not expected, since searcher() opens
            # under the read lock and writers under the writer lock, but kept as a last resort
            # (e.g. a worker of an older release still running through a restart).
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    if path not in _format_checked:
        _format_checked.add(path)
        if _outdated(ix):
            current_app.logger.warning("the search index at %s was written by an older version and "
                                       "searches slower; run `flask --app wsgi search reindex`",
                                       path)
    return ix


def _outdated(ix: FileIndex) -> bool:
    """Written before this SCHEMA (e.g. with word positions), or in a compound file."""
    stored = ix.schema
    if any(name not in stored or type(stored[name].format) is not type(SCHEMA[name].format)
           for name in SCHEMA.names()):
        return True
    return any(segment.is_compound() for segment in ix._segments())


def searcher():
    """A searcher for this thread, reopened when the index changed (never refresh():
    whoosh-reloaded's refresh returns duplicated documents after updates)."""
    path = _ensure_index()  # before the read lock: it may take the writer lock to create
    key = (str(_root()), threading.get_ident())
    with _searchers_lock:
        cached = _searchers.get(key)
    if cached is not None and cached[0] == path and cached[2].up_to_date():
        return cached[2]  # up_to_date() only lists the directory: no read lock needed
    # From reading the TOC until every file is open, no writer may delete (see _reading).
    with _reading(_root() / READERS_LOCK):
        # Resolved again under the lock: a rebuild may have swapped `current` meanwhile, and
        # only the directory resolved under the lock is sure to stay until the files are open.
        path = _current_dir() or path
        ix = cached[1] if cached is not None and cached[0] == path else _open(path)
        found = _open_files(ix.searcher())
    if cached is not None:
        with contextlib.suppress(Exception):
            cached[2].close()
    with _searchers_lock:
        _searchers[key] = (path, ix, found)
        alive = {t.ident for t in threading.enumerate()}
        gone = [k for k in _searchers if k[1] not in alive]
    for k in gone:
        close_searchers(k)
    return found


def close_searchers(key: tuple[str, int] | None = None) -> None:
    """Close one cached searcher, or all (tests, and a process that is done searching)."""
    with _searchers_lock:
        keys = [key] if key is not None else list(_searchers)
        closing = [_searchers.pop(k) for k in keys if k in _searchers]
    for _path, _ix, found in closing:
        with contextlib.suppress(Exception):
            found.close()


def _open_files(found):
    """Open every file a search reads now rather than at first use, while the caller holds the
    read lock: a writer's merge deletes the files of segments it merged away, and a searcher
    that has not opened them yet would fail mid-search (an open file survives its deletion on
    POSIX). Whoosh opens the terms and postings files with the segment reader."""
    for leaf, _base in found.reader().leaf_readers():
        if leaf.doc_count_all():
            leaf.stored_fields(0)
            for name, fieldtype in SCHEMA.items():
                if fieldtype.scorable:
                    leaf.doc_field_length(0, name)
    return found


# --- writing ------------------------------------------------------------------------------------

BATCH = 500

# Separate files per segment, never Whoosh's default compound file: a reader opens each part
# of a compound file as BytesIO(memoryview of the mmap), and BytesIO copies what it is given,
# so every worker ended up holding a private copy of the whole index (540 MB per worker at
# 100,000 playbooks, against a 464 MB index). Separate files are read as files (_Storage).
WRITER_OPTIONS = {"compound": False}


def pending_count() -> int:
    return db.session.scalar(select(func.count(IndexChange.id)).where(IndexChange.applied_at.is_(None)))


def apply_pending(timeout: float = 5.0) -> int:
    """Apply outstanding index changes in order; returns how many rows were applied.

    Safe to call from any process at any time: replaying a row is idempotent. It uses (and
    commits) the caller's session, so call it after the unit of work has committed.
    """
    applied = _apply_batches(timeout)
    # End the read transaction of the last (empty) look-up: left open, it pinned an old
    # snapshot, and on SQLite the caller's next write failed at once with "database is
    # locked" whenever another process had committed in between.
    db.session.commit()
    return applied


def _apply_batches(timeout: float) -> int:
    applied = 0
    with _writer_lock(timeout) as locked:
        if not locked:
            return 0  # another process is writing and will pick our rows up
        # Not _ensure_index(): it takes the lock again (a second flock on another descriptor
        # blocks even in this process) and stalled the first apply on a fresh index for 30 s.
        path = _create_if_missing()
        ix = _open(path)
        while True:
            rows = list(db.session.scalars(select(IndexChange).where(
                IndexChange.applied_at.is_(None)).order_by(IndexChange.id).limit(BATCH)))
            if not rows:
                break
            wanted: dict[str, set[int]] = {}
            for row in rows:
                wanted.setdefault(row.doc_type, set()).add(row.doc_id)
            docs = {(t, i): d for t, ids in wanted.items() if t in _providers
                    for i, d in _providers[t].load(sorted(ids)).items()}
            writer = ix.writer(timeout=30, delay=0.02, **WRITER_OPTIONS)
            try:
                # update_document only replaces committed copies, so a key twice in one
                # batch would be indexed twice: write each key once, from its current state.
                for key in dict.fromkeys(f"{r.doc_type}:{r.doc_id}" for r in rows):
                    doc_type, doc_id = key.split(":")
                    doc = docs.get((doc_type, int(doc_id)))
                    if doc is None:
                        writer.delete_by_term("key", key)
                    else:
                        writer.update_document(**_fields(doc))
                # No merging here: a merge rewrote up to a few hundred documents and made
                # every fifth update ~5x slower. merge_segments() does it after the response.
                writer.commit(merge=False)
            except BaseException:
                writer.cancel()
                raise
            ids = [r.id for r in rows]
            try:
                db.session.execute(update(IndexChange).where(IndexChange.id.in_(ids))
                                   .values(applied_at=utcnow()))
                db.session.commit()
            except OperationalError:
                # Marking failed (database busy): the rows stay pending and are replayed.
                db.session.rollback()
                break
            applied += len(rows)
        if len(ix._segments()) > INLINE_MERGE_SEGMENTS:
            _merge_due_segments(ix)  # nothing merged after a response (CLI, imports): do it now
    return applied


# --- merging ------------------------------------------------------------------------------------

# Segments are merged by size tier, as log-structured indexes do: once MERGE_FACTOR segments
# of about the same size exist (1-5 documents, 6-35, 36-215, ...), they become one. Each
# document is so rewritten about once per tier, and at most MERGE_FACTOR - 1 segments wait in
# each tier. Merges bigger than MERGE_MAX_DOCS would hold a worker and the writer lock for
# minutes: `search reindex` is the tool for those.
MERGE_FACTOR = 6
MERGE_MAX_DOCS = 20_000
INLINE_MERGE_SEGMENTS = 40


def _tier(docs: int) -> int:
    return int(math.log(max(docs, 1), MERGE_FACTOR) + 1e-9)


def due_merges(segments) -> list[list]:
    """Groups of segments to merge now, each group into one segment."""
    tiers: dict[int, list] = {}
    for segment in segments:
        tiers.setdefault(_tier(segment.doc_count()), []).append(segment)
    return [group for group in tiers.values() if len(group) >= MERGE_FACTOR
            and sum(segment.doc_count_all() for segment in group) <= MERGE_MAX_DOCS]


def _merge_due_segments(ix: FileIndex) -> int:
    """Merge what due_merges() names; the caller holds the writer lock. Returns how many
    segments were merged away."""
    due = {segment.segment_id() for group in due_merges(ix._segments()) for segment in group}
    if not due:
        return 0

    def policy(writer, segments):  # the writer's own (equal, not identical) segment objects
        for segment in segments:
            if segment.segment_id() in due:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)  # copies its live documents into the new segment
                reader.close()
        return [segment for segment in segments if segment.segment_id() not in due]

    writer = ix.writer(timeout=30, delay=0.02, **WRITER_OPTIONS)
    try:
        writer.commit(mergetype=policy)
    except BaseException:
        writer.cancel()
        raise
    return len(due)


def merge_segments(timeout: float = 0.0) -> int:
    """Merge the segments that are due, unless another process is writing (it merges next
    time). Runs after a response has been sent, so no request waits for it (init_app)."""
    with _writer_lock(timeout) as locked:
        path = _current_dir() if locked else None
        if path is None:
            return 0
        return _merge_due_segments(_open(path))


def rebuild() -> int:
    """Build a new index from the database and swap it in; returns the document count."""
    count = 0
    with _writer_lock(timeout=600) as locked:
        if not locked:
            raise RuntimeError("another process holds the search writer lock")
        high_water = db.session.scalar(select(func.max(IndexChange.id))) or 0
        new_dir = _new_index_dir()
        ix = _index(new_dir)
        writer = ix.writer(limitmb=256, **WRITER_OPTIONS)
        try:
            for provider in _providers.values():
                for doc in provider.iterate():
                    writer.add_document(**_fields(doc))
                    count += 1
            writer.commit()
        except BaseException:
            writer.cancel()
            shutil.rmtree(new_dir, ignore_errors=True)
            raise
        db.session.execute(update(IndexChange).where(IndexChange.id <= high_water,
                                                     IndexChange.applied_at.is_(None))
                           .values(applied_at=utcnow()))
        db.session.commit()
        _swap_to(new_dir)
        # Once readers that resolved `current` before the swap have opened their files (open
        # files survive removal on POSIX), no reader can reach the old directories: remove
        # them all. If readers kept the barrier busy, they wait for the next rebuild.
        if _readers_done(_root() / READERS_LOCK):
            for stale in _root().glob("index-*"):
                if stale.is_dir() and stale != new_dir:
                    shutil.rmtree(stale, ignore_errors=True)
    apply_pending()
    return count


# --- searching ----------------------------------------------------------------------------------

@dataclass
class Hit:
    type: str
    id: int
    title: str
    score: float
    snippet: str
    snippet_html: str
    grade: str
    category: str
    tags: list[str]
    date: datetime | None
    extra: dict


@dataclass
class Results:
    hits: list[Hit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SEARCHED_FIELDS = ("title", "body")


def terms(text: str) -> list[str]:
    """The query's distinct index terms, in order."""
    return list(dict.fromkeys(analyze(text)))


def _writing_request() -> bool:
    """A POST (etc.) is inside its unit of work (e.g. incident creation asks for similar
    playbooks before its commit): applying there would commit that work half-done, so such
    a request searches the index as it is and leaves pending rows to the next writer."""
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def search(text: str, *, types: Iterable[str] = (), grade: str = "", category: str = "",
           tag: str = "", date_from: datetime | None = None, date_to: datetime | None = None,
           page: int = 1, per_page: int = 10, min_match: float = 0.0) -> Results:
    if pending_count() and not _writing_request():
        apply_pending(timeout=2.0)
    wanted = terms(text)
    if not wanted:
        return Results([], 0, page, per_page)
    filters = []
    types = [t for t in types if t]
    if types:
        filters.append(ranking.Filter("type", tuple(types)))
    if grade:
        filters.append(ranking.Filter("grade", (grade,)))
    if category:
        filters.append(ranking.Filter("category", (category,)))
    if tag:
        filters.append(ranking.Filter("tags", (tag.strip().lower(),)))
    s = searcher()
    docsets = []
    if date_from or date_to:
        docsets.append(set(s.docs_for_query(DateRange(
            "date", as_utc(date_from).replace(tzinfo=None) if date_from else None,
            as_utc(date_to).replace(tzinfo=None) if date_to else None))))
    # min_match (suggestions): that share of the query's distinct terms must occur.
    needed = max(1, round(min_match * len(wanted)))
    best, total = ranking.rank(s, wanted, SEARCHED_FIELDS, limit=page * per_page,
                               filters=filters, docsets=docsets, min_terms=needed)
    needles = _needles(text)
    hits = [_hit(s.stored_fields(docnum), score, needles)
            for score, docnum in best[(page - 1) * per_page:]]
    return Results(hits, total, page, per_page)


def _needles(text: str) -> list[str]:
    """What to mark in a snippet: the query's index terms (bigrams, stems) and its words."""
    words = {w.lower() for w in _WORD.findall(text or "") if len(w) >= 2}
    terms = {t for t in analyze(text) if len(t) >= 2}
    return sorted(words | terms, key=len, reverse=True)


def snippet(body: str, needles: list[str], width: int = 220) -> tuple[str, Markup]:
    """A window of `body` around the first match, plain and with <mark>s.

    A plain substring scan: Whoosh's highlighter re-analyses the whole stored text
    for every hit, which cost a third of each search."""
    if not body:
        return "", Markup("")
    # A Latin stem marks its whole word (refund -> "refunded"); Korean bigrams mark as found.
    alternatives = [rf"[A-Za-z0-9']*{re.escape(n)}[A-Za-z0-9']*" if n.isascii() else re.escape(n)
                    for n in needles]
    pattern = re.compile("|".join(alternatives), re.IGNORECASE) if needles else None
    first = pattern.search(body) if pattern else None
    start = max(0, first.start() - 60) if first else 0
    if start:
        space = body.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    fragment = body[start:start + width]
    prefix, suffix = ("… " if start else ""), (" …" if start + width < len(body) else "")
    if pattern is None:
        return prefix + fragment + suffix, Markup(escape(prefix + fragment + suffix))
    parts, cursor = [escape(prefix)], 0
    for match in pattern.finditer(fragment):
        parts.append(escape(fragment[cursor:match.start()]))
        parts.append(Markup("<mark>") + escape(match.group()) + Markup("</mark>"))
        cursor = match.end()
    parts.append(escape(fragment[cursor:]) + escape(suffix))
    return prefix + fragment + suffix, Markup("").join(parts)


def _hit(hit: dict, score: float, needles: list[str]) -> Hit:
    plain, html = snippet(hit.get("body", ""), needles)
    doc_type, doc_id = hit["key"].split(":", 1)
    return Hit(type=doc_type, id=int(doc_id), title=hit["title"], score=round(score, 4),
               snippet=plain, snippet_html=html, grade=hit.get("grade", ""),
               category=hit.get("category", ""),
               tags=[t for t in hit.get("tags", "").split(",") if t], date=hit.get("date"),
               extra=hit.get("extra") or {})


def init_app(app) -> None:
    app.config.setdefault("SEARCH_INDEX_DIR", str(Path(app.instance_path) / "search"))

    @app.after_request
    def _apply_after_commit(response):
        # The view has committed by now; bring the index up to date before answering.
        if g.get("search_dirty"):
            g.search_dirty = False
            try:
                apply_pending()
            except Exception:  # noqa: BLE001 - the rows stay pending; the next search applies them
                current_app.logger.exception("search index update failed; will retry")
                db.session.rollback()
            response.call_on_close(functools.partial(_merge_after_response,
                                                     current_app._get_current_object()))
        return response


def _merge_after_response(app) -> None:
    with app.app_context():
        try:
            merge_segments()
        except Exception:  # noqa: BLE001 - segments stay as they are; the next write merges
            app.logger.exception("search index merge failed; will retry")
