"""Decoding real-world-shaped mail: charsets, encoded headers, HTML, quoted history,
attachments and broken MIME (tests/mail/corpus/*.eml)."""

import pytest

from complaints.services.mail import (
    decode_bytes,
    decode_header_value,
    guess_demand,
    html_to_text,
    parse_message,
    tracking_numbers_in,
    trim_quoted,
)
from tests.mail.conftest import corpus


def test_gb2312_base64_subject_name_and_body():
    parsed = parse_message(corpus("01_gb2312_subject_body.eml"))
    assert parsed.subject == "洗衣机漏水，要求退款"
    assert parsed.from_name == "张三"
    assert parsed.from_address == "zhangsan@example.cn"
    assert "滚筒洗衣机（订单号 202611150033）使用第三天就开始漏水" in parsed.text
    assert parsed.message_id == "5f3a1c2e.1b2c.18c0a1b2c3d.Coremail.zhangsan@example.cn"


def test_gbk_bytes_labelled_gb2312_are_decoded_as_gbk():
    # 喆 and 昇 are not in GB2312: a strict gb2312 decoder would garble them.
    parsed = parse_message(corpus("02_gbk_labelled_gb2312.eml"))
    assert parsed.subject == "王喆的投诉：热水器不出热水"
    assert parsed.from_name == "王喆"
    assert "我是王喆，住在昇平路88号" in parsed.text
    assert "\ufffd" not in parsed.text


def test_gb18030_four_byte_characters_in_quoted_printable():
    parsed = parse_message(corpus("03_gb18030.eml"))
    assert parsed.subject == "电饭煲内胆涂层脱落"
    assert parsed.from_name == "刘䶮"
    assert "我在𠮷野家旁边的门店买的电饭煲" in parsed.text


def test_big5_body_and_q_encoded_subject():
    parsed = parse_message(corpus("04_big5.eml"))
    assert parsed.subject == "吹風機壞了，請換貨"
    assert parsed.from_name == "陳大文"
    assert "我上週購買的吹風機使用兩天後就壞了" in parsed.text


def test_utf8_base64_alternative_prefers_the_plain_text():
    parsed = parse_message(corpus("05_utf8_base64.eml"))
    assert parsed.subject == "Broken kettle 😡 – order #A1234"
    assert "stopped heating after a week" in parsed.text
    assert "HTML-ONLY-MARKER" not in parsed.text
    assert parsed.attachments == []


def test_quoted_printable_windows_1252_and_latin1_header():
    parsed = parse_message(corpus("06_quoted_printable.eml"))
    assert parsed.from_name == "François Müller"
    assert "charged €12.50 twice for order “B-7731” on 19 November – please refund" in parsed.text
    # Soft line breaks are joined.
    assert "the second payment as soon as possible" in parsed.text


def test_outlook_html_only_becomes_readable_text():
    parsed = parse_message(corpus("07_outlook_html_only.eml"))
    text = parsed.text
    assert text.splitlines()[0] == "Dear team,"
    assert "The sofa delivered on 18 November has a torn seam on the left arm." in text.splitlines()
    assert "Order 884213 <https://shop.example.com/orders/884213>" in text
    assert "see also https://shop.example.com/help." in text  # not repeated
    assert text.endswith("Best regards,\nHélène Dupont")
    for junk in (
        "MsoNormal",
        "font-family",
        "SCRIPT-MARKER",
        "o:p",
        "<",
        "&nbsp;",
        "shapedefaults",
    ):
        assert junk not in text.replace("<https://", "")


def test_forwarded_inline_keeps_the_forwarded_text():
    parsed = parse_message(corpus("08_forwarded.eml"))
    assert parsed.is_forward
    assert "您的快件 SF1234567890 已于 11月18日 15:58 签收" in parsed.text
    assert "SF1234567890" in parsed.reply_text  # a forward is never trimmed


def test_forwarded_as_attachment_is_shown_under_its_headers():
    parsed = parse_message(corpus("09_forward_as_attachment.eml"))
    assert parsed.text.startswith("Your courier says my order was returned")
    assert "Subject: Delivery exception for parcel 7731-2290" in parsed.text
    assert "damaged in transit and returned to the sender" in parsed.text
    assert parsed.attachments == []


def test_attachment_only_message_keeps_names_and_bytes():
    parsed = parse_message(corpus("10_attachment_only.eml"))
    assert parsed.text == ""
    names = [a.name for a in parsed.attachments]
    assert names == ["照片.png", "setup.exe"]
    assert parsed.attachments[0].content.startswith(b"\x89PNG\r\n\x1a\n")
    assert parsed.attachments[1].content.startswith(b"MZ")


def test_missing_closing_boundary_still_gives_text_and_attachment():
    parsed = parse_message(corpus("11_broken_missing_end_boundary.eml"))
    assert parsed.text == "The blender lid cracked on first use. I want a refund."
    assert [a.name for a in parsed.attachments] == ["receipt.pdf"]
    assert parsed.attachments[0].content.startswith(b"%PDF-1.4")
    assert "CloseBoundaryNotFoundDefect" in parsed.defects


