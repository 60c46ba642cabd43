"""The handlers: each Telegram update becomes one core call, rendered and sent.

Commands, text and media, buttons and inline queries are translated here; what
to answer, which language to speak and what to remember are the core's
decisions (:meth:`~bot.core.Core.handle_chat`, :meth:`~bot.core.Core.choose`,
:meth:`~bot.core.Core.open_deep_link`, :meth:`~bot.core.Core.language_of`,
:meth:`~bot.core.Core.inline_replies`). One error handler logs the update id
and the error, never the person's text.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.send import NO_PREVIEW, Sender, keyboard, messages
from bot.core import Core, Forgotten
from bot.messages import IncomingMessage
from bot.metrics import Metrics
from bot.nlu.language import normalize_hint
from bot.ratelimit import Verdict
from bot.render.telegram_html import (
    CB_CHOOSE,
    CB_LANGUAGE,
    CB_PART,
    CB_SURFACE,
    Button,
    language_buttons,
    parse_callback,
    render_text,
    reply_keyboard,
    topic_buttons,
)
from bot.texts import text

log = logging.getLogger(__name__)

CHANNEL = "telegram"
COMMANDS = ("start", "help", "topics", "lang", "privacy", "forget")
EXAMPLE_TOPICS = ("x.grok_training", "x.third_party_sharing", "x.grok_history")
HELP_TOPIC = "bot.help"
PRIVACY_TOPIC = "bot.privacy"
INLINE_CACHE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Addressing:
    """How a text message reaches the bot.

    Attributes:
        question: The text, the bot's @mention removed and spaces collapsed.
        mentioned: It mentions ``@bot_username``.
        replied_to: It replies to one of the bot's messages.
    """

    question: str
    mentioned: bool
    replied_to: bool


def addressing(message: Message, bot_id: int, bot_username: str) -> Addressing:
    """Whether a text message mentions the bot or replies to it, and its question."""
    mention = f"@{bot_username}".lower()
    question = message.text or ""
    mentioned = False
    for value in message.parse_entities([MessageEntity.MENTION]).values():
        if value.lower() == mention:
            mentioned = True
            question = question.replace(value, " ")
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    return Addressing(" ".join(question.split()), mentioned, to_bot)


def addressed_text(message: Message, bot_id: int, bot_username: str) -> str | None:
    """The question if the message speaks to the bot, else None.

    A message speaks to the bot when it replies to one of the bot's messages
    or mentions ``@bot_username``; the mention is removed from the question.
    """
    found = addressing(message, bot_id, bot_username)
    return found.question if found.mentioned or found.replied_to else None


def _user_id(user: Any) -> str | None:
    return str(user.id) if user is not None else None


def _app_language(user: Any) -> str | None:
    return user.language_code if user is not None else None


class Handlers:
    """Every PTB handler of the channel, around one core.

    Args:
        core: The shared core: it decides every reply.
        metrics: Where failed updates are counted.
        sender: Sends and edits the bot's messages.
    """

    def __init__(self, core: Core, metrics: Metrics, sender: Sender) -> None:
        self.core = core
        self.metrics = metrics
        self.sender = sender

    # the per-person rate limit ----------------------------------------------------

    async def gate(self, update: object) -> bool:
        """The per-person rate limit, checked before an update waits for its chat.

        Counts new private messages, messages addressed to the bot in groups and
        button presses. Over the limit, the person gets one "slow down" (a
        message, or a notice on the button) and the rest is dropped unanswered.

        Returns:
            Whether to process the update.
        """
        if not isinstance(update, Update) or self.core.limiter is None:
            return True
        user, query, message = update.effective_user, update.callback_query, update.message
        if user is None or (query is None and message is None):
            return True
        try:
            if message is not None and message.chat.type != ChatType.PRIVATE:
                bot = message.get_bot()
                command = (message.text or "").startswith("/")
                if not command and addressed_text(message, bot.id, bot.username) is None:
                    return True
            verdict = await self.core.admit_async(CHANNEL, str(user.id))
        except Exception:  # the limit must never cost a person their answer
            log.exception("telegram: update %s: rate limit check failed", update.update_id)
            return True
        if verdict is Verdict.ALLOW:
            return True
        if verdict is Verdict.WARN:
            try:
                notice = text(await self._language(user), "rate.slow_down")
                if query is not None:
                    await query.answer(notice)
                elif message is not None:
                    await self.sender.send(message, render_text(notice))
            except TelegramError as exc:
                log.info("telegram: update %s: slow-down notice failed: %s", update.update_id, exc)
        return False

    # helpers --------------------------------------------------------------------

    async def _language(self, user: Any) -> str:
        return await self.core.language_of(CHANNEL, _user_id(user), _app_language(user))

    async def _answer(
        self, message: Message, user: Any, question: str, how: Addressing | None = None
    ) -> None:
        incoming = IncomingMessage(
            text=question,
            channel=CHANNEL,
            user_id=_user_id(user),
            language_hint=_app_language(user),
            mentioned=how is not None and how.mentioned,
            replied_to=how is not None and how.replied_to,
            chat_type="private" if message.chat.type == ChatType.PRIVATE else "group",
        )
        reply = await self.core.handle_chat(incoming)
        await self.sender.send_reply(message, reply, quote=message.chat.type != ChatType.PRIVATE)

    def _topic_titles(self, language: str) -> list[tuple[str, str]]:
        return [(choice.value, choice.label) for choice in self.core.menu(language)]

    def _start_keyboard(self, language: str) -> list[list[Button]]:
        titles = dict(self._topic_titles(language))
        examples = [t for t in EXAMPLE_TOPICS if t in titles]
        if len(examples) < 2:
            examples += [t for t in titles if t not in examples]
        pairs = [(t, titles[t]) for t in examples[:3]]
        return topic_buttons(pairs, language) + language_buttons(language)

    # commands -------------------------------------------------------------------

    async def cmd_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start``, or a deep link (t.me/<bot>?start=x-grok_training) opening a topic."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        language = await self._language(user)
        if context.args:
            reply = await self.core.open_deep_link(
                CHANNEL, _user_id(user), context.args[0], language
            )
            if reply is not None:
                await self.sender.send_reply(message, reply)
                return
        await self.sender.send(
            message,
            render_text(text(language, "tg.start")),
            keyboard(self._start_keyboard(language)),
        )

    async def cmd_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/help``: the help topic, else a list of the topics."""
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        page = self.core.page(HELP_TOPIC, language)
        if page is not None:
            await self.sender.send_reply(message, page)
            return
        titles = "\n".join(f"• {title}" for _, title in self._topic_titles(language))
        await self.sender.send(message, render_text(f"{text(language, 'help.summary')}\n{titles}"))

    async def cmd_topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/topics``: every topic as a button."""
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        await self.sender.send(
            message,
            render_text(text(language, "tg.topics")),
            keyboard(topic_buttons(self._topic_titles(language), language)),
        )

    async def cmd_lang(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/lang fr`` sets the reply language; ``/lang`` alone offers the choice."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        wanted = normalize_hint(context.args[0]) if context.args else None
        if wanted is None:
            language = await self._language(user)
            await self.sender.send(
                message,
                render_text(text(language, "tg.lang.usage")),
                keyboard(language_buttons(language)),
            )
            return
        await self.core.set_language(CHANNEL, str(user.id), wanted)
        await self.sender.send(message, render_text(text(wanted, "tg.lang.set")))

    async def cmd_privacy(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/privacy``: what the bot keeps about a person."""
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        page = self.core.page(PRIVACY_TOPIC, language)
        if page is not None:
            await self.sender.send_reply(message, page)
        else:
            await self.sender.send(message, render_text(text(language, "tg.privacy")))

    async def cmd_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/forget``: erase what is stored about the person, and say what happened."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        language = await self._language(user)
        result = await self.core.forget(CHANNEL, str(user.id))
        key = {
            Forgotten.ERASED: "tg.forget.done",
            Forgotten.NOTHING: "tg.forget.none",
            Forgotten.FAILED: "tg.forget.failed",
        }[result]
        await self.sender.send(message, render_text(text(language, key)))

    # messages -------------------------------------------------------------------

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A question in a private chat."""
        message = update.effective_message
        if message is None or not message.text:
            return
        how = addressing(message, context.bot.id, context.bot.username)
        await self._answer(message, update.effective_user, message.text, how)

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, sticker, voice note...: answer its caption, else say what I read."""
        message = update.effective_message
        if message is None:
            return
        if message.caption and message.caption.strip():
            await self._answer(message, update.effective_user, message.caption)
            return
        language = await self._language(update.effective_user)
        await self.sender.send(message, render_text(text(language, "tg.not_text")))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot does not have (private chats only)."""
        message = update.effective_message
        if message is None:
            return
        language = await self._language(update.effective_user)
        await self.sender.send(message, render_text(text(language, "tg.unknown_command")))

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer in a group only when the bot is mentioned or replied to."""
        message = update.effective_message
        if message is None or not message.text:
            return
        how = addressing(message, context.bot.id, context.bot.username)
        if how.mentioned or how.replied_to:
            await self._answer(message, update.effective_user, how.question, how)

    # buttons --------------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A tapped button: acknowledged at once (no spinner), then the message changes.

        Surface, part and candidate buttons edit the pressed message in place; a
        related topic, or a part too long for one message, comes as new messages
        carrying the buttons (the pressed message then loses its own).
        """
        query = update.callback_query
        if query is None:
            return
        callback = parse_callback(query.data)
        message = query.message if isinstance(query.message, Message) else None
        notice: str | None = None
        if callback is not None and callback.kind == CB_LANGUAGE:
            notice = text(callback.language, "tg.lang.set")
        elif callback is not None and callback.topic_id not in self.core.kb.topics:
            notice = text(callback.language, "tg.unknown_topic")
        with contextlib.suppress(TelegramError):
            await query.answer(notice)
        if callback is None or message is None:
            return
        user_id = str(query.from_user.id)
        if callback.kind == CB_LANGUAGE:
            await self.core.set_language(CHANNEL, user_id, callback.language)
            await self.sender.edit(
                message,
                render_text(text(callback.language, "tg.start")),
                keyboard(self._start_keyboard(callback.language)),
            )
            return
        assert callback.topic_id is not None
        reply = await self.core.choose(
            CHANNEL,
            user_id,
            callback.topic_id,
            callback.language,
            part=(callback.part or "short") if callback.kind == CB_PART else None,  # type: ignore[arg-type]
            surface=callback.surface,
        )
        if reply is None:  # the topic left the knowledge base (reloaded meanwhile)
            return
        chunks = messages(reply)
        markup = keyboard(reply_keyboard(reply))
        if callback.kind in (CB_SURFACE, CB_PART, CB_CHOOSE) and len(chunks) == 1:
            await self.sender.edit(message, chunks, markup)
            return
        await self.sender.send(message, chunks, markup)  # the buttons move to the new message

    # inline mode ----------------------------------------------------------------

    async def on_inline(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Offer short answers to share from any chat (``@bot grok``); nothing is stored.

        Results depend on the person's language, so Telegram caches them per
        person; a query that matches nothing gets no results and a hint.
        """
        query = update.inline_query
        if query is None:
            return
        language, replies = self.core.inline_replies(query.query, query.from_user.language_code)
        results = [
            InlineQueryResultArticle(
                id=f"{reply.language}:{reply.topic_id}"[:64],
                title=reply.title,
                description=reply.short[:200],
                input_message_content=InputTextMessageContent(
                    messages(reply)[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                ),
            )
            for reply in replies
        ]
        hint = None
        if not results:
            hint = InlineQueryResultsButton(
                text=text(language, "tg.inline.hint"), start_parameter="inline"
            )
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=hint)

    # errors ---------------------------------------------------------------------

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error boundary: log the update id and the error, never the text."""
        error = context.error
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(error, Forbidden):
            with contextlib.suppress(Exception):  # a failing store must not hide the error
                await self.core.store.increment("telegram.forbidden")
            log.info("telegram: update %s: the user blocked the bot; reply dropped", update_id)
            return
        with contextlib.suppress(Exception):
            await self.core.store.increment("telegram.errors")
        self.metrics.record_error(CHANNEL)
        log.error(
            "telegram: update %s failed: %s",
            update_id,
            type(error).__name__,
            exc_info=error,
        )
