"""The demo catalogue: phone credit, gifts, two merchants' vouchers, activities, content.

Seeded through the same idempotent upserts an operator's import uses. Activity
dates are anchored to the first day of the current month (operator time), so
seeding again within the month changes nothing, and there is always one
ongoing, one upcoming and one past activity.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from core.catalogue import editing
from core.catalogue.editing import ItemSpec
from core.merchants import merchants
from core.platform.clock import epoch
from core.points import ledger
from core.subscribers import addresses, subscribers
from pointshall import demo_pictures

CATEGORIES = (
    # code, zh, en, sort
    ("1", "话费充值", "Phone credit", 1),
    ("2", "实物礼品", "Gifts", 2),
    ("3", "餐饮美食", "Food & drink", 3),
    ("4", "影音娱乐", "Movies & fun", 4),
)
BRANDS = (
    ("MI", "小米", "Xiaomi"),
    ("DELI", "得力", "Deli"),
)
MERCHANTS = (
    ("COFFEE", "星语咖啡", "StarTalk Coffee"),
    ("CINEMA", "光影影城", "Lumiere Cinemas"),
)
ONGOING, UPCOMING, PAST = "WINTER", "NEWYEAR", "AUTUMN"
ACTIVITY_LIMIT = 1

ITEMS = (
    ItemSpec(
        "1001",
        "话费10元",
        "Phone credit 10 yuan",
        "1",
        "credit",
        1_000,
        face_value_cents=1_000,
        description_zh="充值到本机号码,即时到账。",
        description_en="Credited to this number at once.",
    ),
    ItemSpec(
        "1002",
        "话费50元",
        "Phone credit 50 yuan",
        "1",
        "credit",
        4_800,
        face_value_cents=5_000,
        description_zh="充值到本机号码,即时到账。",
        description_en="Credited to this number at once.",
    ),
    ItemSpec(
        "1003",
        "话费100元",
        "Phone credit 100 yuan",
        "1",
        "credit",
        9_500,
        face_value_cents=10_000,
        description_zh="充值到本机号码,即时到账。",
        description_en="Credited to this number at once.",
    ),
    ItemSpec(
        "2001",
        "小米充电宝10000毫安",
        "Xiaomi power bank 10000mAh",
        "2",
        "physical",
        3_600,
        brand="MI",
        stock=20,
        description_zh="快递包邮,3个工作日内发货。",
        description_en="Free delivery, ships within 3 working days.",
    ),
    ItemSpec(
        "2002",
        "小米蓝牙音箱",
        "Xiaomi Bluetooth speaker",
        "2",
        "physical",
        2_800,
        brand="MI",
        stock=10,
    ),
    ItemSpec(
        "2003", "得力保温杯", "Deli vacuum flask", "2", "physical", 1_200, brand="DELI", stock=50
    ),
    ItemSpec(
        "2004",
        "冬日暖手宝",
        "Winter hand warmer",
        "2",
        "physical",
        600,
        stock=30,
        activity=ONGOING,
        description_zh="冬日暖心兑活动专享,每户限兑1个。",
        description_en="Winter warm-up offer, one per account.",
    ),
    ItemSpec(
        "3001",
        "星语咖啡中杯券",
        "StarTalk medium coffee voucher",
        "3",
        "voucher",
        180,
        merchant="COFFEE",
        voucher_days=30,
        description_zh="全国门店通用,出示订单号和密码兑换任意中杯饮品。",
        description_en="Any medium drink at any store: show the order number and password.",
    ),
    ItemSpec(
        "3002",
        "星语咖啡双人套餐券",
        "StarTalk coffee for two",
        "3",
        "voucher",
        420,
        merchant="COFFEE",
        voucher_days=30,
    ),
    ItemSpec(
        "3003",
        "星语咖啡美式小杯券",
        "StarTalk small americano",
        "3",
        "voucher",
        120,
        merchant="COFFEE",
        voucher_days=30,
    ),
    ItemSpec(
        "4001",
        "光影影城2D电影票",
        "Lumiere 2D movie ticket",
        "4",
        "voucher",
        900,
        merchant="CINEMA",
        stock=100,
        voucher_days=60,
        description_zh="任意2D场次,节假日通用。",
        description_en="Any 2D screening, holidays included.",
    ),
    ItemSpec(
        "4002",
        "光影影城爆米花套餐",
        "Lumiere popcorn combo",
        "4",
        "voucher",
        350,
        merchant="CINEMA",
        voucher_days=60,
    ),
    ItemSpec(  # §3.5.6: points + cash, or all money (DH 1004 1 XJ / QK / HF / WY)
        "1004",
        "话费100元",
        "Phone credit 100 yuan",
        "1",
        "credit",
        4_000,
        face_value_cents=10_000,
        cash_cents=5_000,
        price_cents=9_800,
        pay_methods="points_cash,cash,phone_bill,online_bank",
        description_zh="4000分+50元,或98元现金/话费/网银。DH 1004 1 XJ 积分+现金。",
        description_en="4,000 pts + 50 yuan, or 98 yuan. DH 1004 1 XJ for points+cash.",
    ),
)
ANNOUNCEMENTS = (
    (
        "积分商城上线",
        "Points mall is open",
        "回复SP浏览商品,XQ加编号看详情,DH加编号兑换。",
        "Reply SP to browse, XQ and a code for details, DH and a code to redeem.",
    ),
    (
        "积分到期提醒",
        "Points expire at year end",
        "2025年获得的积分将于今年12月31日到期,请及时兑换。",
        "Points earned in 2025 expire on 31 December this year; redeem them in time.",
    ),
)
AD = ("咖啡只要180分", "Coffee for 180 points", "item", "3001")
DEMO_ADDRESSES = (("+8613800138000", "北京市朝阳区建国路88号 张伟 13800138000"),)


def _month_start(now: datetime, tz: ZoneInfo, months: int) -> int:
    local = now.astimezone(tz)
    index = local.year * 12 + local.month - 1 + months
    return epoch(datetime(index // 12, index % 12 + 1, 1, tzinfo=tz))


def seed_catalog(conn: Connection, now: datetime, tz: ZoneInfo) -> None:
    """Create or refresh the demo catalogue; seeding again changes nothing."""
    at = epoch(now)
    for code, zh, en, sort in CATEGORIES:
        editing.upsert_category(conn, code, zh, en, sort)
    for code, zh, en in BRANDS:
        editing.upsert_brand(conn, code, zh, en)
    for code, zh, en in MERCHANTS:
        merchants.upsert(conn, code, zh, en, at)
    editing.upsert_activity(
        conn,
        ONGOING,
        "冬日暖心兑",
        "Winter warm-up",
        _month_start(now, tz, 0),
        _month_start(now, tz, 2),
        body_zh="暖手宝600分,每户限兑1个。",
        body_en="Hand warmer for 600 points, one each.",
        per_account_limit=ACTIVITY_LIMIT,
    )
    editing.upsert_activity(
        conn,
        UPCOMING,
        "新春积分节",
        "New Year points festival",
        _month_start(now, tz, 2),
        _month_start(now, tz, 3),
        body_zh="话费兑换9折。",
        body_en="Phone credit 10% off.",
    )
    editing.upsert_activity(
        conn,
        PAST,
        "金秋感恩回馈",
        "Autumn thank-you",
        _month_start(now, tz, -2),
        _month_start(now, tz, 0),
        body_zh="感谢参与!",
        body_en="Thank you for joining!",
    )
    for spec in ITEMS:
        editing.upsert_item(conn, spec, at)
    for title_zh, title_en, body_zh, body_en in ANNOUNCEMENTS:
        editing.add_announcement(conn, title_zh, title_en, body_zh, body_en, at)
    editing.add_banner(conn, ONGOING, image="banners/winter.png")
    editing.add_ad(conn, *AD)
    for msisdn, text in DEMO_ADDRESSES:
        found = subscribers.find(conn, msisdn)
        if found is None or ledger.account_id_of(conn, found.id) is None:
            continue
        if addresses.default_text(conn, found.id) is None:
            addresses.add_default(conn, found.id, text, at)
    demo_pictures.seed_pictures(conn, at)
