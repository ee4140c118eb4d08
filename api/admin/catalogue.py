"""Catalogue (§2.2.2, §2.2.7): categories, brands, items, activities."""

from __future__ import annotations

from typing import Any

from api.admin.fields import body, code, flag, integer, text
from api.admin.registry import ADMIN, BUSINESS_ADMIN, EVERYONE, Call, Route
from core.catalogue import management as ca
from core.catalogue.editing import ItemSpec
from core.catalogue.listing import ActivityLine, ItemLine
from core.catalogue.management import Named

WRITE = frozenset({BUSINESS_ADMIN, ADMIN})
READ = EVERYONE
CODE = (code(),)
MAX_POINTS = 100_000_000
MAX_TIME = 2**40
NAMES = (text("name_zh", 64), text("name_en", 64))
CATEGORY = body(code(), *NAMES, integer("sort", -1000, 1000, required=False))
CATEGORY_UPDATE = body(*NAMES, integer("sort", -1000, 1000, required=False))
BRAND = body(code(), *NAMES)
BRAND_UPDATE = body(*NAMES)
ITEM_FIELDS = (
    *NAMES,
    code("category"),
    text("kind", 10, enum=("credit", "physical", "voucher")),
    integer("points", 1, MAX_POINTS),
    code("brand", required=False, nullable=True),
    code("merchant", required=False, nullable=True),
    code("activity", required=False, nullable=True),
    integer("cash_cents", 0, MAX_POINTS, required=False, nullable=True),
    integer("face_value_cents", 1, MAX_POINTS, required=False, nullable=True),
    integer("stock", 0, MAX_POINTS, required=False, nullable=True),
    integer("per_account_limit", 1, 1000, required=False, nullable=True),
    integer("voucher_days", 1, 3650, required=False),
    text("description_zh", 2000, min_length=0, required=False),
    text("description_en", 2000, min_length=0, required=False),
    flag("active", required=False),
    text(
        "pay_methods",
        64,
        pattern=r"^[a-z_]{1,16}(,[a-z_]{1,16}){0,4}$",
        required=False,
        nullable=True,
        description="comma-separated, of points, points_cash, cash, phone_bill, online_bank;"
        " default points (plus points_cash when cash_cents is set)",
    ),
    integer("price_cents", 1, MAX_POINTS, required=False, nullable=True),
)
ITEM = body(code(), *ITEM_FIELDS)
ITEM_UPDATE = body(*ITEM_FIELDS)
ACTIVITY_FIELDS = (
    text("title_zh", 64),
    text("title_en", 64),
    integer("starts_at", 0, MAX_TIME),
    integer("ends_at", 0, MAX_TIME),
    integer("per_account_limit", 1, 1000, required=False, nullable=True),
)
ACTIVITY = body(code(), *ACTIVITY_FIELDS)
ACTIVITY_UPDATE = body(*ACTIVITY_FIELDS)


def _code(call: Call) -> str:
    return str(call.path.get("code") or call.body["code"]).upper()


async def list_categories(call: Call) -> list[Named]:
    """List categories in display order."""
    return await call.read(ca.categories)


async def get_category(call: Call) -> Named:
    """Show one category."""
    return await call.read(ca.get_category, code=_code(call))


async def save_category(call: Call) -> Named:
    """Create (POST) or update (PUT) a category."""
    b = call.body
    value = Named(_code(call), b["name_zh"], b["name_en"], b.get("sort", 0))
    create = "code" not in call.path
    return await call.write(
        ca.save_category, value=value, create=create, by=call.staff.name, now=call.now
    )


async def list_brands(call: Call) -> list[Named]:
    """List brands."""
    return await call.read(ca.brands)


async def get_brand(call: Call) -> Named:
    """Show one brand."""
    return await call.read(ca.get_brand, code=_code(call))


async def save_brand(call: Call) -> Named:
    """Create (POST) or update (PUT) a brand."""
    value = Named(_code(call), call.body["name_zh"], call.body["name_en"])
    create = "code" not in call.path
    return await call.write(
        ca.save_brand, value=value, create=create, by=call.staff.name, now=call.now
    )


