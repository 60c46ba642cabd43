"""Sending to Telegram: HTML chunks in order, buttons as inline keyboards.

Rendering is :mod:`bot.render.telegram_html`'s job; here the rendered chunks
and button rows become Bot API calls, and a private chat keeps buttons only on
the bot's last message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError

from bot.messages import Reply
from bot.render.telegram_html import Button, render_reply, reply_keyboard

KEYBOARDS_REMEMBERED = 10_000
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """The inline keyboard for rendered button rows; None when there are none."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in rows
        ]
    )


def messages(reply: Reply) -> list[str]:
    """The HTML messages for the part a reply shows; the keyboard goes on the last."""
    return render_reply(reply)


class Sender:
    """Sends and edits the bot's messages; remembers, per private chat, which one has buttons."""

    def __init__(self) -> None:
        # Per private chat, the bot's last message with buttons (oldest chats first).
        self._keyboards: dict[int, int] = {}

    async def send(
        self,
        message: Message,
        chunks: Sequence[str],
        markup: InlineKeyboardMarkup | None = None,
        *,
        quote: bool = False,
    ) -> None:
        """Send chunks in order to the message's chat, the keyboard on the last one.

        Args:
            message: The message answered (its chat receives the chunks).
            chunks: HTML messages, each within Telegram's 4096 characters.
            markup: The keyboard, or None.
            quote: Reply to ``message`` with the first chunk (groups: who is answered).
        """
        last = len(chunks) - 1
        for index, chunk in enumerate(chunks):
            reply_to = None
            if quote and index == 0:
                reply_to = ReplyParameters(message.message_id, allow_sending_without_reply=True)
            sent = await message.get_bot().send_message(
                message.chat_id,
                chunk,
                reply_markup=markup if index == last else None,
                reply_parameters=reply_to,
            )
            if markup is not None and index == last:
                await self._move_keyboard(message, sent)

    async def send_reply(self, message: Message, reply: Reply, *, quote: bool = False) -> None:
        """Render a core reply and send it with its buttons."""
        await self.send(message, messages(reply), keyboard(reply_keyboard(reply)), quote=quote)

    @staticmethod
    async def edit(
        message: Message, chunks: Sequence[str], markup: InlineKeyboardMarkup | None
    ) -> None:
        """Replace a message's text and buttons; an unchanged message is no error."""
        try:
            await message.edit_text(chunks[0], reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise

    async def _move_keyboard(self, message: Message, sent: Message) -> None:
        """In a private chat, only the last message sent carries buttons.

        The keyboard of the previous one is removed, so a person never taps an
        answer's buttons 40 lines up. Best effort: a failed removal is no error.
        """
        if message.chat.type != ChatType.PRIVATE:
            return
        chat_id = message.chat_id
        previous = self._keyboards.pop(chat_id, None)
        self._keyboards[chat_id] = sent.message_id
        if len(self._keyboards) > KEYBOARDS_REMEMBERED:
            self._keyboards.pop(next(iter(self._keyboards)))
        if previous is not None and previous != sent.message_id:
            with contextlib.suppress(TelegramError):
                await message.get_bot().edit_message_reply_markup(
                    chat_id, previous, reply_markup=None
                )
