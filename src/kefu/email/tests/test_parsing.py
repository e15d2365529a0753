"""Reading real-world mail: the corpus of captured shapes (Chinese clients, Outlook, mobile,
forwards, odd attachment names, broken MIME), automatic mail, folding, sanitising."""

from __future__ import annotations

import datetime as dt

import pytest

from kefu.email import parsing
from kefu.email.backoff import retry_delay
from kefu.email.tests.conftest import corpus

OWN = {"service@kefu.example.cn"}


def test_foxmail_gb2312_label_with_gbk_only_characters() -> None:
    # given mail labelled GB2312 that uses 喆 and 堃 (GBK only), in the body and the headers
    # when
    mail = parsing.parse_message(corpus("foxmail_gb2312.eml"))
    # then
    assert mail.subject == "停电报修：家中停电（喆）"
    assert (mail.from_name, mail.from_address) == ("张喆堃", "zhangzk@163.com")
    assert mail.message_id == "<202611230915021234567@163.com>"
    assert mail.date == dt.datetime(2026, 11, 23, 1, 15, 2, tzinfo=dt.UTC)
    assert "联系人：张喆堃。" in mail.text
    assert parsing.fold_quoted(mail.text) == (
        "您好：\n\n我家（户号 1002003004）从今天早上8点开始停电，请尽快派人检修。联系人：张喆堃。\n\n谢谢！",
        "--\n张喆堃\n电话 13800138000",
    )
    assert parsing.classify(mail, OWN) == ("normal", "")


def test_outlook_related_html_inline_image_and_encoded_word_attachment_name() -> None:
    mail = parsing.parse_message(corpus("outlook_gbk_related.eml"))
    assert mail.subject == "电费账单异常"
    assert mail.from_name == "王芳"
    assert [(a.filename, a.content_type, a.content_id, a.inline) for a in mail.attachments] == [
        ("image001.png", "image/png", "image001.png@01DB3D8A.5A1B2C30", True),
        ("十一月电费单.pdf", "application/pdf", "", False),
    ]
    assert mail.attachments[1].data.startswith(b"%PDF-1.4")
    html = parsing.sanitize_html(mail.html, {"image001.png@01DB3D8A.5A1B2C30": "/files/7/"})
    assert html == (
        '<p>您好，</p><p>附件是<b>电费账单</b>截图：</p><img src="/files/7/"><p>王芳</p>'
    )


def test_qq_mail_reply_threads_and_folds_the_original() -> None:
    mail = parsing.parse_message(corpus("qqmail_reply_utf8.eml"))
    assert mail.thread_ids == [
        "<kefu.GD20261123-00042.1@kefu.example.cn>",
        "<kefu.GD20261123-00042.0@kefu.example.cn>",
    ]
    assert parsing.ticket_number_in(mail.subject) == "GD20261123-00042"
    assert parsing.clean_subject(mail.subject) == "停电报修"
    visible, folded = parsing.fold_quoted(mail.text)
    assert visible == "好的，明天上午在家，师傅几点到？"
    assert folded.startswith("------------------ 原始邮件 ------------------\n发件人:")


def test_iphone_gb18030_quoted_printable_with_emoji_and_mobile_signature() -> None:
    mail = parsing.parse_message(corpus("iphone_gb18030_qp.eml"))
    assert mail.subject == "路灯不亮"
    assert parsing.fold_quoted(mail.text) == (
        "路灯坏了三天了，在人民路和解放路路口😀",
        "发自我的iPhone",
    )


def test_big5_traditional_chinese() -> None:
    mail = parsing.parse_message(corpus("big5_traditional.eml"))
    assert (mail.subject, mail.from_name) == ("查詢帳單", "陳大文")
    assert mail.text == "您好，我想查詢本月的帳單明細，謝謝。\n陳先生"


def test_mislabelled_charset_and_raw_8bit_headers() -> None:
    # given a body labelled UTF-8 that is GBK, and GBK bytes straight in Subject and From
    mail = parsing.parse_message(corpus("mislabelled_gbk_as_utf8.eml"))
    assert (mail.subject, mail.from_name) == ("水费异常", "赵磊")
    assert mail.text == "水表读数明显不对，上个月用水只有5吨，账单却是50吨。"


def test_rfc2231_names_single_and_continued_in_two_charsets() -> None:
    mail = parsing.parse_message(corpus("rfc2231_attachments.eml"))
    assert [a.filename for a in mail.attachments] == ["电费单 2026-11.pdf", "身份证正面.png"]
    assert mail.text == "请开具十月和十一月的电子发票，见附件。"


def test_forward_keeps_inline_text_and_the_forwarded_message_as_one_file() -> None:
    mail = parsing.parse_message(corpus("forwarded_chain.eml"))
    assert mail.text.count("因管道维修，11月30日全天停水。") == 1
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("停水通知.eml", "message/rfc822")
    ]
    # a bare forward is all "quoted": nothing is folded away
    assert parsing.fold_quoted(mail.text) == (mail.text, "")


def test_broken_mime_is_read_as_far_as_it_goes() -> None:
    mail = parsing.parse_message(corpus("broken_mime.eml"))
    assert mail.text == "燃气表不走字了。"
    assert [a.filename for a in mail.attachments] == ["meter.png"]
    assert "CloseBoundaryNotFoundDefect" in mail.defects


