"""What the chat says that no SMS says: logging in, the mall screens (zh/en)."""

from __future__ import annotations

from typing import Any

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "ask_contact": "欢迎来到积分商城!请点击下方按钮分享您的手机号,或直接输入手机号码登录。",
        "share_contact": "分享手机号",
        "code_sent": "验证码已通过短信发送到{number},请在5分钟内输入。",
        "code_wait": "验证码已发送到{number},请稍候一分钟再重新获取。",
        "bound": "登录成功,已绑定{number}。发送JF查积分,BZ看帮助,或点击下方菜单。",
        "code_wrong": "验证码错误,还可以再试{left}次。",
        "code_dead": "验证码错误次数过多,请重新发送手机号获取新验证码。",
        "code_none": "验证码已失效,请发送/start重新登录。",
        "login_first": "该功能需要登录,请发送/start并验证手机号。浏览商品可用HD、SP、SS、XQ。",
        "welcome_back": "欢迎回来,{number}!",
        "home": "积分商城首页:选择分类,或看看热销商品。",
        "home_best": "🔥 {name} {points:,}分",
        "goods_head": "{category}({page}/{pages}):",
        "goods_empty": "该分类暂无商品。",
        "goods_item": "{name} {points:,}分",
        "all_goods": "全部商品",
        "prev": "◀ 上一页",
        "next": "下一页 ▶",
        "back_home": "🏠 首页",
        "more": "更多 ▶",
        "stale": "该菜单已过期,请发送/start。",
    },
    "en": {
        "ask_contact": "Welcome to the points mall! Tap the button below to share your "
        "phone number, or type the number to log in.",
        "share_contact": "Share my phone number",
        "code_sent": "A code was sent by SMS to {number}. Type it here within 5 minutes.",
        "code_wait": "A code was sent to {number}. Wait a minute before asking for another.",
        "bound": "Logged in as {number}. Send JF for your points, BZ for help, or use the menu.",
        "code_wrong": "Wrong code, {left} tries left.",
        "code_dead": "Too many wrong codes. Send your number again for a new code.",
        "code_none": "That code is no longer valid. Send /start to log in again.",
        "login_first": "Please log in with /start first. You can browse without it: "
        "HD, SP, SS, XQ.",
        "welcome_back": "Welcome back, {number}!",
        "home": "Points mall: pick a category, or look at the best sellers.",
        "home_best": "🔥 {name} {points:,} pts",
        "goods_head": "{category} ({page}/{pages}):",
        "goods_empty": "Nothing on sale in this category.",
        "goods_item": "{name} {points:,} pts",
        "all_goods": "All goods",
        "prev": "◀ Prev",
        "next": "Next ▶",
        "back_home": "🏠 Home",
        "more": "More ▶",
        "stale": "This menu has expired, send /start.",
    },
}


def ct(lang: str, key: str, **args: Any) -> str:
    table = TEXTS.get(lang, TEXTS["en"])
    return table[key].format(**args)


def masked(msisdn: str) -> str:
    """``+8613800138000`` → ``+86138****8000``: enough to recognise, not to copy."""
    return msisdn[:-8] + "****" + msisdn[-4:] if len(msisdn) > 8 else msisdn
