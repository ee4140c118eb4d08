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


# ---------------------------------------------------------------- the buying side (§2.2.10–20)

TEXTS["zh"].update(
    {
        "btn_cart": "🛒 购物车",
        "btn_orders": "📦 我的订单",
        "btn_messages": "✉️ 我的留言",
        "btn_addresses": "📍 收货地址",
        "btn_checkout": "✅ 去结算",
        "btn_continue": "🛍 继续购物",
        "btn_fav": "☆ 移入收藏",
        "btn_remove": "🗑 删除",
        "btn_note": "📝 添加备注",
        "btn_submit": "💳 提交订单",
        "btn_back": "◀ 返回",
        "btn_cancel_order": "❌ 取消订单",
        "btn_review": "⭐ 评价",
        "btn_leave": "✏️ 给客服留言",
        "btn_add_address": "➕ 新增地址",
        "btn_default": "设为默认",
        "added": "已加入购物车:{name}(共{qty}件)。",
        "cart_title": "购物车:",
        "cart_empty": "购物车是空的。",
        "cart_line": "{name} ×{qty} = {points:,}分",
        "cart_total": "合计:{points:,}分",
        "moved_fav": "已移入收藏:{name}。",
        "co_pick_address": "请选择收货地址:",
        "co_no_address": "实物商品需要收货地址,请先新增一个地址。",
        "co_summary": "确认订单:\n{lines}\n收货地址:{address}\n备注:{note}\n合计:{points:,}分",
        "co_none": "无",
        "co_submitted": "已下单,冻结{points:,}积分。支付验证码已通过短信发送至{number},"
        "请在{minutes}分钟内在此输入6位验证码完成支付。",
        "co_paid": "支付成功!订单号:{nos},共扣除{points:,}积分。电子券将以图片发送到这里。",
        "co_wrong": "验证码错误,还可以再试{left}次。",
        "co_dead": "验证码已失效,订单已取消,积分已退回冻结前状态。",
        "prompt_note": "请输入订单备注(200字以内):",
        "prompt_address": "请输入收货地址(含收件人、电话、详细地址):",
        "prompt_message": "请输入您要留给客服的话(500字以内):",
        "prompt_review": "请输入评价内容(发送“-”跳过):",
        "voucher_caption": "电子券:{item}\n订单号:{no}\n验证密码:{password}\n有效期至{date}。"
        "到店出示二维码或订单号和密码即可使用。",
        "orders_title": "我的订单:",
        "orders_empty": "还没有订单。",
        "order_line": "{no} {name}×{qty} {status}",
        "order_detail": "订单{no}\n{name}×{qty},{points:,}分\n状态:{status}",
        "order_address": "收货地址:{address}",
        "order_note": "备注:{note}",
        "order_logistics": "物流:{carrier} {tracking}",
        "order_event": "{at} {status} {note}",
        "order_cancelled": "订单{no}:{status}。",
        "reviews_title": "{name}:{count}条评价,平均{avg:.1f}分",
        "reviews_empty": "{name}:暂无评价。",
        "review_line": "{stars} {text}({who})",
        "review_pick": "订单{no}:请为{name}打分:",
        "review_saved": "感谢评价!",
        "messages_title": "我的留言:",
        "messages_empty": "还没有留言。",
        "message_line": "#{id} {text}",
        "message_reply": "  ↳ 客服:{text}",
        "message_saved": "留言已收到(#{id}),客服回复后会通知您。",
        "addresses_title": "收货地址:",
        "addresses_empty": "还没有收货地址。",
        "address_line": "{star}{text}",
        "address_saved": "地址已保存。",
        "address_removed": "地址已删除。",
    }
)
TEXTS["en"].update(
    {
        "btn_cart": "🛒 Cart",
        "btn_orders": "📦 My orders",
        "btn_messages": "✉️ My messages",
        "btn_addresses": "📍 Addresses",
        "btn_checkout": "✅ Check out",
        "btn_continue": "🛍 Continue shopping",
        "btn_fav": "☆ To favourites",
        "btn_remove": "🗑 Remove",
        "btn_note": "📝 Add a note",
        "btn_submit": "💳 Place order",
        "btn_back": "◀ Back",
        "btn_cancel_order": "❌ Cancel order",
        "btn_review": "⭐ Review",
        "btn_leave": "✏️ Leave a message",
        "btn_add_address": "➕ New address",
        "btn_default": "Make default",
        "added": "Added to your cart: {name} ({qty} in all).",
        "cart_title": "Your cart:",
        "cart_empty": "Your cart is empty.",
        "cart_line": "{name} ×{qty} = {points:,} pts",
        "cart_total": "Total: {points:,} pts",
        "moved_fav": "Moved to favourites: {name}.",
        "co_pick_address": "Choose the delivery address:",
        "co_no_address": "Goods need a delivery address: add one first.",
        "co_summary": "Confirm your order:\n{lines}\nDeliver to: {address}\nNote: {note}\n"
        "Total: {points:,} pts",
        "co_none": "none",
        "co_submitted": "Order placed, {points:,} points held. A payment code was sent by SMS to "
        "{number}: type the 6 digits here within {minutes} minutes to pay.",
        "co_paid": "Paid! Orders: {nos}; {points:,} points deducted. Vouchers arrive here as "
        "pictures.",
        "co_wrong": "Wrong code, {left} tries left.",
        "co_dead": "The code is no longer valid; the order was cancelled and the points released.",
        "prompt_note": "Type a note for the order (up to 200 characters):",
        "prompt_address": "Type the delivery address (name, phone, full address):",
        "prompt_message": "Type your message to our staff (up to 500 characters):",
        "prompt_review": "Type your review (send - to skip):",
        "voucher_caption": "Voucher: {item}\nOrder: {no}\nPassword: {password}\nValid until "
        "{date}. Show the QR code, or the order number and password, at the shop.",
        "orders_title": "My orders:",
        "orders_empty": "No orders yet.",
        "order_line": "{no} {name}×{qty} {status}",
        "order_detail": "Order {no}\n{name}×{qty}, {points:,} pts\nStatus: {status}",
        "order_address": "Deliver to: {address}",
        "order_note": "Note: {note}",
        "order_logistics": "Shipping: {carrier} {tracking}",
        "order_event": "{at} {status} {note}",
        "order_cancelled": "Order {no}: {status}.",
        "reviews_title": "{name}: {count} reviews, average {avg:.1f}",
        "reviews_empty": "{name}: no reviews yet.",
        "review_line": "{stars} {text} ({who})",
        "review_pick": "Order {no}: rate {name}:",
        "review_saved": "Thank you for your review!",
        "messages_title": "My messages:",
        "messages_empty": "No messages yet.",
        "message_line": "#{id} {text}",
        "message_reply": "  ↳ Staff: {text}",
        "message_saved": "Message received (#{id}); you will be told here when staff reply.",
        "addresses_title": "Delivery addresses:",
        "addresses_empty": "No delivery address yet.",
        "address_line": "{star}{text}",
        "address_saved": "Address saved.",
        "address_removed": "Address deleted.",
    }
)


def ct(lang: str, key: str, **args: Any) -> str:
    table = TEXTS.get(lang, TEXTS["en"])
    return table[key].format(**args)


def masked(msisdn: str) -> str:
    """``+8613800138000`` → ``+86138****8000``: enough to recognise, not to copy."""
    return msisdn[:-8] + "****" + msisdn[-4:] if len(msisdn) > 8 else msisdn
