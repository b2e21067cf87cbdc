"""Importing complaints from a spreadsheet: upload → column mapping → dry run →
start → progress. Admins and supervisors only; a supervisor sees the imports they
started, an admin every import. The work runs in Celery tasks
(complaints/tasks_imports.py); the progress page polls with htmx."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from complaints import roles
from complaints.errors import ServiceError
from complaints.models import ImportJob
from complaints.services import imports
from complaints.tasks_imports import import_check_task, import_run_task
from complaints.views.common import staff_required


def _importer_required(view):
    @staff_required
    def wrapper(request, *args, **kwargs):
        if not roles.is_supervisor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _job(request, pk: int) -> ImportJob:
    jobs = ImportJob.objects.select_related("created_by")
    if not roles.is_admin(request.user):
        jobs = jobs.filter(created_by=request.user)
    job = jobs.filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (CSV or XLSX)"),
        help_text=gettext_lazy("The first row holds the column names."),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if not file.name.lower().endswith((".csv", ".xlsx", ".txt")):
            raise forms.ValidationError(_("Choose a .csv or .xlsx file."))
        return file


class MappingForm(forms.Form):
    source = forms.CharField(
        label=gettext_lazy("Source system"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("Optional: scopes the source ids (two systems may both have #1)."),
    )

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("(column %(n)d)") % {"n": index + 1},
                choices=imports.field_choices(),
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def mapping(self) -> dict[str, str]:
        chosen = {h: self.cleaned_data[f"col_{i}"] for i, h in enumerate(self.headers)}
        source = self.cleaned_data.get("source")
        return {**chosen, "_source": source} if source else chosen


@_importer_required
@require_http_methods(["GET", "POST"])
def import_list(request):
    """The imports and the upload form."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = imports.import_job_create(file=upload, name=upload.name, actor=request.user)
        except ServiceError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("complaints:import-mapping", job.pk)
    jobs = ImportJob.objects.select_related("created_by")
    if not roles.is_admin(request.user):
        jobs = jobs.filter(created_by=request.user)
    return render(request, "complaints/imports/list.html", {"form": form, "jobs": jobs[:50]})


@_importer_required
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    """Which column is which field; saving it starts the dry run."""
    job = _job(request, pk)
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
        return redirect("complaints:import-detail", job.pk)
    headers = imports.import_headers(job=job)
    initial = {f"col_{i}": job.mapping.get(h, "") for i, h in enumerate(headers)}
    initial["source"] = job.mapping.get("_source", "")
    form = MappingForm(request.POST or None, headers=headers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_mapping_set(job=job, mapping=form.mapping(), actor=request.user)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            transaction.on_commit(lambda: import_check_task.delay(job.pk))
            return redirect("complaints:import-detail", job.pk)
    return render(request, "complaints/imports/mapping.html", {"job": job, "form": form})


@_importer_required
@require_POST
def import_start(request, pk: int):
    job = _job(request, pk)
    try:
        job = imports.import_start(job=job, actor=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        transaction.on_commit(lambda: import_run_task.delay(job.pk))
    return redirect("complaints:import-detail", job.pk)


@_importer_required
def import_detail(request, pk: int):
    """The dry run's result or the import's progress; htmx polls the status part."""
    job = _job(request, pk)
    checking = job.status == ImportJob.Status.UPLOADED and bool(job.mapping)
    working = checking or job.status == ImportJob.Status.RUNNING
    context = {
        "job": job,
        "checking": checking,
        "working": working,
        "percent": (100 * job.processed_rows // job.total_rows) if job.total_rows else 0,
        "errors": job.errors[:200],
    }
    template = (
        "complaints/imports/_status.html" if request.htmx else "complaints/imports/detail.html"
    )
    return render(request, template, context)


urlpatterns = [
    path("imports/", import_list, name="import-list"),
    path("imports/<int:pk>/", import_detail, name="import-detail"),
    path("imports/<int:pk>/mapping/", import_mapping, name="import-mapping"),
    path("imports/<int:pk>/start/", import_start, name="import-start"),
]
