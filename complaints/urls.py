from complaints.views import (
    callbacks,
    collaboration,
    dashboard,
    detail,
    duplicates,
    escalations,
    guidance,
    imports,
    improvements,
    inbox,
    privacy,
    public,
    queues,
    remedies,
    similar,
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
    *similar.urlpatterns,
    *dashboard.urlpatterns,
    *privacy.urlpatterns,
    *imports.urlpatterns,
]
