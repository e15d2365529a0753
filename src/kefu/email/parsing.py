"""Reading an e-mail: MIME structure, Chinese and mislabelled charsets, threading headers,
automatic-mail signals, quoted history and signatures, and HTML made safe for display.

Pure functions over bytes and strings: no Django. The services store what these return.
"""

from __future__ import annotations

import datetime as dt
import email
import email.utils
import hashlib
import html as html_lib
import mimetypes
import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from email.policy import compat32

import charset_normalizer
import nh3

# Labels that lie in practice: GB2312 mail is usually GBK or GB18030 (GB18030 is a superset of
# both), Big5 mail often uses the Hong Kong additions, "Latin-1" is really Windows-1252.
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}
_WEAK_LABELS = {"", "us-ascii", "ascii", "cp1252", "iso-8859-1", "latin-1", "latin1"}

MESSAGE_ID_MAX = 250
_ANGLE_ID = re.compile(r"<([^<>\s]+)>")
_TICKET_IN_BRACKETS = re.compile(r"\[\s*#?\s*([A-Z]{2}\d{8}-\d{5})\s*\]")
_TICKET_BARE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2}\d{8}-\d{5})(?![0-9])")
_SUBJECT_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|回复|回覆|答复|转发|轉寄|转寄)\s*(\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


class MailParseError(ValueError):
    """The bytes are not an e-mail we can read (kept in quarantine by the caller)."""


@dataclass
class Part:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    message_id: str  # "<id@host>", or "" when the message has none
    subject: str
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: dt.datetime | None
    in_reply_to: list[str]
    references: list[str]
    text: str
    html: str
    attachments: list[Part] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case name -> decoded value
    content_type: str = "text/plain"
    report_type: str = ""
    defects: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this message answers, nearest first (In-Reply-To, then References from
        the newest)."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


# --- charsets ------------------------------------------------------------------------------------


def codec_for(label: str | None) -> str:
    name = (label or "").strip().strip('"').lower()
    return CHARSET_ALIASES.get(name, name)


def _valid_codec(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def decode_bytes(data: bytes, label: str | None = None) -> str:
    """Text from bytes whose declared charset may be missing, unknown or wrong."""
    if not data:
        return ""
    codec = codec_for(label)
    if codec and codec not in _WEAK_LABELS and _valid_codec(codec):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    high = sum(1 for byte in data if byte >= 0x80)
    if codec == "cp1252" and high < 0.3 * len(data):
        return data.decode("cp1252", errors="replace")  # Western text with a few accents
    # A Chinese label that failed is nearly always a wider Chinese encoding.
    if codec in ("gb18030", "big5hkscs", "hz"):
        for other in ("gb18030", "big5hkscs"):
            try:
                return data.decode(other)
            except UnicodeDecodeError:
                continue
    chinese = _likely_chinese(data)
    if chinese is not None:
        return chinese
    best = charset_normalizer.from_bytes(data).best()
    if best is not None and best.encoding:
        guessed = codec_for(best.encoding)
        if guessed in ("gb2312", "gbk"):
            guessed = "gb18030"
        try:
            return data.decode(guessed)
        except (UnicodeDecodeError, LookupError):
            pass
    fallback = codec if codec and _valid_codec(codec) else "utf-8"
    return data.decode(fallback, errors="replace")


def _likely_chinese(data: bytes) -> str | None:
    """Unlabelled 8-bit text from a Chinese mail client: GB18030 when it reads as mostly common
    simplified characters, else Big5 when that reads cleanly (short samples fool statistics)."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = ""
    cjk = [ch for ch in text if ord(ch) > 0x2E7F]
    if cjk:
        common = 0
        for ch in cjk:
            try:
                ch.encode("gb2312")
                common += 1
            except UnicodeEncodeError:
                pass
        if common >= 0.8 * len(cjk):
            return text
    try:
        traditional = data.decode("big5hkscs")
    except UnicodeDecodeError:
        return None
    return traditional if any(ord(ch) > 0x2E7F for ch in traditional) else None


def header_text(raw: str | None) -> str:
    """A header value as text: encoded words in any charset, raw 8-bit bytes, folding."""
    if not raw:
        return ""
    value = re.sub(r"\r?\n(?=[ \t])", "", str(raw))
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - malformed encoded words: read the value as it stands
        chunks = [(value, None)]
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(_unescape_8bit(chunk))
    text = "".join(out)
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).strip()


def _unescape_8bit(text: str) -> str:
    """Header bytes above 127 arrive as surrogate escapes; decode them properly."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"))


