"""The application's URLs plus two ceilings, served by the same stack:

- /bench/bare/  a Django view that does nothing (middleware, routing, response),
- /bench/pk/    a view doing one primary-key SELECT (a complaint by id).
"""

from django.http import HttpResponse
from django.urls import path

from complaints.models import Complaint
from config.urls import urlpatterns as app_urlpatterns


def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


def one_select(request):
    pk = int(request.GET.get("id", "1"))
    row = Complaint.objects.filter(pk=pk).values_list("tracking_number", flat=True).first()
    return HttpResponse((row or "-").encode(), content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/pk/", one_select),
    *app_urlpatterns,
]
