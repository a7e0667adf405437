"""The progress of a job, for the panel that polls it: JSON, or the panel itself as an HTML fragment.

Public (Access.PUBLIC): the answer says only how far a job has got, under a random id that only the page that
started it knows; the result itself is served by that page, under its own rule.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from gunmane.web.jobs.models import Job
from gunmane.web.jobs.service import state


def status(request: HttpRequest, pk: str) -> HttpResponse:
    job = get_object_or_404(Job, pk=pk)
    if request.GET.get("format") == "json":
        return JsonResponse(state(job), json_dumps_params={"ensure_ascii": False})
    return render(request, "jobs/_panel.html", {"job": job})
