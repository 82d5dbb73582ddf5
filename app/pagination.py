"""Pages of plain rows: Flask-SQLAlchemy's Pagination filled by the caller's own statements.

db.paginate() loads ORM entities and builds its LIMIT and count statements afresh each
time; read-only lists (the incident list, the timeline) need only a few columns, and a
statement built once with bound parameters keeps SQLAlchemy's compiled form cached.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_sqlalchemy.pagination import Pagination

# The highest page number anyone is shown. A link or a hand-typed URL can ask for any number,
# but past this its OFFSET no longer fits a 64-bit integer (SQLite raised OverflowError, a
# 500); beyond the last page, a list is simply empty. The API refuses more with a 422.
MAX_PAGE = 100_000


class RowPagination(Pagination):
    def _query_items(self) -> list:
        return self._query_args["fetch"](self.per_page, self._query_offset)

    def _query_count(self) -> int:
        return self._query_args["total"]()


def paginate_rows(fetch: Callable[[int, int], list], total: Callable[[], int],
                  page: int, per_page: int) -> Pagination:
    """A page as db.paginate(error_out=False) gives it: `fetch(limit, offset)` reads the
    page's rows, `total()` counts them all."""
    return RowPagination(fetch=fetch, total=total, page=min(page, MAX_PAGE), per_page=per_page,
                         error_out=False, max_per_page=None)
