"""The SMS command language, DESIGN §6: NFKC, case-insensitive, zh/en keywords, ``#`` or spaces.

Also the carrier's opt-out vocabulary (Twilio Advanced Opt-Out: STOP, STOPALL,
UNSUBSCRIBE, END, QUIT, CANCEL; START, UNSTOP to opt back in).
"""

from __future__ import annotations

import unicodedata
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers import keywords
from handlers.commands import (
    PRIORITY,
    Activities,
    Announcements,
    BadArguments,
    Balance,
    CancelOrder,
    Categories,
    Command,
    Confirm,
    Detail,
    Help,
    History,
    LeaveMessage,
    ListItems,
    More,
    MyMessages,
    OptIn,
    OptOut,
    Orders,
    Redeem,
    Resend,
    Search,
    SetAddress,
    SetLanguage,
    SetPasswords,
    Staff,
    Unknown,
    Verify,
)
from handlers.grammar import KEYWORDS, MAX_PAGE, normalize, parse, tokens
from handlers.i18n import CATALOG

COMMAND_CLASSES = (
    Help,
    Balance,
    History,
    OptOut,
    OptIn,
    SetLanguage,
    More,
    Unknown,
    BadArguments,
    Activities,
    ListItems,
    Search,
    Detail,
    Redeem,
    Confirm,
    Orders,
    CancelOrder,
    Resend,
    SetAddress,
    Verify,
    SetPasswords,
    Staff,
    LeaveMessage,
    Categories,
    Announcements,
    MyMessages,
)
NEEDS_ARGUMENTS = {"SS", "XQ", "DH", "QR", "QX", "CF", "DZ", "YZ", "MM", "LY"}
USAGES = {key.removeprefix("usage_") for key in CATALOG["zh"] if key.startswith("usage_")}


def test_command_classes_cover_the_union() -> None:
    assert set(COMMAND_CLASSES) == set(Command.__args__)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- keywords


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # BZ — help (DESIGN §6 row 1)
        ("BZ", Help()),
        ("bz", Help()),
        ("Help", Help()),
        ("帮助", Help()),
        ("?", Help()),
        ("？", Help()),
        ("INFO", Help()),
        # JF — balance (§1)
        ("JF", Balance()),
        ("jf", Balance()),
        ("Jf", Balance()),
        ("CXJF", Balance()),
        ("bal", Balance()),
        ("积分", Balance()),
        # MX — history (§1)
        ("MX", History(1)),
        ("mx", History(1)),
        ("MX 2", History(2)),
        ("MX#2", History(2)),
        ("MX # 2", History(2)),
        ("MX##2", History(2)),
        ("MX2", History(2)),
        ("mx10", History(10)),
        ("明细", History(1)),
        ("明细 2", History(2)),
        ("明细2", History(2)),
        ("明细#3", History(3)),
        ("HIST 4", History(4)),
        ("MX 1", History(1)),
        (f"MX {MAX_PAGE}", History(MAX_PAGE)),
        ("MX 007", History(7)),
        # TD / opt-out
        ("TD", OptOut()),
        ("td", OptOut()),
        ("退订", OptOut()),
        # languages, paging
        ("EN", SetLanguage("en")),
        ("english", SetLanguage("en")),
        ("ZH", SetLanguage("zh")),
        ("中文", SetLanguage("zh")),
        ("MORE", More()),
        ("more", More()),
        ("更多", More()),
        ("START", OptIn()),
        ("订阅", OptIn()),
    ],
)
def test_keywords(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＪＦ", Balance()),
        ("ｊｆ", Balance()),
        ("ｍｘ　２", History(2)),  # full-width letters, ideographic space, full-width digit
        ("ＭＸ＃２", History(2)),  # full-width #
        ("ＭＸ２", History(2)),
        ("明细　２", History(2)),
        ("明细＃２", History(2)),
        ("ＢＺ", Help()),
        ("ＳＴＯＰ", OptOut()),
        ("ｓｔａｒｔ", OptIn()),
        ("MX\u00a02", History(2)),  # no-break space
        ("MX\t2", History(2)),
        ("  JF  ", Balance()),
        ("\nJF\r\n", Balance()),
    ],
)
def test_full_width_and_whitespace_are_normalised(text: str, expected: Command) -> None:
    """DESIGN §6: full-width characters are normalised (NFKC)."""
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "cancel"]
)
def test_twilio_stop_words_opt_out(text: str) -> None:
    assert parse(text) == OptOut()


