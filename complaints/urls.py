from complaints.views import detail, queues, workbench

app_name = "complaints"

urlpatterns = [*queues.urlpatterns, *detail.urlpatterns, *workbench.urlpatterns]
