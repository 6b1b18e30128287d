"""Pages of the API's lists: ``page`` and ``page_size`` bounded, so no page number reaches the database as
an offset it cannot hold (``bigint out of range``) and the OpenAPI says which pages exist.

Use ``@paginate(Pages)``; the answer is ``{"items": [...], "count": n}``. A page after the last is empty.
"""

from typing import Any

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

from motcua.api.params import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE


class Pages(PageNumberPagination):
    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE, description=f"1 to {MAX_PAGE}; a page after the last is empty.")
        page_size: int = Field(
            DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, 1 to {MAX_PAGE_SIZE}."
        )

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=DEFAULT_PAGE_SIZE, max_page_size=MAX_PAGE_SIZE, **kwargs)
