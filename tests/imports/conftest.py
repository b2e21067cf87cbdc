import pytest
from django.core.files.base import ContentFile

from complaints.services import imports
from tests.factories import CategoryFactory


@pytest.fixture
def zh_category(org):
    return CategoryFactory(name="产品质量", code="quality-zh", default_team=org.team)


@pytest.fixture
def upload(settings, tmp_path):
    """Store bytes as an uploaded import file; returns the ImportJob."""
    settings.MEDIA_ROOT = tmp_path

    def make(data: bytes, name: str = "complaints.xlsx", actor=None):
        return imports.import_job_create(file=ContentFile(data, name=name), name=name, actor=actor)

    return make
