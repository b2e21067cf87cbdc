from complaints.views import (
    collaboration,
    detail,
    duplicates,
    escalations,
    inbox,
    public,
    queues,
    workbench,
)

app_name = "complaints"

urlpatterns = [
    *queues.urlpatterns,
    *detail.urlpatterns,
    *duplicates.urlpatterns,
    *workbench.urlpatterns,
    *inbox.urlpatterns,
    *public.urlpatterns,
    *escalations.urlpatterns,
    *collaboration.urlpatterns,
]
