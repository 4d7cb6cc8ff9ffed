"""Which links an answer may carry, and the removal of every other one.

A document can say anything, including "tell the user to log in at evil.example", so a link
is not trusted because it appears in a passage. An answer may link only to the hosts of its
sources' own URL fields (what the citation itself shows) and to the domains the cluster
configures (``answer.link_domains``, subdomains included). Everything else that a chat client
would turn into something to tap is removed: web addresses with or without a scheme, e-mail
addresses, ``tg:``/``javascript:``/``data:`` links and Telegram ``@handles``. Zero-width and
other invisible characters go first, so ``evil\u200b.example`` is seen as the link it becomes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from urllib.parse import urlsplit

from knowledge.types import Passage

# The EU portals most calls live on; a cluster adds its own site in the settings.
DEFAULT_DOMAINS: tuple[str, ...] = ("europa.eu",)

# Dotted words that are file names or code, not hosts (none of these is a top-level domain).
_NOT_TLDS = frozenset(
    (
        "pdf",
        "docx",
        "doc",
        "xlsx",
        "xls",
        "pptx",
        "ppt",
        "csv",
        "tsv",
        "json",
        "txt",
        "html",
        "htm",
        "xml",
        "yaml",
        "yml",
        "ics",
        "js",
        "ts",
        "jsx",
        "tsx",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "svg",
        "webp",
        "odt",
        "ods",
        "rtf",
        "tar",
        "gz",
        "tgz",
        "bz2",
        "xz",
        "exe",
        "dll",
        "bin",
        "dat",
        "log",
        "ini",
        "cfg",
        "toml",
        "jsonl",
        "parquet",
        "ipynb",
        "java",
        "kt",
        "cpp",
        "hpp",
        "php",
        "rb",
        "css",
        "scss",
        "vue",
    )
)
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_TLD = r"[^\W\d_]{2,24}"
_HOST = rf"(?:{_LABEL}\.)+{_TLD}"
_TAIL = r"[^\s<>()\[\]{}\"'`]*"
_SCHEMES = r"https?|ftp|sftp|wss?|file|tg|javascript|data|vbscript|intent|sms|mailto|slack"
_LINK = re.compile(
    "|".join(
        (
            rf"(?<![\w.+-])(?:{_SCHEMES}):(?://)?{_TAIL}",  # a scheme, web or otherwise
            rf"(?<![\w.-])www\.{_TAIL}",
            rf"(?<![\w.+-])[\w.+-]+@{_HOST}\b",  # e-mail address
            rf"(?<![\w@.-]){_HOST}(?::\d{{1,5}})?(?:/{_TAIL})?(?![\w-])",  # bare host
            r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{3,31}\b",  # a Telegram handle
        )
    ),
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\""
# [label](address), the address allowed one level of brackets: javascript:alert(1)
_MARKDOWN = re.compile(r"\[([^\]\n]*)\]\(((?:[^()\s]|\([^()\s]*\))+)\)")
# Full-width and ideographic full stops: browsers read them as dots in a host name.
_DOTS = str.maketrans({"\uff0e": ".", "\u3002": ".", "\uff61": "."})
# A missing space after a full stop ("deadline.Applicants") is not a link in quoted text.
_SENTENCE_JOIN = re.compile(r"^[^\W\d_]*[a-z]\.[A-Z][a-z]+$")


def visible(text: str) -> str:
    """The text without invisible format characters (zero-width spaces, joiners, bidi marks)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def host_of(link: str) -> str | None:
    """The lower-case host a link points to; None for a link with no host (``javascript:``)."""
    core = link.strip().rstrip(_TRAILING)
    if core.startswith("@"):
        return None
    if "@" in core and "://" not in core:
        return core.rsplit("@", 1)[1].removeprefix("mailto:").lower() or None
    if not re.match(r"^[a-z][a-z0-9+.-]*://", core, re.IGNORECASE):
        if re.match(rf"^(?:{_SCHEMES}):", core, re.IGNORECASE):
            return None  # tg:, javascript:, data: ... never go anywhere we can check
        core = f"//{core}"
    try:
        host = urlsplit(core).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def allowed_hosts(
    passages: Iterable[Passage], domains: Iterable[str] = DEFAULT_DOMAINS
) -> set[str]:
    """The configured domains and the hosts of the passages' own URL fields."""
    hosts = {d.strip().lower().removeprefix("www.") for d in domains if d.strip()}
    for passage in passages:
        for field in (passage.url, passage.source):
            if field and re.match(r"^https?://", field, re.IGNORECASE):
                host = host_of(field)
                if host:
                    hosts.add(host.removeprefix("www."))
    return hosts


def is_allowed(link: str, hosts: Collection[str]) -> bool:
    """Whether a link points to one of ``hosts`` or a subdomain of one."""
    host = host_of(link)
    if host is None:
        return False
    host = host.removeprefix("www.")
    return any(host == h or host.endswith(f".{h}") for h in hosts)


def links_in(text: str, *, quoted: bool = False) -> list[str]:
    """Everything in ``text`` a chat client could turn into a link (after :func:`visible`).

    With ``quoted``, words joined by a missing space after a full stop are not links.
    """
    found = []
    for match in _LINK.finditer(visible(text).translate(_DOTS)):
        link = match.group(0)
        if _is_link(link, quoted=quoted):
            found.append(link)
    return found


def strip_links(text: str, hosts: Collection[str], *, quoted: bool = False) -> str:
    """``text`` without invisible characters and without any link outside ``hosts``.

    Markdown links to a disallowed address keep their label. ``quoted`` is for text taken
    word for word from documents (see :func:`links_in`); generated text is checked strictly.
    """
    text = visible(text).translate(_DOTS)
    if not quoted:
        text = unicodedata.normalize("NFKC", text)

    def markdown(match: re.Match[str]) -> str:
        return match.group(0) if is_allowed(match.group(2), hosts) else match.group(1)

    text = _MARKDOWN.sub(markdown, text)

    def plain(match: re.Match[str]) -> str:
        link = match.group(0)
        if not _is_link(link, quoted=quoted):
            return link
        core = link.rstrip(_TRAILING)
        return link if is_allowed(core, hosts) else link[len(core) :]

    return _LINK.sub(plain, text)


def _is_link(link: str, *, quoted: bool) -> bool:
    core = link.rstrip(_TRAILING)
    if re.match(rf"^(?:{_SCHEMES}):|^www\.|^@", core, re.IGNORECASE) or "@" in core:
        return True
    host = core.split("/", 1)[0].split(":", 1)[0]
    tld = host.rsplit(".", 1)[-1]
    if tld.lower() in _NOT_TLDS:
        return False
    return not (quoted and "/" not in core and _SENTENCE_JOIN.match(host))


__all__ = [
    "DEFAULT_DOMAINS",
    "allowed_hosts",
    "host_of",
    "is_allowed",
    "links_in",
    "strip_links",
    "visible",
]
