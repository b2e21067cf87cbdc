from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from complaints.api import intake

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("intake/", intake.IntakeView.as_view(), name="intake"),
]
