"""A laptop: DEBUG on by default, SQLite and the file-system broker (see base)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