@pytest.mark.parametrize("text", ["START", "start", "UNSTOP", "unstop"])
def test_twilio_start_words_opt_in(text: str) -> None:
    assert parse(text) == OptIn()


@pytest.mark.parametrize("text", [*keywords.OPT_OUT, "revoke", "OptOut", "t", "退订 "])
def test_every_carrier_opt_out_word_opts_out(text: str) -> None:
    """Issue 14 item 1: REVOKE and OPTOUT (Twilio) and 回T退订, 0000 (Chinese operators)."""
    assert parse(text) == OptOut()


@pytest.mark.parametrize("text", [*keywords.OPT_IN, "yes"])
def test_every_carrier_opt_in_word_opts_in(text: str) -> None:
    assert parse(text) == OptIn()


@pytest.mark.parametrize("text", keywords.HELP)
def test_every_help_word_asks_for_help(text: str) -> None:
    assert parse(text) == Help()


@pytest.mark.parametrize("text", ["T123", "TEST", "00001234567", "YESTERDAY", "REVOKED"])
def test_short_carrier_words_do_not_swallow_other_texts(text: str) -> None:
    assert not isinstance(parse(text), OptOut | OptIn)


def test_the_readme_lists_every_carrier_word() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Opt-out, opt-in and help words", 1)[1].split("\n## ", 1)[0]
    for word in (*keywords.OPT_OUT, *keywords.OPT_IN, *keywords.HELP):
        assert f"`{word}`" in section, word


def test_cancel_with_an_argument_is_not_an_opt_out() -> None:
    """DESIGN §6: ``CANCEL order`` is the cancel command, never a STOP word."""
    assert parse("CANCEL 123") == BadArguments("QX")
    assert parse("CANCEL 261120123456") == CancelOrder("261120123456")
    assert parse("cancel 123") != OptOut()
    assert not isinstance(parse("CANCEL#123"), OptOut)


def test_info_with_an_argument_is_not_help() -> None:
    assert parse("INFO 1024") == Detail("1024")


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("JF 5", "JF"),
        ("积分 5", "JF"),
        ("JF5", "JF"),
        ("积分多少", "JF"),
        ("MX abc", "MX"),
        ("MX 0", "MX"),
        ("MX -1", "MX"),
        ("MX 1.5", "MX"),
        ("MX 2 3", "MX"),
        (f"MX {MAX_PAGE + 1}", "MX"),
        ("MX 999999999", "MX"),
        ("MX 9999999999", "MX"),
        ("MX 99999999999999999999", "MX"),
        ("MX ٣", "MX"),  # Arabic-Indic three: a digit, but not one we read
        ("MX2X", "MX"),
        ("明细 abc", "MX"),
        ("HIST x", "MX"),
        ("BZ x", "BZ"),
        ("HELP me", "BZ"),
        ("帮助一下", "BZ"),
        ("? x", "BZ"),
        ("TD 1", "TD"),
        ("STOP 1", "TD"),
        ("STOP2", "TD"),
        ("退订吧", "TD"),
        ("START now", "START"),
        ("EN 1", "EN"),
        ("ZH x", "ZH"),
        ("MORE 2", "MORE"),
    ],
)
def test_bad_arguments_name_the_canonical_keyword(text: str, keyword: str) -> None:
    assert parse(text) == BadArguments(keyword)