# --- the message ---------------------------------------------------------------------------------


def message_key(message_id: str, raw: bytes) -> str:
    """What deduplicates a message: its Message-ID, or a hash of its bytes when it has none."""
    if message_id and len(message_id) <= MESSAGE_ID_MAX:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def peek_message_id(raw: bytes) -> str:
    """The Message-ID from the header alone (for mail too large to read whole), or ""."""
    head, _sep, _rest = raw[:262144].partition(b"\r\n\r\n")
    if _sep == b"":
        head = raw[:262144].partition(b"\n\n")[0]
    try:
        headers = email.message_from_bytes(head + b"\r\n\r\n", policy=compat32)
    except Exception:  # noqa: BLE001 - no readable header: the caller keys by the bytes
        return ""
    found = _ids(header_text(headers.get("message-id", "")))
    return found[0] if found else ""


def _ids(value: str) -> list[str]:
    found = [f"<{m}>" for m in _ANGLE_ID.findall(value or "")]
    return [m for m in found if len(m) <= MESSAGE_ID_MAX]


def _addresses(value: str) -> list[tuple[str, str]]:
    result = []
    for name, address in email.utils.getaddresses([value]):
        address = address.strip()
        if "@" not in address:
            continue
        local, _at, domain = address.rpartition("@")
        result.append((name.strip(), f"{local}@{domain.lower()}"))
    return result


def _filename(part: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
            charset, _lang, text = value
            return decode_bytes(str(text).encode("latin-1", "surrogateescape"), charset).strip()
        text = email.utils.unquote(str(value))
        if "=?" in text:
            return header_text(text)
        return _unescape_8bit(text).strip()
    return ""


def parse_message(raw: bytes) -> ParsedMail:
    """Read ``raw``; raise :class:`MailParseError` when it is not a readable e-mail."""
    if not raw or not raw.strip():
        raise MailParseError("empty message")
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except Exception as exc:  # noqa: BLE001 - the parser is lenient; anything it raises is fatal
        raise MailParseError(f"MIME parser failed: {exc}") from exc
    headers: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.lower()
        if key not in headers:
            headers[key] = header_text(value)
    senders = _addresses(headers.get("from", "")) or _addresses(headers.get("sender", ""))
    if not senders:
        if not headers:
            raise MailParseError("no header lines")
        raise MailParseError("no sender address in From")
    from_name, from_address = senders[0]
    date = None
    if headers.get("date"):
        try:
            date = email.utils.parsedate_to_datetime(headers["date"])
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=dt.UTC)
        if date is not None:
            date = date.astimezone(dt.UTC)
    message_ids = _ids(headers.get("message-id", ""))
    parsed = ParsedMail(
        message_id=message_ids[0] if message_ids else "",
        subject=headers.get("subject", ""),
        from_address=from_address,
        from_name=from_name,
        to=[a for _n, a in _addresses(headers.get("to", ""))],
        cc=[a for _n, a in _addresses(headers.get("cc", ""))],
        date=date,
        in_reply_to=_ids(headers.get("in-reply-to", "")),
        references=_ids(headers.get("references", "")),
        text="",
        html="",
        headers=headers,
        content_type=msg.get_content_type(),
        report_type=str(msg.get_param("report-type") or "").lower(),
        defects=[type(d).__name__ for d in msg.defects],
    )
    _read_parts(msg, parsed)
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)
    return parsed


