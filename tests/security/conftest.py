"""The access-log receivers are connected by ComplaintsConfig.ready(); importing the
module here too keeps these tests independent of that (dispatch_uid: connected once)."""

import complaints.security_signals  # noqa: F401