async def list_items(call: Call) -> list[ItemLine]:
    """List items, on sale or not, optionally of one category."""
    return await call.read(ca.items, category_code=call.query.get("category"))


async def get_item(call: Call) -> ItemLine:
    """Show one item."""
    return await call.read(ca.get_item, code=_code(call))


async def save_item(call: Call) -> ItemLine:
    """Create (POST) or update (PUT) an item; sales and views are kept."""
    b: dict[str, Any] = {k: v for k, v in call.body.items() if k != "code"}
    spec = ItemSpec(code=_code(call), **b)
    create = "code" not in call.path
    return await call.write(
        ca.save_item, spec=spec, create=create, by=call.staff.name, now=call.now
    )


async def deactivate_item(call: Call) -> ItemLine:
    """Take an item off sale (it stays for orders and statistics)."""
    return await call.write(ca.deactivate_item, code=_code(call), by=call.staff.name, now=call.now)


async def list_activities(call: Call) -> list[ActivityLine]:
    """List activities by start."""
    return await call.read(ca.activities)


async def get_activity(call: Call) -> ActivityLine:
    """Show one activity."""
    return await call.read(ca.get_activity, code=_code(call))


async def save_activity(call: Call) -> ActivityLine:
    """Create (POST) or update (PUT) an activity."""
    b = call.body
    value = ActivityLine(
        _code(call),
        b["title_zh"],
        b["title_en"],
        b["starts_at"],
        b["ends_at"],
        b.get("per_account_limit"),
    )
    create = "code" not in call.path
    return await call.write(
        ca.save_activity, value=value, create=create, by=call.staff.name, now=call.now
    )


TAG = "catalogue"
ROUTES = (
    Route("GET", "/categories", list_categories, READ, "list categories", TAG, list[Named]),
    Route(
        "POST",
        "/categories",
        save_category,
        WRITE,
        "create a category",
        TAG,
        Named,
        body=CATEGORY,
        status=201,
    ),
    Route("GET", "/categories/{code}", get_category, READ, "show a category", TAG, Named, CODE),
    Route(
        "PUT",
        "/categories/{code}",
        save_category,
        WRITE,
        "update a category",
        TAG,
        Named,
        CODE,
        body=CATEGORY_UPDATE,
    ),
    Route("GET", "/brands", list_brands, READ, "list brands", TAG, list[Named]),
    Route(
        "POST", "/brands", save_brand, WRITE, "create a brand", TAG, Named, body=BRAND, status=201
    ),
    Route("GET", "/brands/{code}", get_brand, READ, "show a brand", TAG, Named, CODE),
    Route(
        "PUT",
        "/brands/{code}",
        save_brand,
        WRITE,
        "update a brand",
        TAG,
        Named,
        CODE,
        body=BRAND_UPDATE,
    ),
    Route(
        "GET",
        "/items",
        list_items,
        READ,
        "list items",
        TAG,
        list[ItemLine],
        query=(code("category", required=False),),
    ),
    Route(
        "POST", "/items", save_item, WRITE, "create an item", TAG, ItemLine, body=ITEM, status=201
    ),
    Route("GET", "/items/{code}", get_item, READ, "show an item", TAG, ItemLine, CODE),
    Route(
        "PUT",
        "/items/{code}",
        save_item,
        WRITE,
        "update an item",
        TAG,
        ItemLine,
        CODE,
        body=ITEM_UPDATE,
    ),
    Route(
        "POST",
        "/items/{code}/deactivate",
        deactivate_item,
        WRITE,
        "take an item off sale",
        TAG,
        ItemLine,
        CODE,
    ),
    Route("GET", "/activities", list_activities, READ, "list activities", TAG, list[ActivityLine]),
    Route(
        "POST",
        "/activities",
        save_activity,
        WRITE,
        "create an activity",
        TAG,
        ActivityLine,
        body=ACTIVITY,
        status=201,
    ),
    Route(
        "GET", "/activities/{code}", get_activity, READ, "show an activity", TAG, ActivityLine, CODE
    ),
    Route(
        "PUT",
        "/activities/{code}",
        save_activity,
        WRITE,
        "update an activity",
        TAG,
        ActivityLine,
        CODE,
        body=ACTIVITY_UPDATE,
    ),
)
