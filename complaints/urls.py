from complaints.views import detail, inbox, public, queues, workbench

app_name = "complaints"

urlpatterns = [
    *queues.urlpatterns,
    *detail.urlpatterns,
    *workbench.urlpatterns,
    *inbox.urlpatterns,
    *public.urlpatterns,
]
