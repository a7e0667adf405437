"""Long work off the request: jobs on django-tasks' database queue, their progress and their files.

A page that needs long work (a カルテ PDF, the national frames) calls ``service.start`` with a django-tasks
task and a key — (kind, subject, data version) — and returns at once; the same key reuses the job, so a
second request for unchanged data gets the stored file at once. The task runs in ``gunmane worker`` (or
the worker ``gunmane serve`` starts), reports progress on the Job row, and stores its file under
DATA_DIR/jobs/. The page that asked shows the progress panel (templates/jobs/progress.html, polled by
static/gunmane/jobs.js) and serves the file itself, so the file is authorised by that page's own rule.
This app sits with ``common`` at the bottom of the web layers: apps above it define the tasks.
"""
