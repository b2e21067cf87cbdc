from functools import cache

from complaints import roles, selectors
from complaints.services import inapp


def workspace(request):
    """Queue counts and unread notifications for the navigation.

    Callables, so the queries run only on pages whose templates show them (not the admin).
    """
    user = getattr(request, "user", None)
    if user is None or not roles.is_staff_member(user):
        return {}

    @cache
    def nav_queues():
        counts = selectors.queue_counts(user)
        return [(q, counts[q.slug]) for q in selectors.queues_for(user)]

    @cache
    def nav_unread():
        return inapp.unread_count(user)

    return {
        "nav_queues": nav_queues,
        "nav_unread": nav_unread,
        "nav_is_supervisor": roles.is_supervisor(user),
        "nav_inbox": roles.is_agent(user) or roles.is_supervisor(user),
    }
