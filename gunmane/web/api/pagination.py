"""Page-number pagination: ``?page=2&page_size=100`` (at most MAX_PAGE_SIZE a page)."""

from rest_framework.pagination import PageNumberPagination

MAX_PAGE_SIZE = 500


class Pages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    invalid_page_message = "ページ {page_number} はありません（{message}）。"
