"""What each kind of :class:`bot.messages.Reply` promises, checked on any reply."""

from __future__ import annotations

from typing import Any

from bot.core import Core
from bot.messages import Choice, IncomingMessage, Reply, ReplyKind
from bot.texts import labels


def check_reply_shape(reply: Reply, kb: Any) -> None:
    """Fail unless ``reply`` carries what its ``kind`` promises (see ``Reply``'s docstring).

    An answer names a topic of ``kb``; a clarify offers two topics or more and picks
    none; a fallback lists what the bot can help with; not_covered picks no topic;
    smalltalk is one line. Every reply has a title to show.

    Args:
        reply: Any reply of the core.
        kb: The knowledge base the core answered from (its ``topics`` by id).
    """
    assert reply.title, reply
    if reply.kind == "answer":
        assert reply.topic_id in kb.topics, reply.topic_id
        assert reply.steps or reply.summary, reply
    elif reply.kind == "clarify":
        assert reply.topic_id is None and len(reply.choices) >= 2, reply.choices
        assert all(c.value in kb.topics for c in reply.choices if c.kind == "topic"), reply.choices
    elif reply.kind == "fallback":
        assert reply.topic_id is None and reply.items, reply
    elif reply.kind == "not_covered":
        assert reply.topic_id is None and reply.summary, reply
    else:
        assert reply.kind == "smalltalk", reply.kind
        assert reply.topic_id is None and not reply.steps, reply


def topics_reply(
    kind: ReplyKind,
    language: str,
    title: str,
    choices: dict[str, str] | None = None,
    **fields: Any,
) -> Reply:
    """A reply without a topic of its own (clarify, fallback, not_covered, smalltalk).

    Args:
        kind: The reply's kind.
        language: Its language (its labels follow).
        title: Its first line.
        choices: Topic id -> label, offered in this order.
        **fields: Any other :class:`Reply` field (``summary``, ``items``...).
    """
    offered = tuple(Choice("topic", tid, label) for tid, label in (choices or {}).items())
    fields.setdefault("confidence", 0.0 if kind == "fallback" else 0.5)
    return Reply(
        kind=kind,
        language=language,
        topic_id=None,
        title=title,
        choices=offered,
        labels=labels(language),
        **fields,
    )


async def answered_example(core: Core, topic_id: str = "x.grok_training") -> tuple[str, Reply]:
    """A question (one of the topic's examples) and the reply the engine builds for it."""
    for example in core.kb.topics[topic_id].en.examples:
        reply = await core.handle(IncomingMessage(example, language_hint="en"))
        if reply.kind == "answer" and reply.topic_id == topic_id:
            return example, reply
    raise AssertionError(f"no example of {topic_id} is answered with it")