@pytest.mark.parametrize("text", ["", " ", "   ", "\t\n", "　", "#", " # # ", "＃"])
def test_empty_or_separators_only_is_unknown_empty(text: str) -> None:
    assert parse(text) == Unknown("")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", Unknown("hello")),
        ("  hello there ", Unknown("hello there")),
        ("JFX", Unknown("JFX")),  # glued only into digits for Latin keywords
        ("ENDX", Unknown("ENDX")),
        ("MXA", Unknown("MXA")),
        ("??", Unknown("??")),
        ("J F", Unknown("J F")),
        ("你好", Unknown("你好")),
        ("1024", Unknown("1024")),
    ],
)
def test_unknown_keeps_the_original_text(text: str, expected: Unknown) -> None:
    assert parse(text) == expected


def test_longer_keywords_win_over_prefixes() -> None:
    assert parse("STOPALL") == OptOut()
    assert parse("ENGLISH") == SetLanguage("en")
    assert parse("END") == OptOut()
    assert parse("ENGLISH2") == BadArguments("EN")


def test_priority_commands_are_reachable_in_both_languages() -> None:
    """DESIGN §6: BZ, TD and START always win; they must parse in zh and en."""
    assert set(PRIORITY) == {Help, OptOut, OptIn}
    for text in ("BZ", "帮助", "TD", "退订", "START", "订阅"):
        assert isinstance(parse(text), PRIORITY)


def test_every_keyword_is_already_normalised() -> None:
    """A key that NFKC+upper would change could never be looked up."""
    for keyword in KEYWORDS:
        assert normalize(keyword) == keyword
        assert tokens(keyword) == [keyword]


@pytest.mark.parametrize("keyword", sorted(KEYWORDS))
def test_every_keyword_alone_is_a_real_command(keyword: str) -> None:
    """A keyword on its own is its command, or its usage when it needs an argument."""
    result = parse(keyword)
    assert not isinstance(result, Unknown)
    if isinstance(result, BadArguments):
        assert result.keyword in NEEDS_ARGUMENTS
    assert parse(keyword.lower()) == result


def test_normalize() -> None:
    assert normalize("  ｍｘ　２ ") == "MX 2"
    assert normalize("ＭＸ＃２") == "MX#2"
    assert tokens("ｍｘ　＃２") == ["MX", "2"]


# ---------------------------------------------------------------- properties

NEVER_RAISES = settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _assert_is_command(result: object) -> None:
    assert isinstance(result, COMMAND_CLASSES)
    assert is_dataclass(result)
    if isinstance(result, History):
        assert 1 <= result.page <= MAX_PAGE
    if isinstance(result, BadArguments):
        assert result.keyword in USAGES
    if isinstance(result, SetLanguage):
        assert result.lang in ("zh", "en")
    for f in fields(result):
        if getattr(result, f.name) is None:
            assert f.default is None, f"{f.name} may not be empty"
    if isinstance(result, ListItems):
        assert result.sort in {"sales", "views", "newest", "points", "points_desc"}
        assert 1 <= result.page <= MAX_PAGE
    if isinstance(result, Confirm):
        assert len(result.code) == 6 and result.code.isdigit()


@NEVER_RAISES
@given(st.text(max_size=2000))
def test_parse_never_raises_on_any_text(text: str) -> None:
    _assert_is_command(parse(text))


_keyword = st.sampled_from(sorted(KEYWORDS))
_arg = st.one_of(
    st.integers(-10, 10**12).map(str),
    st.text(max_size=20),
    st.sampled_from(["0", "00", "1", "٣", "²", "①", "１", "", "#", "　", "\u200b", "\ufffd"]),
)
_sep = st.sampled_from([" ", "#", "　", "＃", "", "\t", " # "])


@st.composite
def keyword_texts(draw: st.DrawFn) -> str:
    keyword = draw(_keyword)
    if draw(st.booleans()):
        keyword = keyword.lower()
    parts = [keyword]
    for arg in draw(st.lists(_arg, max_size=4)):
        parts.append(draw(_sep))
        parts.append(arg)
    prefix = draw(st.sampled_from(["", " ", "\n", "　"]))
    return prefix + "".join(parts) + draw(st.sampled_from(["", " ", "\r\n"]))