def _read_parts(msg: Message, parsed: ParsedMail) -> None:
    texts: list[str] = []
    htmls: list[str] = []
    counter = 0
    forwarded: list[str] = []
    for part in _walk(msg):
        for defect in part.defects:
            name = type(defect).__name__
            if name not in parsed.defects:
                parsed.defects.append(name)
        ctype = part.get_content_type()
        if part.is_multipart() and ctype != "message/rfc822":
            continue
        disposition = (part.get_content_disposition() or "").lower()
        name = _filename(part)
        if ctype == "message/rfc822":
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message):
                data = inner_msg.as_bytes(policy=compat32)
                counter += 1
                subject = header_text(inner_msg.get("subject", "")) or f"message-{counter}"
                parsed.attachments.append(
                    Part(filename=f"{subject[:80]}.eml", content_type=ctype, data=data)
                )
                inner_text = inner_msg.get_payload(decode=True)
                if isinstance(inner_text, bytes) and inner_msg.get_content_maintype() == "text":
                    forwarded.append(decode_bytes(inner_text, inner_msg.get_content_charset()))
            continue
        cid = (
            "".join(_ANGLE_ID.findall(str(part.get("content-id", ""))))
            or str(part.get("content-id", "") or "").strip()
        )
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if (
            part.get_content_maintype() == "text"
            and ctype in ("text/plain", "text/html")
            and disposition != "attachment"
            and not name
        ):
            text = decode_bytes(data, part.get_content_charset())
            (htmls if ctype == "text/html" else texts).append(text)
            continue
        if ctype == "message/delivery-status" or ctype == "text/rfc822-headers":
            texts.append(decode_bytes(data, "utf-8"))
            continue
        if not data:
            continue
        counter += 1
        if not name:
            ext = mimetypes.guess_extension(ctype) or ".bin"
            name = f"attachment-{counter}{ext}"
        parsed.attachments.append(
            Part(
                filename=name,
                content_type=ctype,
                data=data,
                content_id=cid,
                inline=bool(cid) or disposition == "inline",
            )
        )
    if msg.get_content_maintype() == "multipart" and not msg.get_payload() and not texts:
        # A multipart without a usable boundary: show the body as it came.
        body = msg.get_payload(decode=False)
        if isinstance(body, str):
            texts.append(_unescape_8bit(body))
    if not texts and not htmls:
        texts = forwarded
    parsed.text = "\n\n".join(
        t.replace("\r\n", "\n").strip("\n") for t in texts if t.strip()
    ).rstrip()
    parsed.html = "\n".join(htmls)


def _walk(part: Message) -> list[Message]:
    """Every part, but a forwarded message (message/rfc822) as one part, not its insides."""
    found = [part]
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for sub in part.get_payload():
            if isinstance(sub, Message):
                found.extend(_walk(sub))
    return found


# --- automatic mail ------------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|自动回复|自動回覆|自动答复|假期自动回复)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery failed|"
    r"returned mail|退信|系统退信|邮件投递失败)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = ("mailer-daemon", "postmaster")


