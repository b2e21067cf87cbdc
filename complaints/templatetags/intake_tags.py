from django import template

from complaints.services.duplicates import duplicates_open_for

register = template.Library()


@register.simple_tag
def open_duplicates(complaint, user):
    """Undecided possible duplicates of the complaint that this user may see."""
    return list(duplicates_open_for(complaint, user=user))
