"""Files people read: カルテ, LCC and effects workbooks, survey forms, charts, PDF pages."""