def test_bad_base64_is_decoded_leniently():
    parsed = parse_message(corpus("12_broken_bad_base64.eml"))
    assert parsed.subject == "订单未发货"
    assert "我的订单一直没有发货，已经十天了" in parsed.text


def test_multipart_without_boundary_is_read_as_text():
    parsed = parse_message(corpus("13_broken_no_boundary.eml"))
    assert "arrived without the hinges" in parsed.text


def test_reply_history_is_trimmed_english_wrapped_wrote_line():
    parsed = parse_message(corpus("16_reply_in_reply_to.eml"))
    assert parsed.reply_text == (
        "Hi,\n\nHere is the photo of the broken handle you asked for.\n\nLi Na"
    )
    assert "We need your answer" in parsed.text  # the full text keeps it
    assert parsed.in_reply_to == ["176361000099.4712.2718281828@complaints.localhost"]
    assert len(parsed.references) == 2


def test_reply_history_is_trimmed_chinese_wrote_line():
    parsed = parse_message(corpus("17_reply_tracking_subject.eml"))
    assert parsed.reply_text == "收到，我明天上午在家，可以上门取件。"
    assert parsed.from_address == "li.na@example.cn"  # lower-cased for comparison


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Fine.\n\n-----Original Message-----\nFrom: x\nSent: y\n\nold", "Fine."),
        ("好的\n\n------------------ 原始邮件 ------------------\n发件人: a\n", "好的"),
        (
            "Thanks\n\n________________________________\nFrom: Shop <a@b.c>\nSent: Monday\nTo: me\nSubject: x\n\nold",
            "Thanks",
        ),
        ("OK\n\n发件人: 客服 <a@b.c>\n发送时间: 2026年11月20日 10:00\n主题: x\n\n旧内容", "OK"),
        ("好的\n\n张三 <a@b.c> 于2026年11月20日周五 10:15写道：\n> 旧", "好的"),
        ("> quoted first\n> more\n\nMy answer below the quote.", "My answer below the quote."),
        (
            "On Mon, 1 Jan 2026 at 10:00, Shop <a@b.c> wrote:\n> old\n\nBottom-posted answer.",
            "Bottom-posted answer.",
        ),
        ("No history at all.\nSecond line.", "No history at all.\nSecond line."),
    ],
)
def test_trim_quoted(text, expected):
    assert trim_quoted(text) == expected


def test_html_to_text_line_breaks_lists_and_entities():
    html = (
        "<div>Line one<br>Line two</div><div><br></div><ul><li>first</li><li>second</li></ul>"
        "<p>A &amp; B &lt;tag&gt;</p><style>p{color:red}</style><script>x()</script>"
        '<a href="javascript:alert(1)">click</a>'
    )
    assert html_to_text(html) == ("Line one\nLine two\n\n- first\n- second\nA & B <tag>\nclick")


def test_decode_bytes_guesses_when_the_label_is_wrong_or_missing():
    assert decode_bytes("中文".encode("gbk"), "utf-8") == "中文"
    assert decode_bytes("中文".encode("gbk"), None) == "中文"
    assert decode_bytes("Müller".encode(), "iso-8859-1") == "Müller"  # UTF-8 labelled Latin-1
    assert decode_bytes("Müller".encode("latin-1"), "iso-8859-1") == "Müller"
    assert decode_bytes(b"abc", "x-unknown-charset") == "abc"


def test_decode_header_value_raw_8bit_and_mixed_words():
    raw = "王喆".encode("gbk").decode("ascii", "surrogateescape")
    assert decode_header_value(raw) == "王喆"
    assert decode_header_value("Re: =?UTF-8?B?5Lit5paH?= =?UTF-8?B?5rWL6K+V?=") == "Re: 中文测试"
    assert decode_header_value("=?broken") == "=?broken"


def test_tracking_numbers_in_subjects():
    assert tracking_numbers_in("回复：[TS-20261120-7K4Q9] 我们已收到") == ["TS-20261120-7K4Q9"]
    assert tracking_numbers_in("投诉ts 20261120 7k4q9进展") == ["TS-20261120-7K4Q9"]
    assert tracking_numbers_in("order 20261120 nothing") == []


def test_guess_demand():
    assert guess_demand("洗衣机漏水，要求退款") == "refund"
    assert guess_demand("吹風機壞了，請換貨") == "replacement"
    assert guess_demand("I would like a replacement, not a refund") == "replacement"
    assert guess_demand("Hello") == "other"


def test_every_corpus_message_parses():
    from tests.mail.conftest import CORPUS

    for path in sorted(CORPUS.glob("*.eml")):
        parsed = parse_message(path.read_bytes())
        assert parsed.text or parsed.attachments, path.name