def test_message_without_message_id_is_keyed_by_its_bytes() -> None:
    raw = corpus("no_message_id.eml")
    mail = parsing.parse_message(raw)
    assert mail.message_id == ""
    key = parsing.message_key(mail.message_id, raw)
    assert key.startswith("sha256:") and len(key) == 7 + 64
    assert parsing.message_key("<a@b>", raw) == "<a@b>"


def test_not_an_email_raises() -> None:
    with pytest.raises(parsing.MailParseError, match="no header lines"):
        parsing.parse_message(corpus("unparseable.eml"))
    with pytest.raises(parsing.MailParseError, match="empty message"):
        parsing.parse_message(b"  \r\n")
    with pytest.raises(parsing.MailParseError, match="no sender address"):
        parsing.parse_message(b"Subject: hi\r\n\r\nbody\r\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("auto_reply_ooo.eml", ("auto_reply", "Auto-Submitted: auto-replied")),
        ("bounce_dsn.eml", ("bounce", "multipart/report; report-type=delivery-status")),
        ("newsletter_bulk.eml", ("auto_reply", "Precedence: bulk")),
        ("foxmail_gb2312.eml", ("normal", "")),
        ("hostile_xss.eml", ("normal", "")),
    ],
)
def test_automatic_mail_is_recognised(name: str, expected: tuple[str, str]) -> None:
    assert parsing.classify(parsing.parse_message(corpus(name)), OWN) == expected


def test_loops_are_recognised() -> None:
    ours = b"From: service@kefu.example.cn\r\nSubject: x\r\n\r\nbody\r\n"
    echoed = b"From: a@b.cn\r\nX-Kefu-Mailbox: service@kefu.example.cn\r\nSubject: x\r\n\r\nb\r\n"
    x_loop = b"From: a@b.cn\r\nX-Loop: service@kefu.example.cn\r\nSubject: x\r\n\r\nb\r\n"
    assert parsing.classify(parsing.parse_message(ours), OWN) == (
        "loop",
        "From is one of our mailboxes",
    )
    assert parsing.classify(parsing.parse_message(echoed), OWN) == ("loop", "X-Kefu-Mailbox")
    assert parsing.classify(parsing.parse_message(x_loop), OWN) == ("loop", "X-Loop")


def test_hostile_html_is_sanitised() -> None:
    mail = parsing.parse_message(corpus("hostile_xss.eml"))
    html = parsing.sanitize_html(mail.html)
    # the script, handlers, javascript: link, svg, iframe, form, style and the remote
    # (tracking) image's address are all gone
    assert html == '<p>请看附件</p><img><a rel="noopener noreferrer nofollow">点这里</a><img>'
    assert mail.attachments[0].filename == "<img src=x onerror=alert(4)>.txt"


@pytest.mark.parametrize(
    ("text", "visible", "folded"),
    [
        (
            "ok\n\nOn Mon, 1 Dec 2026 at 10:00, Kefu <s@k.cn> wrote:\n> hi",
            "ok",
            "On Mon, 1 Dec 2026 at 10:00, Kefu <s@k.cn> wrote:\n> hi",
        ),
        (
            "好的\n\n在 2026年12月1日 10:00，客服 <s@k.cn> 写道：\n> 您好",
            "好的",
            "在 2026年12月1日 10:00，客服 <s@k.cn> 写道：\n> 您好",
        ),
        (
            "thanks\n-----Original Message-----\nFrom: x",
            "thanks",
            "-----Original Message-----\nFrom: x",
        ),
        (
            "收到\n\n发件人: 客服中心\n发送时间: 2026年12月1日\n收件人: 我\n主题: 回复",
            "收到",
            "发件人: 客服中心\n发送时间: 2026年12月1日\n收件人: 我\n主题: 回复",
        ),
        ("a\n> quoted\nnot quoted", "a\n> quoted\nnot quoted", ""),
        ("plain text", "plain text", ""),
    ],
)
def test_fold_quoted(text: str, visible: str, folded: str) -> None:
    assert parsing.fold_quoted(text) == (visible, folded)


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        ("喆".encode("gbk"), "gb2312", "喆"),
        ("中文".encode("gb18030"), None, "中文"),
        ("繁體中文".encode("big5"), "big5", "繁體中文"),
        ("中文".encode(), "us-ascii", "中文"),
        ("café".encode("cp1252"), "iso-8859-1", "café"),
        (b"plain", "x-unknown-charset", "plain"),
    ],
)
def test_decode_bytes(data: bytes, label: str | None, expected: str) -> None:
    assert parsing.decode_bytes(data, label) == expected


@pytest.mark.parametrize(
    ("subject", "number"),
    [
        ("Re: [#GD20261123-00042] 停电", "GD20261123-00042"),
        ("回复：关于工单 GD20261123-00042 的问题", "GD20261123-00042"),
        ("[# GD20261123-00042 ]", "GD20261123-00042"),
        ("GD20261123-000421", ""),
        ("no number", ""),
    ],
)
def test_ticket_number_in(subject: str, number: str) -> None:
    assert parsing.ticket_number_in(subject) == number


@pytest.mark.parametrize(("attempt", "delay"), [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600)])
def test_retry_delay(attempt: int, delay: int) -> None:
    assert retry_delay(attempt) == delay


def test_retry_delay_counts_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        retry_delay(0)
