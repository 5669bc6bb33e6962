"""Text for Slack-style receivers: what came from the data is shown, never obeyed.

Slack reads `<…>` as a link or a mention (`<!channel>` pings a whole channel,
`<https://evil.example/login|Open the sahelcast dashboard>` hides where a link goes) and `&` as
the start of an entity. An actor or region name is data an event source wrote, so the whole
`text` is escaped as Slack documents it (`&amp;`, `&lt;`, `&gt;`; Slack shows them as the
characters), and a bare `@channel`, `@here` or `@everyone` gets a zero-width space after its
`@` so that no workspace setting can turn it into a ping.
"""

from __future__ import annotations

import re

_BARE_MENTION = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)


def neutral(text: str) -> str:
    """`text` as Slack mrkdwn that shows every character and links or pings nothing."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BARE_MENTION.sub("@\u200b", escaped)
