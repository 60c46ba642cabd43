"""Moved to :mod:`fakes.bot_api`; this old name stays for branches written before the move."""

from fakes.bot_api import *  # noqa: F403
from fakes.bot_api import BOT_ID, BOT_USERNAME, CONFLICT, SECRET_HEADER  # noqa: F401
