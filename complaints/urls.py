from django.urls import path

from complaints.views import staff

app_name = "complaints"

urlpatterns = [
    path("", staff.home, name="staff-home"),
    path("complaints/<int:pk>/", staff.detail, name="staff-detail"),
]
