from complaints.views import (
    callbacks,
    collaboration,
    detail,
    duplicates,
    escalations,
    guidance,
    improvements,
    inbox,
    public,
    queues,
    remedies,
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
    *guidance.urlpatterns,
    *remedies.urlpatterns,
    *callbacks.urlpatterns,
    *improvements.urlpatterns,
]