def classify(parsed: ParsedMail, own_addresses: AbstractSet[str]) -> tuple[str, str]:
    """("normal" | "auto_reply" | "bounce" | "loop", the signal that decided)."""
    h = parsed.headers
    sender_local = parsed.from_address.split("@", 1)[0].lower()
    if parsed.from_address.lower() in own_addresses:
        return "loop", "From is one of our mailboxes"
    if "x-kefu-mailbox" in h:
        return "loop", "X-Kefu-Mailbox"
    loop_header = h.get("x-loop", "").lower()
    if loop_header and any(a in loop_header for a in own_addresses):
        return "loop", "X-Loop"
    if parsed.content_type == "multipart/report" and parsed.report_type in (
        "delivery-status",
        "disposition-notification",
    ):
        return "bounce", f"multipart/report; report-type={parsed.report_type}"
    if sender_local in _BOUNCE_SENDERS:
        return "bounce", f"From {sender_local}"
    if h.get("return-path", "").strip() == "<>" and _BOUNCE_SUBJECT.match(parsed.subject):
        return "bounce", "Return-Path <> and bounce subject"
    auto_submitted = h.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return "auto_reply", f"Auto-Submitted: {auto_submitted}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-reply", "x-autogenerated"):
        if name in h:
            return "auto_reply", name
    precedence = h.get("precedence", "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return "auto_reply", f"Precedence: {precedence}"
    if "list-id" in h or "list-unsubscribe" in h:
        return "auto_reply", "mailing list"
    if _AUTO_SUBJECT.match(parsed.subject):
        return "auto_reply", "auto-reply subject"
    if _BOUNCE_SUBJECT.match(parsed.subject):
        return "bounce", "bounce subject"
    return "normal", ""


# --- subjects and ticket numbers ----------------------------------------------------------------


def ticket_number_in(subject: str) -> str:
    """The work-order number in a subject like "Re: [#GD20261123-00042] 停电", or ""."""
    found = _TICKET_IN_BRACKETS.search(subject or "") or _TICKET_BARE.search(subject or "")
    return found.group(1) if found else ""


def clean_subject(subject: str) -> str:
    """The subject without Re:/回复:/Fwd: prefixes and without our number tag."""
    text = _TICKET_IN_BRACKETS.sub("", subject or "")
    text = _SUBJECT_PREFIX.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


# --- quoted history and signatures --------------------------------------------------------------

_QUOTE_MARKERS = [
    re.compile(r"^\s*-{2,}\s*(original message|原始邮件|原始郵件|原邮件)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(forwarded message|转发邮件|轉寄郵件)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^\s*on .{5,250}\bwrote:\s*$", re.I),
    re.compile(r"^\s*在\s*.{3,250}(写道|寫道)\s*[:：]\s*$"),
    re.compile(r"^.{0,120}于\s*\d{4}\s*年.{0,150}(写道|寫道)\s*[:：]\s*$"),
]
_HEADER_BLOCK_FROM = re.compile(r"^\s*\*?(from|发件人|發件人|寄件者)\s*\*?\s*[:：]", re.I)
_HEADER_BLOCK_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|subject|发送时间|時間|日期|收件人|主题|主旨|寄件日期)\s*\*?\s*[:：]",
    re.I,
)
_SIGNATURE = [
    re.compile(r"^-- ?$"),
    re.compile(r"^\s*(sent from my|发自我的|從我的|来自我的|从我的).{0,40}$", re.I),
    re.compile(r"^\s*get outlook for (ios|android)\s*$", re.I),
]


def fold_quoted(text: str) -> tuple[str, str]:
    """(what the customer wrote now, the quoted history and signature folded away). When the
    message is nothing but quoted text (a bare forward), nothing is folded."""
    lines = (text or "").replace("\r\n", "\n").split("\n")
    cut = _cut_index(lines)
    if cut is None:
        return text.strip(), ""
    visible = "\n".join(lines[:cut]).strip()
    folded = "\n".join(lines[cut:]).strip()
    if not visible:
        return text.strip(), ""
    return visible, folded


def _cut_index(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if any(p.match(line) for p in _QUOTE_MARKERS):
            return i
        if any(p.match(line) for p in _SIGNATURE):
            return i
        if _HEADER_BLOCK_FROM.match(line) and any(
            _HEADER_BLOCK_NEXT.match(nxt) for nxt in lines[i + 1 : i + 5]
        ):
            return i
        if (
            line.lower().startswith("on ")
            and i + 1 < len(lines)
            and lines[i + 1].strip().lower().endswith("wrote:")
        ):
            return i
        if line.startswith(">"):
            rest = [x for x in lines[i:] if x.strip()]
            if all(x.startswith(">") for x in rest):
                return i
    return None


# --- HTML ----------------------------------------------------------------------------------------

SAFE_TAGS = {
    "a", "b", "blockquote", "br", "caption", "code", "div", "em", "font", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "table": {"border", "cellpadding", "cellspacing"},
    "font": {"color"},
    "p": {"align"},
    "div": {"align"},
}
_BLOCK_END = re.compile(r"<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/blockquote|/table)\s*>", re.I)


def sanitize_html(html: str, cid_urls: dict[str, str] | None = None) -> str:
    """HTML safe to show to an agent: no scripts, handlers, styles, forms or frames; inline
    images point at our stored copies; remote images (tracking pixels) are dropped."""
    urls = cid_urls or {}

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            if value.lower().startswith("cid:"):
                return urls.get(value[4:].strip("<>"))
            return None
        if value.lower().startswith("cid:"):
            return None
        return value

    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        # "cid:" passes the scheme check only to be rewritten (or dropped) by ``keep``.
        url_schemes={"http", "https", "mailto", "cid"},
        attribute_filter=keep,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (for mail that has no text part)."""
    marked = _BLOCK_END.sub("\n", html or "")
    stripped = nh3.clean(marked, tags=set(), attributes={})
    text = html_lib.unescape(stripped)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
