from functools import cache

from complaints import roles, selectors
from complaints.selectors_nav import nav_badges_recent


def workspace(request):
    """Queue counts and the other badges of the navigation (one query).

    Callables, so the query runs only on pages whose templates show them (not the admin).
    """
    user = getattr(request, "user", None)
    if user is None or not roles.is_staff_member(user):
        return {}

    @cache
    def badges():
        return nav_badges_recent(user)

    @cache
    def nav_queues():
        counts = badges().queues
        return [(q, counts[q.slug]) for q in selectors.queues_for(user)]

    def nav_unread():
        return badges().unread

    return {
        "nav_queues": nav_queues,
        "nav_unread": nav_unread,
        "nav_badges": badges,
        "nav_is_supervisor": roles.is_supervisor(user),
        "nav_inbox": roles.is_agent(user) or roles.is_supervisor(user),
    }