@NEVER_RAISES
@given(keyword_texts())
def test_parse_never_raises_on_keyword_texts(text: str) -> None:
    _assert_is_command(parse(text))


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


_ascii_arg = st.one_of(
    st.integers(0, 20_000).map(str), st.text("ABCXYZ0123456789", min_size=1, max_size=6)
)


@settings(max_examples=400, deadline=None)
@given(_keyword, st.lists(_ascii_arg, max_size=3), st.sampled_from([" ", "#"]))
def test_case_and_width_do_not_change_a_known_command(
    keyword: str, args: list[str], sep: str
) -> None:
    """DESIGN §6: case-insensitive and full-width-insensitive, for every keyword."""
    text = sep.join([keyword, *args])
    result = parse(text)
    variants = [text.lower(), _full_width(text), _full_width(text.lower()), f"  {text}  "]
    for variant in variants:
        other = parse(variant)
        if isinstance(result, Unknown | SetAddress | LeaveMessage):
            # Unknown, an address and a message keep the sender's own text; only the type agrees.
            assert type(other) is type(result)
        else:
            assert other == result


@settings(max_examples=300, deadline=None)
@given(st.integers(1, MAX_PAGE), st.sampled_from(["MX", "明细", "HIST", "mx", "ｍｘ"]))
def test_history_page_forms_agree(page: int, keyword: str) -> None:
    for text in (f"{keyword} {page}", f"{keyword}#{page}", f"{keyword}{page}"):
        assert parse(text) == History(page)


def test_unicode_normalisation_is_nfkc() -> None:
    # ﬁ ligature folds to FI under NFKC; neither is a keyword, so this stays unknown.
    assert unicodedata.normalize("NFKC", "ﬁ") == "fi"
    assert parse("ﬁ") == Unknown("ﬁ")
    # The circled digit and superscript fold to ASCII digits under NFKC.
    assert parse("MX ②") == History(2)
    assert parse("MX²") == History(2)


# ---------------------------------------------------------------- YZ (§3.6.2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YZ 261120123456 12345678", Verify("261120123456", "12345678")),
        ("yz#261120123456#12345678", Verify("261120123456", "12345678")),
        ("验证 261120123456 12345678", Verify("261120123456", "12345678")),
        ("VERIFY 261120123456 12345678", Verify("261120123456", "12345678")),
        ("ＹＺ２６１１２０１２３４５６　１２３４５６７８", Verify("261120123456", "12345678")),
        ("261120123456 12345678", Verify("261120123456", "12345678")),
        (" 261120123456#12345678 ", Verify("261120123456", "12345678")),
        ("YZ 261120123456", BadArguments("YZ")),
        ("YZ 261120123456 1234567", BadArguments("YZ")),
        ("YZ", BadArguments("YZ")),
        ("261120123456 1234567", Unknown("261120123456 1234567")),
    ],
)
def test_verify(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MM", SetPasswords()),
        ("密码", SetPasswords()),
        ("mm 123456 135790 246801", SetPasswords("123456", "135790", "246801")),
        ("MM 123456 13579 246801", BadArguments("MM")),
        ("MM 123456", BadArguments("MM")),
    ],
)
def test_set_passwords(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YG", Staff()),
        ("员工", Staff()),
        ("YG 13700137009", Staff("add", "13700137009")),
        ("yg +8613700137009", Staff("add", "+8613700137009")),
        ("YG DEL 13700137009", Staff("remove", "13700137009")),
        ("员工 删除 13700137009", Staff("remove", "13700137009")),
        ("YG DEL", BadArguments("YG")),
        ("YG abc", BadArguments("YG")),
    ],
)
def test_staff(text: str, expected: Command) -> None:
    assert parse(text) == expected
