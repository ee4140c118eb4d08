"""Reply catalogues, Chinese and English. Every template fits the SMS budget (tested).

English templates stay inside the GSM-7 alphabet (no ×, no curly quotes) so an
English reply costs GSM-7 segments, not UCS-2 ones.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from core.messaging.texts import yuan as yuan  # replies say money as core notices do

LANGS = ("zh", "en")

CATALOG: dict[str, dict[str, str]] = {
    "zh": {
        "unknown": "未识别的指令,回复BZ查看帮助。",
        "balance": "您的积分:可用{available:,}分,冻结{held:,}分。{expiry}",
        "balance_expiry": "其中{points:,}分将于{date}到期。",
        "no_account": "您的号码暂无积分账户,积分每月按账单生成。回复BZ查看帮助。",
        "history_head": "积分明细第{page}页:",
        "history_line": "{date} {amount:+,} {reason}",
        "history_empty": "暂无积分明细。",
        "past_end": "没有第{page}页,共{pages}页。",
        "more_hint": "回复MORE看下一页",
        "nothing_more": "没有更多内容了。",
        "opted_out": "已退订营销短信,服务通知仍会发送。回复START恢复订阅。",
        "opted_in": "已恢复订阅营销短信。回复TD退订。",
        "lang_set": "已切换为中文回复。",
        "throttled": "您发送过于频繁,请一分钟后再试。",
        "error": "系统繁忙,请稍后再试。",
        "bad_sender": "无法识别您的号码,暂不能提供服务。",
        "usage_MX": "格式:MX 页码,例如MX 2",
        "usage_BZ": "回复BZ查看帮助。",
        "usage_JF": "查积分请直接回复JF。",
        "usage_TD": "退订请直接回复TD。",
        "usage_START": "恢复订阅请直接回复START。",
        "usage_EN": "切换英文请直接回复EN。",
        "usage_ZH": "切换中文请直接回复ZH。",
        "usage_MORE": "看下一页请直接回复MORE。",
        "insufficient": "积分不足:需要{needed:,}分,可用{available:,}分。",
        "reason_accrual": "{period}月度积分:消费{spend}元×{rate}+奖励{reward}",
        "reason_expire": "积分到期",
        "reason_other": "积分变动",
        "hd_head_ongoing": "进行中的活动({page}/{pages}):",
        "hd_head_upcoming": "即将开始的活动({page}/{pages}):",
        "hd_head_past": "往期活动({page}/{pages}):",
        "hd_head_all": "全部活动({page}/{pages}):",
        "hd_line_ongoing": "{code} {title} 至{end}",
        "hd_line_upcoming": "{code} {title} {start}开始",
        "hd_line_past": "{code} {title} 已结束",
        "hd_empty_ongoing": "暂无进行中的活动。回复HD Y看即将开始的活动。",
        "hd_empty_upcoming": "暂无即将开始的活动。",
        "hd_empty_past": "暂无往期活动。",
        "hd_empty_all": "暂无活动。",
        "sp_head": "商品({page}/{pages}):",
        "ss_head": "“{keyword}”({page}/{pages}):",
        "sp_line": "{code} {name} {points:,}分{stock}",
        "sp_stock": " 剩{left}",
        "sp_hint": "回复XQ编号看详情",
        "sp_empty": "暂无商品。回复SP查看全部商品。",
        "ss_empty": "没有找到“{keyword}”,回复SP查看全部商品。",
        "xq": "{code} {name}:{points:,}分{cash}{stock}。{merchant}{description}回复DH {code}兑换",
        "xq_cash": "+{yuan}元",
        "xq_stock": ",剩{left}件",
        "xq_merchant": "{merchant}提供。",
        "xq_rating": "评分{average}({count}条)。",
        "dh_pending": "订单{no}:{name}×{qty}共{points:,}分已冻结。5分钟内回复{code}确认兑换。",
        "paid_credit": "兑换成功!订单{no}:{name}将充值到本机号码。",
        "paid_physical": "兑换成功!订单{no}将寄往:{address}。回复DD {no}查物流。",
        "paid_voucher": "兑换成功!订单{no}的电子券已短信发送,{date}前有效。",
        "paid_checkout": "支付成功!共{points:,}分,订单:{nos}。回复DD查看订单。",
        "wrong_code": "确认码不正确,还可再试{left}次。",
        "code_expired": "确认码已过期,订单{no}已取消,积分已解冻。",
        "code_tries": "确认码错误次数过多,订单{no}已取消,积分已解冻。",
        "nothing_to_confirm": "没有待确认的兑换。回复SP查看商品。",
        "unknown_item": "没有编号为{code}的商品,回复SP查看商品。",
        "bad_qty": "数量须在1到{most}之间。",
        "out_of_stock": "{code}库存不足,剩余{left}件。",
        "activity_upcoming": "活动「{title}」尚未开始。",
        "activity_past": "活动「{title}」已结束。",
        "limit_day": "该商品每人每天限兑{limit}件,您今天已兑{taken}件,不能再兑{qty}件。",
        "limit_activity": "本活动每人限兑{limit}件,您已兑{taken}件,不能再兑{qty}件。",
        "need_address": "实物商品需要收货地址,请先回复:DZ 您的收货地址",
        "address_set": "收货地址已保存:{address}",
        "unknown_order": "没有找到您的订单{no}。回复DD查看订单。",
        "cannot_cancel": "订单{no}{status},不能取消。",
        "cancelled": "订单{no}已取消,冻结的积分已解冻。",
        "refunded": "订单{no}已退款,{points:,}积分已退回。",
        "illegal": "订单{no}{status},无法办理。",
        "dd_head": "我的订单({page}/{pages}):",
        "dd_line": "{no} {name} {status}",
        "dd_empty": "您还没有订单。回复SP查看商品。",
        "dd_detail": "订单{no}:{name}×{qty},{price},{status}。{logistics}",
        "dd_logistics": "{carrier}运单号{tracking}。",
        "resent": "订单{no}的新券码已短信发送,旧券码已作废。",
        "no_voucher": "订单{no}没有可重发的电子券。",
        "status_created": "待付款",
        "status_awaiting_otp": "待确认",
        "status_paid": "已支付",
        "status_shipped": "已发货",
        "status_delivered": "已完成",
        "status_voucher_issued": "券已发送",
        "status_verified": "券已使用",
        "status_cancelled": "已取消",
        "status_expired": "已超时",
        "status_refunded": "已退款",
        "usage_HD": "格式:HD看进行中活动,HD Y即将开始,HD G往期",
        "usage_SP": "格式:SP 分类 排序(XL销量/RQ人气/XP新品/JF积分) 页码",
        "usage_SS": "格式:SS 关键词,例如SS 话费",
        "usage_XQ": "格式:XQ 商品编号,例如XQ 1024",
        "usage_DH": "格式:DH 商品编号 数量,例如DH 1024 1",
        "usage_QR": "请直接回复6位确认码。",
        "usage_DD": "格式:DD查看订单,DD 订单号看详情",
        "usage_QX": "格式:QX 订单号",
        "usage_CF": "格式:CF 订单号",
        "usage_DZ": "格式:DZ 收货地址(5到200字)",
        "reason_redeem": "兑换{name}×{qty}",
        "reason_refund": "退回{name}×{qty}",
        "yz_ok": "核销成功:订单{no}「{name}」×{qty}有效,请为顾客提供服务。",
        "usage_YZ": "格式:YZ 订单号 8位券密码,例如YZ 261120123456 12345678",
        "not_staff": "本号码不是登记的商家核销员,不能核销电子券。",
        "voucher_unknown": "没有找到订单{no}的电子券,请核对订单号。",
        "voucher_not_yours": "订单{no}的电子券不属于本商家,不能核销。",
        "voucher_used": "订单{no}的电子券已使用过,不能重复核销。",
        "voucher_expired": "订单{no}的电子券已过期,不能核销。",
        "voucher_refunded": "订单{no}已退款,电子券已作废。",
        "voucher_locked": "订单{no}的电子券因密码错误次数过多已锁定,请联系运营解锁。",
        "voucher_wrong_password": "订单{no}的券密码不正确,还可再试{tries_left}次。",
        "merchant_not_approved": "商家尚未通过入驻审核。",
        "no_password": "您还没有设置积分密码,请回复MM设置。",
        "mm_sent": (
            "验证码已另发短信。请在5分钟内回复:MM 验证码 积分密码 二次密码"
            "(密码均为6位数字),例如MM 123456 135790 246801"
        ),
        "mm_capped": (
            "验证码获取过于频繁(每分钟1条、每小时5条、每天10条),请用最近收到的验证码或稍后再试。"
        ),
        "mm_same": "积分密码和二次密码不能相同,请重新回复MM 验证码 积分密码 二次密码。",
        "mm_set": "积分密码和二次密码已设置,可在联盟商家POS用积分支付。请勿告诉他人。",
        "mm_wrong": "验证码不正确,还可再试{left}次。",
        "mm_dead": "验证码错误次数过多已失效,请回复MM重新获取。",
        "mm_none": "没有有效的验证码,请回复MM获取。",
        "usage_MM": "回复MM获取验证码,再回复MM 验证码 积分密码 二次密码(均为6位数字)。",
        "not_owner": "只有商家店主号码可以管理核销员。",
        "yg_list": "{merchant}的核销号码:{phones}。回复YG 号码添加,YG DEL 号码删除。",
        "yg_added": "已添加{phone}为{merchant}的核销员。",
        "yg_removed": "已删除核销员{phone}。",
        "yg_not_found": "{phone}不是本商家的核销员。",
        "usage_YG": "格式:YG查看核销员,YG 号码添加,YG DEL 号码删除",
        "bad_phone": "号码格式不正确,请检查后重发。",
    },
    "en": {
        "unknown": "Sorry, we did not understand that. Reply BZ for help.",
        "balance": "Points: {available:,} available, {held:,} held.{expiry}",
        "balance_expiry": " {points:,} expire after {date}.",
        "no_account": (
            "This number has no points account yet; points are earned monthly from your bill. "
            "Reply BZ for help."
        ),
        "history_head": "Points history, page {page}:",
        "history_line": "{date} {amount:+,} {reason}",
        "history_empty": "No points history yet.",
        "past_end": "There is no page {page}; there are {pages} page(s).",
        "more_hint": "Reply MORE for the next page",
        "nothing_more": "Nothing more to show.",
        "opted_out": (
            "You will get no more marketing texts; service messages still arrive. "
            "Reply START to resume."
        ),
        "opted_in": "Marketing texts resumed. Reply TD to stop.",
        "lang_set": "Replies will now be in English.",
        "throttled": "Too many messages. Please wait a minute and try again.",
        "error": "Sorry, something went wrong. Please try again later.",
        "bad_sender": "Sorry, we cannot serve this number.",
        "usage_MX": "Usage: MX [page], e.g. MX 2",
        "usage_BZ": "Reply BZ for help.",
        "usage_JF": "For your balance just reply JF.",
        "usage_TD": "To stop marketing texts just reply TD.",
        "usage_START": "To resume just reply START.",
        "usage_EN": "For English replies just reply EN.",
        "usage_ZH": "For Chinese replies just reply ZH.",
        "usage_MORE": "For the next page just reply MORE.",
        "insufficient": "Not enough points: {needed:,} needed, {available:,} available.",
        "reason_accrual": "{period} monthly points: spend {spend} yuan x{rate} + reward {reward}",
        "reason_expire": "points expired",
        "reason_other": "points change",
        "hd_head_ongoing": "Activities now ({page}/{pages}):",
        "hd_head_upcoming": "Coming soon ({page}/{pages}):",
        "hd_head_past": "Past activities ({page}/{pages}):",
        "hd_head_all": "All activities ({page}/{pages}):",
        "hd_line_ongoing": "{code} {title} until {end}",
        "hd_line_upcoming": "{code} {title} from {start}",
        "hd_line_past": "{code} {title} (ended)",
        "hd_empty_ongoing": "No activities right now. Reply HD Y for coming ones.",
        "hd_empty_upcoming": "No activities coming soon.",
        "hd_empty_past": "No past activities.",
        "hd_empty_all": "No activities yet.",
        "sp_head": "Goods ({page}/{pages}):",
        "ss_head": "'{keyword}' ({page}/{pages}):",
        "sp_line": "{code} {name} {points:,} pts{stock}",
        "sp_stock": ", {left} left",
        "sp_hint": "Reply XQ code for details",
        "sp_empty": "No goods here. Reply SP for all goods.",
        "ss_empty": "Nothing found for '{keyword}'. Reply SP for all goods.",
        "xq": (
            "{code} {name}: {points:,} points{cash}{stock}. {merchant}{description}"
            "Reply DH {code} to redeem."
        ),
        "xq_cash": " + {yuan} yuan",
        "xq_stock": ", {left} left",
        "xq_merchant": "From {merchant}. ",
        "xq_rating": "Rated {average}/5 ({count}). ",
        "dh_pending": (
            "Order {no}: {name} x{qty} for {points:,} points, now held. "
            "Reply {code} within 5 minutes to confirm."
        ),
        "paid_credit": "Done! Order {no}: {name} will be credited to this number.",
        "paid_physical": "Done! Order {no} ships to: {address}. Reply DD {no} to track it.",
        "paid_voucher": "Done! The voucher of order {no} is on its way by SMS, valid until {date}.",
        "paid_checkout": "Paid, {points:,} points in all. Orders: {nos}. Reply DD for your orders.",
        "wrong_code": "Wrong code; {left} tries left.",
        "code_expired": "The code expired; order {no} is cancelled and your points released.",
        "code_tries": "Too many wrong codes; order {no} is cancelled and your points released.",
        "nothing_to_confirm": "Nothing is waiting for a code. Reply SP to see goods.",
        "unknown_item": "There is no item {code}. Reply SP to see goods.",
        "bad_qty": "The quantity must be between 1 and {most}.",
        "out_of_stock": "Not enough {code} left: {left} in stock.",
        "activity_upcoming": "The activity '{title}' has not started yet.",
        "activity_past": "The activity '{title}' has ended.",
        "limit_day": (
            "At most {limit} of this item a day each; you have {taken} today, so not {qty} more."
        ),
        "limit_activity": "This activity allows {limit} each; you have {taken}, so not {qty} more.",
        "need_address": "Goods need a delivery address: reply DZ followed by your address first.",
        "address_set": "Delivery address saved: {address}",
        "unknown_order": "We cannot find your order {no}. Reply DD for your orders.",
        "cannot_cancel": "Order {no} is {status} and cannot be cancelled.",
        "cancelled": "Order {no} is cancelled and the held points are released.",
        "refunded": "Order {no} is refunded: {points:,} points are back.",
        "illegal": "Order {no} is {status}; that cannot be done now.",
        "dd_head": "My orders ({page}/{pages}):",
        "dd_line": "{no} {name} {status}",
        "dd_empty": "You have no orders yet. Reply SP to see goods.",
        "dd_detail": "Order {no}: {name} x{qty}, {price}, {status}. {logistics}",
        "dd_logistics": "{carrier} tracking {tracking}.",
        "resent": "A new voucher password for order {no} is on its way; the old one is void.",
        "no_voucher": "Order {no} has no voucher to resend.",
        "status_created": "awaiting payment",
        "status_awaiting_otp": "awaiting your code",
        "status_paid": "paid",
        "status_shipped": "shipped",
        "status_delivered": "delivered",
        "status_voucher_issued": "voucher sent",
        "status_verified": "voucher used",
        "status_cancelled": "cancelled",
        "status_expired": "expired",
        "status_refunded": "refunded",
        "usage_HD": "Usage: HD (now), HD Y (coming), HD G (past), HD A (all)",
        "usage_SP": "Usage: SP [category] [XL sales|RQ views|XP new|JF points] [page]",
        "usage_SS": "Usage: SS keyword, e.g. SS credit",
        "usage_XQ": "Usage: XQ item code, e.g. XQ 1024",
        "usage_DH": "Usage: DH item code [quantity], e.g. DH 1024 1",
        "usage_QR": "Just reply with the 6-digit code.",
        "usage_DD": "Usage: DD for your orders, DD order number for one",
        "usage_QX": "Usage: QX order number",
        "usage_CF": "Usage: CF order number",
        "usage_DZ": "Usage: DZ your delivery address (5 to 200 characters)",
        "reason_redeem": "redeemed {name} x{qty}",
        "reason_refund": "refund {name} x{qty}",
        "yz_ok": "Valid: order {no}, {name} x{qty}, is verified. Please serve the customer.",
        "usage_YZ": "Usage: YZ order number 8-digit password, e.g. YZ 261120123456 12345678",
        "not_staff": "This number is not registered merchant staff and cannot verify vouchers.",
        "voucher_unknown": "No voucher found for order {no}. Please check the order number.",
        "voucher_not_yours": "The voucher of order {no} belongs to another merchant: not verified.",
        "voucher_used": "The voucher of order {no} has already been used.",
        "voucher_expired": "The voucher of order {no} has expired.",
        "voucher_refunded": "Order {no} was refunded; its voucher is void.",
        "voucher_locked": (
            "The voucher of order {no} is locked after too many wrong passwords; "
            "ask the operator to unlock it."
        ),
        "voucher_wrong_password": "Wrong password for order {no}; {tries_left} tries left.",
        "merchant_not_approved": "The merchant has not been approved yet.",
        "no_password": "You have not set a points password yet. Reply MM to set one.",
        "mm_sent": (
            "A code is on its way by SMS. Within 5 minutes reply MM code points-password "
            "second-password (6 digits each), e.g. MM 123456 135790 246801"
        ),
        "mm_capped": (
            "Codes go out at most 1 a minute, 5 an hour and 10 a day: use the last one you "
            "got, or try later."
        ),
        "mm_same": "The two passwords must differ. Reply MM code points-password second-password.",
        "mm_set": (
            "Your points password and second password are set: pay with points at merchant "
            "tills. Never tell anyone."
        ),
        "mm_wrong": "Wrong code; {left} tries left.",
        "mm_dead": "Too many wrong codes; that code is void. Reply MM for a new one.",
        "mm_none": "No valid code. Reply MM to get one.",
        "usage_MM": (
            "Reply MM for a code, then MM code points-password second-password (6 digits each)."
        ),
        "not_owner": "Only a merchant owner's phone can manage verifiers.",
        "yg_list": (
            "Verifier phones of {merchant}: {phones}. Reply YG number to add, YG DEL number to "
            "remove."
        ),
        "yg_added": "{phone} can now verify vouchers of {merchant}.",
        "yg_removed": "{phone} no longer verifies vouchers.",
        "yg_not_found": "{phone} is not a verifier of this merchant.",
        "usage_YG": "Usage: YG to list verifiers, YG number to add, YG DEL number to remove",
        "bad_phone": "That phone number is not valid. Please check it and send again.",
    },
}


# ------------------------------------------------------------ chat mall buying side (§2.2.10–20)

CATALOG["zh"].update(
    {
        "empty_cart": "购物车是空的。",
        "unknown_address": "找不到该地址,请重新选择。",
        "bad_address": "地址需5到200个字,请重新输入。",
        "too_many_addresses": "最多保存{most}个地址,请先删除一个。",
        "not_reviewable": "订单{no}{status},收货或核销后才能评价。",
        "already_reviewed": "订单{no}已评价过。",
        "bad_score": "评分为1到5分。",
        "unknown_message": "找不到留言#{message_id}。",
        "bad_message": "留言需1到{most}个字。",
        "ly_saved": "留言已收到(#{id}),客服会尽快回复您。",
        "usage_LY": "用法:LY 留言内容",
    }
)
CATALOG["en"].update(
    {
        "empty_cart": "Your cart is empty.",
        "unknown_address": "That address is not there any more; choose again.",
        "bad_address": "An address is 5 to 200 characters; type it again.",
        "too_many_addresses": "At most {most} addresses: delete one first.",
        "not_reviewable": "Order {no} is {status}: review it once received or used.",
        "already_reviewed": "Order {no} was reviewed already.",
        "bad_score": "A score is 1 to 5.",
        "unknown_message": "No message #{message_id}.",
        "bad_message": "A message is 1 to {most} characters.",
        "ly_saved": "Message received (#{id}); our staff will reply soon.",
        "usage_LY": "Usage: LY your message",
    }
)


# Discoverable on a feature phone (issue 14 item 4): BZ a page at a time, FL, GG, WDLY.
CATALOG["zh"].update(
    {
        "help_head": "积分营业厅指令({page}/{pages}):",
        "help_lines": (
            "JF 查积分\n"
            "MX 积分明细\n"
            "HD 活动 HD Y预告\n"
            "FL 商品分类\n"
            "SP 分类码 商品\n"
            "SS 关键词 搜索\n"
            "XQ 编号 商品详情\n"
            "DH 编号 兑换\n"
            "QR 确认码 确认兑换\n"
            "XJ 积分+现金付款\n"
            "QK 现金 HF 话费\n"
            "WY 网银,加在DH后\n"
            "DD 我的订单\n"
            "QX 订单号 取消\n"
            "CF 订单号 重发券码\n"
            "DZ 地址 收货地址\n"
            "GG 商城公告\n"
            "LY 内容 留言\n"
            "WDLY 我的留言\n"
            "MM 设置积分密码\n"
            "YZ 单号 密码 核销\n"
            "YG 号码 加核销员(商家)\n"
            "TD 退订 START 订阅\n"
            "EN English\n"
            "MORE 下一页"
        ),
        "usage_FL": "格式:FL 页码,例如FL 2",
        "fl_head": "商品分类({page}/{pages}):",
        "fl_line": "{code} {name}",
        "fl_hint": "回复SP 分类码看商品",
        "fl_empty": "暂无商品分类。",
        "usage_GG": "格式:GG看公告列表,GG 编号看全文",
        "gg_head": "商城公告({page}/{pages}):",
        "gg_line": "{id} {title}",
        "gg_hint": "回复GG 编号看全文",
        "gg_empty": "暂无公告。",
        "gg_one": "{title}({date}):{body}",
        "gg_unknown": "没有编号为{id}的公告,回复GG看公告列表。",
        "usage_WDLY": "格式:WDLY 页码,例如WDLY 2",
        "my_head": "我的留言({page}/{pages}):",
        "my_line": "#{id} {date} {text}",
        "my_reply": " 回复:{text}",
        "my_waiting": " (待回复)",
        "my_empty": "您还没有留言。回复LY 内容给客服留言。",
    }
)
CATALOG["en"].update(
    {
        "help_head": "Points hall commands ({page}/{pages}):",
        "help_lines": (
            "JF points balance\n"
            "MX points history\n"
            "HD activities (HD Y: coming)\n"
            "FL categories\n"
            "SP items (SP category)\n"
            "SS word: search items\n"
            "XQ code: item detail\n"
            "DH code: redeem\n"
            "QR code, or the code: confirm\n"
            "DH code 1 XJ: pay pts+cash\n"
            "QK cash, HF phone bill, WY bank\n"
            "DD my orders\n"
            "QX order: cancel\n"
            "CF order: resend voucher\n"
            "DZ address: delivery address\n"
            "GG announcements\n"
            "LY text: message us\n"
            "WDLY my messages, replies\n"
            "MM set points passwords\n"
            "YZ order pwd: verify (shops)\n"
            "YG number: add verifier (shops)\n"
            "TD stop ads, START resume\n"
            "ZH Chinese replies, EN English\n"
            "MORE next page"
        ),
        "usage_FL": "Usage: FL [page], e.g. FL 2",
        "fl_head": "Categories ({page}/{pages}):",
        "fl_line": "{code} {name}",
        "fl_hint": "Reply SP and a category code for its items",
        "fl_empty": "There are no categories yet.",
        "usage_GG": "Usage: GG for the list, GG number to read one",
        "gg_head": "Announcements ({page}/{pages}):",
        "gg_line": "{id} {title}",
        "gg_hint": "Reply GG and a number to read it",
        "gg_empty": "There are no announcements.",
        "gg_one": "{title} ({date}): {body}",
        "gg_unknown": "There is no announcement {id}. Reply GG for the list.",
        "usage_WDLY": "Usage: WDLY [page], e.g. WDLY 2",
        "my_head": "My messages ({page}/{pages}):",
        "my_line": "#{id} {date} {text}",
        "my_reply": " Reply: {text}",
        "my_waiting": " (waiting)",
        "my_empty": "You have left no messages. Reply LY and your text to write to us.",
    }
)

# Replies to refusals that reach a channel rarely (the admin side, POS, settlement):
# every DomainError reason code has its text (tests/unit/test_error_replies.py).
CATALOG["zh"].update(
    {
        "adjustment_not_pending": "调整单{adjustment_id}已处理,不能再审批。",
        "application_not_pending": "入驻申请{application_id}当前状态不允许此操作。",
        "bad_file": "文件无法导入,请检查表头和内容。",
        "bad_period": "月份格式应为YYYY-MM,例如2026-11。",
        "bad_question": "问题需要{least}到{most}个字。",
        "bad_rate": "结算费率无效。",
        "cannot_cancel_money": "订单{no}以现金支付,请联系客服办理退款。",
        "cannot_cancel_voucher": "订单{no}的电子券已使用或已锁定,不能取消。",
        "duplicate_request": "该请求已处理过。",
        "gateway_refused": "支付渠道拒绝了本次支付,请稍后再试或换一种方式。",
        "gateway_unavailable": "支付渠道暂不可用,请稍后再试。",
        "illegal_statement_move": "结算单{statement_id}当前状态不允许此操作。",
        "invalid": "输入有误,请检查后重试。",
        "not_a_picture": "图片须为PNG或JPEG格式。",
        "payment_error": "支付未完成,请稍后再试。",
        "period_not_over": "{period}尚未结束,不能结算。",
        "pos_bad_amount": "支付积分数无效。",
        "pos_password_locked": (
            "该终端积分密码错误次数过多,已暂停收取您的积分,稍后再试或回复MM重设密码。"
        ),
        "pos_wrong_points_password": "积分密码不正确。",
        "pos_wrong_second_password": "二次密码不正确。",
        "question_error": "问题无法提交。",
        "reason_required": "提出异议需要说明原因。",
        "same_staff": "提出调整单{adjustment_id}的人不能自己审批。",
        "settlement_error": "结算操作未完成。",
        "unknown_application": "没有编号为{application_id}的入驻申请。",
        "unknown_question": "没有编号为{question_id}的问题。",
        "unknown_role": "没有这个角色。",
        "unknown_statement": "没有编号为{statement_id}的结算单。",
        "unknown_subscriber": "号码{msisdn}尚未开通积分服务。",
        "voucher_not_locked": "订单{no}的电子券未被锁定。",
        "voucher_refused": "订单{no}的电子券不能核销。",
        "not_found": "找不到{key}。",
        "already_exists": "{key}已存在。",
        "item_code_taken": "商品编号{code}已被占用。",
        "unknown_merchant": "没有编号为{code}的商户。",
        "not_staff_of": "号码{actor}不是商户{code}的员工。",
        "not_merchant_owner": "只有商户店主可以确认或对结算单提出异议。",
        "unknown_staff": "没有这个运营人员。",
        "staff_disabled": "该运营人员已停用或尚待审批。",
        "not_permitted": "该运营人员的角色无权执行此操作。",
        "not_independent": "审批人须独立于提出人。",
        "same_person": "提出人不能自己审批。",
        "joined_after": "审批人在提出之后才获得权限,不能审批。",
        "appointed_by_proposer": "审批人由提出人任命,不能审批。",
        "self_change": "运营人员不能修改自己的账号。",
        "staff_change_not_pending": "人员变更{change_id}已处理。",
        "named_admin_needed": "已有管理员,请注明操作的管理员。",
    }
)
CATALOG["en"].update(
    {
        "adjustment_not_pending": "Adjustment {adjustment_id} was already decided.",
        "application_not_pending": (
            "Merchant application {application_id} cannot take that step now."
        ),
        "bad_file": "The file cannot be imported; check its header and rows.",
        "bad_period": "A month is written YYYY-MM, e.g. 2026-11.",
        "bad_question": "A question needs {least} to {most} characters.",
        "bad_rate": "That settlement rate is not valid.",
        "cannot_cancel_money": "Order {no} was paid with money; call us to have it refunded.",
        "cannot_cancel_voucher": (
            "The voucher of order {no} is used or locked, so the order cannot be cancelled."
        ),
        "duplicate_request": "That request was already handled.",
        "gateway_refused": (
            "The payment provider refused this payment; try later or pay another way."
        ),
        "gateway_unavailable": "Payment is not available right now; please try again later.",
        "illegal_statement_move": "Statement {statement_id} cannot take that step now.",
        "invalid": "That input is not valid; check it and try again.",
        "not_a_picture": "A picture must be a PNG or JPEG file.",
        "payment_error": "The payment did not go through; please try again later.",
        "period_not_over": "{period} is not over yet, so it cannot be settled.",
        "pos_bad_amount": "That number of points is not valid.",
        "pos_password_locked": (
            "Too many wrong passwords at this terminal: it is paused for a while. Reply MM to "
            "set new passwords."
        ),
        "pos_wrong_points_password": "Wrong points password.",
        "pos_wrong_second_password": "Wrong second password.",
        "question_error": "That question cannot be taken.",
        "reason_required": "A dispute needs a reason.",
        "same_staff": "Whoever proposed adjustment {adjustment_id} cannot approve it.",
        "settlement_error": "That settlement step could not be done.",
        "unknown_application": "There is no merchant application {application_id}.",
        "unknown_question": "There is no question {question_id}.",
        "unknown_role": "There is no such role.",
        "unknown_statement": "There is no statement {statement_id}.",
        "unknown_subscriber": "{msisdn} is not a points subscriber yet.",
        "voucher_not_locked": "The voucher of order {no} is not locked.",
        "voucher_refused": "The voucher of order {no} cannot be verified.",
        "not_found": "{key} was not found.",
        "already_exists": "{key} already exists.",
        "item_code_taken": "Item code {code} is taken.",
        "unknown_merchant": "There is no merchant {code}.",
        "not_staff_of": "{actor} is not staff of merchant {code}.",
        "not_merchant_owner": "Only a merchant's owner may confirm or dispute its statement.",
        "unknown_staff": "There is no such staff member.",
        "staff_disabled": "That staff member is disabled or not yet approved.",
        "not_permitted": "That staff member's role may not do this.",
        "not_independent": "The approver must be independent of whoever proposed it.",
        "same_person": "Whoever proposed it cannot approve it.",
        "joined_after": "The approver got their role after it was proposed.",
        "appointed_by_proposer": "The approver was appointed by whoever proposed it.",
        "self_change": "Staff cannot change their own record.",
        "staff_change_not_pending": "Staff change {change_id} was already decided.",
        "named_admin_needed": "Admins exist: name the admin making this change.",
    }
)


def t(lang: str, key: str, /, **args: Any) -> str:
    catalog = CATALOG.get(lang, CATALOG["zh"])
    return catalog[key].format(**args)


@lru_cache(maxsize=4096)
def local_date(epoch_seconds: int, tz: ZoneInfo) -> str:
    """``YYYY-MM-DD`` of the instant in ``tz``; cached (a JF names one of a few expiry
    instants: the ends of periods)."""
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%Y-%m-%d")


def short_date(epoch_seconds: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz).strftime("%m-%d")


# ------------------------------------------------------------ payments (§3.5.6)
CATALOG["zh"].update(
    {
        "dh_pay": "订单{no}:{name}×{qty},{price},{minutes}分钟内付款:{link}",
        "dh_pay_apart": "订单{no}:{name}×{qty},{price},{minutes}分钟内付款,付款链接另发短信。",
        "price_points": "{points:,}分",
        "price_points_cash": "{points:,}分+¥{yuan}",
        "price_money": "¥{yuan}({method})",
        "pm_points": "积分",
        "pm_points_cash": "积分+现金",
        "pm_cash": "现金",
        "pm_phone_bill": "话费代扣",
        "pm_online_bank": "网银",
        "method_not_offered": "{code}可用付款方式:{methods}。例:DH {code} 1 {word}",
    }
)
CATALOG["en"].update(
    {
        "dh_pay": "Order {no}: {name} x{qty}, {price}. Pay within {minutes} min: {link}",
        "dh_pay_apart": (
            "Order {no}: {name} x{qty}, {price}. Pay within {minutes} min;"
            " the pay link follows in its own SMS."
        ),
        "price_points": "{points:,} points",
        "price_points_cash": "{points:,} pts + ¥{yuan}",
        "price_money": "¥{yuan} ({method})",
        "pm_points": "points",
        "pm_points_cash": "points+cash",
        "pm_cash": "cash",
        "pm_phone_bill": "phone bill",
        "pm_online_bank": "online bank",
        "method_not_offered": "{code} can be paid by: {methods}. E.g. DH {code} 1 {word}",
    }
)

# ------------------------------------------------------------ phone credit delivered (issue 16 §2)
CATALOG["zh"].update(
    {
        "dd_topup": "话费{yuan}元:{state}。",
        "topup_requested": "充值中",
        "topup_unknown": "充值中",
        "topup_submitted": "充值中",
        "topup_stalled": "充值延迟,客服处理中",
        "topup_succeeded": "已到账",
        "topup_failed": "充值失败,已退款",
        "recharge_error": "话费充值未完成。",
        "recharge_unavailable": "充值渠道暂时没有应答,稍后会自动重试。",
        "recharge_refused": "充值渠道拒绝了本次充值。",
        "unknown_topup": "订单{no}没有话费充值。",
        "topup_finished": "订单{no}的话费充值已结束({status}),不能重试。",
    }
)
CATALOG["en"].update(
    {
        "dd_topup": "Phone credit {yuan} yuan: {state}.",
        "topup_requested": "crediting",
        "topup_unknown": "crediting",
        "topup_submitted": "crediting",
        "topup_stalled": "delayed, our staff are on it",
        "topup_succeeded": "credited",
        "topup_failed": "failed, refunded",
        "recharge_error": "The phone top-up could not be done.",
        "recharge_unavailable": "The recharge service is not answering; it will be tried again.",
        "recharge_refused": "The recharge service refused this top-up.",
        "unknown_topup": "Order {no} has no phone top-up.",
        "topup_finished": "The top-up of order {no} is over ({status}); nothing to retry.",
    }
)
