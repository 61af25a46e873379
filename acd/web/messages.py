"""What a page shows for a refusal: the Chinese sentence for the English one the domain raised.

The domain raises refusals in English (acd/errors.py): the English is what the log keeps and
what the API's clients read in `{"error": "..."}`. Every error answer also carries
`"message"`, the same refusal in Chinese for a person, made here from the English by a table
of patterns: one place to translate, nothing changed in the code that raises, and a test
(tests/test_web_messages.py) that reads every `raise` of the engine and checks that each has
its Chinese sentence. The pages show `message` (acd/web/static/live.js), never `error`.

The patterns carry the variable parts (a field, a seat, an order number) into the Chinese;
codes in them are turned into their titles (a field's name, an order status, a busy reason).
A message no pattern knows is shown as a general sentence for its status, never in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hotline.center import DOMAINS, ORDER_STATUSES, ORDER_TYPES

# The fields of the forms and bodies, as a person names them.
FIELDS = {
    "uniqueid": "来电", "call_uniqueid": "来电", "type": "类别", "domain": "领域",
    "sub_item": "子项", "subject": "投诉对象", "content": "内容", "reply": "答复内容",
    "unit": "承办单位", "refusal": "不予受理理由", "region": "来源地区", "answered": "处理方式",
    "cross_region": "跨省（地市）", "caller_number": "来电号码", "caller_name": "来电人",
    "source": "来源", "reason": "理由", "days": "延期天数", "text": "内容", "note": "备注",
    "center": "中心", "status": "状态", "overdue": "逾期", "q": "搜索词", "title": "标题",
    "body": "正文", "valid_from": "生效日期", "valid_to": "失效日期", "for_ivr": "语音导航",
    "id": "编号", "format": "格式", "entries": "条目", "ref": "编号", "day": "日期",
    "date": "日期", "seat": "座席", "queue": "队列", "mode": "方式", "phone": "话机",
    "n": "抽取条数", "reached": "是否联系上", "satisfaction": "满意度", "page": "页码",
    "name": "用户名", "role": "角色", "password": "密码", "sheet": "评分表", "scores": "评分",
    "comment": "评语", "order": "工单号", "caller": "来电号码", "since": "开始日期",
    "until": "结束日期", "queues": "队列",
}
ACTIONS = {
    "answer_on_call": "即时答复", "refuse": "不予受理", "transfer": "转办", "return": "退回",
    "extend": "延期", "reply": "回复", "close": "办结", "archive": "归档", "reopen": "重新办理",
    "receive": "签收", "remind": "催办", "forward": "转其他中心", "escalate": "上报上级中心",
    "signin": "签入", "signout": "签出", "busy": "示忙", "ready": "就绪",
    "end-wrapup": "结束整理",
}
SEAT_STATES = {"signed_out": "签出", "ready": "就绪", "ringing": "振铃", "on_call": "通话",
               "wrapup": "整理", "busy": "示忙"}
ROLES = {"seat": "座席", "supervisor": "班长", "inspector": "质检员", "analyst": "分析员",
         "admin": "管理员", "unit": "承办单位", "revisit": "回访员", "partner": "合作系统"}
GENERIC = {400: "请求有误，请检查填写的内容", 401: "请先登录", 403: "无权进行此操作",
           404: "未找到", 409: "当前状态不允许此操作", 429: "操作过于频繁，请稍后再试",
           500: "服务器内部错误，请联系管理员", 502: "电话系统暂时无法连接，请稍后再试"}


def field(name: str) -> str:
    """`entries[2].title` -> 条目[2].标题; an unknown name stays as it is."""
    parts = re.split(r"(\[\d+\]\.?|\.)", name)
    return "".join(FIELDS.get(p, p) for p in parts)


def _title(table: dict[str, str]) -> Callable[[str], str]:
    return lambda code: table.get(code.strip("'\""), code)


def _codes(table: dict[str, str]) -> Callable[[str], str]:
    """"a, b, c" -> their titles, joined with 、"""
    return lambda text: "、".join(table.get(c.strip(), c.strip()) for c in text.split(","))


_q = _title({})  # a quoted value without its quotes
_status = _title(ORDER_STATUSES)
_action = _title(ACTIONS)
_state = _title(SEAT_STATES)
_role = _title(ROLES)

# (pattern, Chinese, how each named group is shown). First match wins: specific first.
Rule = tuple[str, str, dict[str, Callable[[str], str]]]
RULES: list[Rule] = [
    # --- sessions and the role check (acd/web/auth.py) ---
    (r"log in first", "请先登录", {}),
    (r"not for role (?P<r>\S+)", "当前角色（{r}）无权进行此操作", {"r": _role}),
    (r"missing or wrong CSRF token", "页面已过期，请刷新后重试", {}),
    (r"an Authorization: Bearer <token> header is required", "缺少访问令牌", {}),
    (r"unknown token", "访问令牌无效", {}),
    (r"wrong name or password", "用户名或密码错误", {}),
    (r"too many failed logins; wait a minute", "登录失败次数过多，请一分钟后再试", {}),
    # --- seats lent between centers (acd/seats/loans.py) ---
    (r"role (?P<r>\S+) may not lend seats", "当前角色（{r}）无权借调座席", {"r": _role}),
    (r"a (?P<r>\S+) of (?P<a>\S+) lends \S+ seats only, not (?P<b>\S+)'s",
     "{r}只能借调本中心（{a}）的座席，不能借调 {b} 的座席", {"r": _role}),
    (r"say until \(.*\) or hours, one of them", "请填写借调截止时间或借调时长（二者选一）", {}),
    (r"until: must be in the future", "借调截止时间须晚于当前时间", {}),
    (r"until: at most (?P<n>[\d.]+) hours from now", "借调最长 {n} 小时", {}),
    (r"until: .*", "借调截止时间格式应为“年-月-日T时:分”，如 2026-10-01T20:00", {}),
    (r"hours: must be a number above 0 and at most (?P<n>[\d.]+), got .*",
     "借调时长应为大于 0、不超过 {n} 的小时数", {}),
    (r"queues: must be a list of queue names", "队列应为队列名称的列表", {}),
    (r"queues: (?P<q>.+) is a queue of (?P<a>\S+), not of (?P<b>\S+) \(queues of .*\)",
     "队列 {q} 属于 {a}，不属于 {b}", {"q": _q}),
    (r"queues: (?P<q>.+) is no queue \(queues of .*\)", "没有队列 {q}", {"q": _q}),
    (r"to: the center to lend to is required", "请选择借往的中心", {}),
    (r"to: no center (?P<c>.+) in this deployment \(centers: .*\)", "本平台没有中心 {c}",
     {"c": _q}),
    (r"seats: must be a list of 1 to (?P<n>\d+) seat ids", "请填写 1 至 {n} 个座席号", {}),
    (r"no seat (?P<s>.+) in this deployment", "本平台没有座席 {s}", {"s": _q}),
    (r"seat (?P<s>\S+) is (?P<c>\S+)'s own: lend it to another center",
     "座席 {s} 本属 {c}，请借往其他中心", {}),
    (r"seat (?P<s>\S+) is already lent to (?P<c>\S+) \(loan (?P<n>\d+)\): return it first",
     "座席 {s} 已借调至 {c}（借调编号 {n}），请先归还", {}),
    (r"seat (?P<s>.+) is not lent", "座席 {s} 未被借调", {"s": _q}),
    # --- bodies and fields (acd/web/errors.py, acd/orders/fields.py) ---
    (r"the body is not JSON", "提交的数据格式有误", {}),
    (r"the body must be a JSON object.*", "提交的数据格式有误", {}),
    (r"unknown field\(s\): (?P<f>.+)", "无法识别的字段：{f}",
     {"f": lambda t: "、".join(field(x.strip(" '[]")) for x in t.split(","))}),
    (r"(?P<f>[\w.\[\]]+) is not a known field.*", "无法识别的字段：{f}", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): is not a known field.*", "无法识别的字段：{f}", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): is required for a cross-region order", "跨省（地市）工单须填写{f}",
     {"f": field}),
    (r"(?P<f>[\w.\[\]]+): is required(?: .*)?", "请填写{f}", {"f": field}),
    (r"(?P<f>[\w.\[\]]+) is required(?: .*)?", "请填写{f}", {"f": field}),
    (r"(?P<f>[\w.\[\]]+):? is too long \(at most (?P<n>\d+) characters\)",
     "{f}过长（最多 {n} 个字）", {"f": field}),
    (r"(?P<f>[\w.\[\]]+):? must be text.*", "{f}应为文字", {"f": field}),
    (r"(?P<f>[\w.\[\]]+):? must be true or false", "{f}应为“是”或“否”", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): must not hold control characters(?: or line breaks)?",
     "{f}含有不允许的控制字符或换行",
     {"f": field}),
    (r"(?P<f>[\w.\[\]]+): is not valid Unicode text", "{f}不是有效的文字", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): must be an integer from (?P<lo>-?\d+) to (?P<hi>-?\d+)",
     "{f}应为 {lo} 至 {hi} 的整数", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): must be a date, YYYY-MM-DD", "{f}应为日期（年-月-日）", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): (?P<v>.+) is not a day of the calendar", "{f}：{v} 不是有效日期",
     {"f": field, "v": _q}),
    (r"(?P<f>[\w.\[\]]+): (?P<v>.+) is not of the expected form", "{f}格式不正确：{v}",
     {"f": field, "v": _q}),
    (r"status: must be one of (?P<c>.+)", "状态应为：{c}", {"c": _codes(ORDER_STATUSES)}),
    (r"type must be one of (?P<c>.+)", "类别应为：{c}", {"c": _codes(ORDER_TYPES)}),
    (r"domain must be one of (?P<c>.+)", "领域应为：{c}", {"c": _codes(DOMAINS)}),
    (r"refusal(?: reason)? must be one of .*", "请选择第二十八条规定的不予受理理由", {}),
    (r"reason must be one of .*", "请选择本中心的示忙原因", {}),
    (r"(?P<f>[\w.\[\]]+): must be one of (?P<c>.+)", "{f}的取值不在允许范围内", {"f": field}),
    (r"(?P<f>[\w.\[\]]+) must be one of (?P<c>.+)", "{f}的取值不在允许范围内", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): must be a list of at most (?P<n>\d+) entries",
     "{f}应为列表，最多 {n} 条", {"f": field}),
    (r"(?P<f>[\w.\[\]]+): (?P<v>.+) comes twice", "{f}：{v} 重复出现", {"f": field, "v": _q}),
    (r"format: must be (?P<v>.+)", "格式应为 {v}", {"v": _q}),
    (r"overdue: must be 0 or 1", "逾期参数应为 0 或 1", {}),
    (r"q: is too long.*|the search is too long.*", "搜索词过长（最多 200 个字）", {}),
    (r"type some words to search for", "请输入搜索关键词", {}),
    # --- the seat console's order form (acd/web/console.py) ---
    (r"content is required", "请填写工单内容", {}),
    (r"uniqueid \(the call\) is required", "没有对应的来电", {}),
    (r"a complaint names its subject.*", "投诉举报须填写投诉对象", {}),
    (r"answered must be true or false", "请选择处理方式", {}),
    (r"an order answered on the call records the reply given", "即时答复须填写答复内容", {}),
    (r"an order not answered on the call is transferred.*",
     "未即时答复的工单须选择承办单位转办（或按第二十八条不予受理）", {}),
    (r"an order not accepted \(refusal\) is not answered on the call",
     "不予受理的工单不能同时即时答复", {}),
    (r"a cross-region order names its region.*", "跨省（地市）工单须填写来源地区", {}),
    (r"a seat files orders for its own current or last call",
     "座席只能为本人当前或最近一次接听的来电填写工单", {}),
    (r"call_uniqueid: a seat files orders only for calls it answered",
     "座席只能为本人接听的来电填写工单", {}),
    (r"call_uniqueid: is required for an order from a call", "来电工单须关联来电", {}),
    (r"source: an order for a call has the source call", "关联来电的工单来源应为“来电”", {}),
    (r"call (?P<c>\S+) has a work order already", "该来电已有工单", {}),
    (r"an entry id is a number", "知识条目编号应为数字", {}),
    (r"no knowledge entry (?P<n>\S+)", "知识条目 {n} 不存在", {}),
    (r"an entry has a title and a body", "知识条目须有标题和正文", {}),
    (r"(?:entry \S+: )?valid_to is before valid_from", "失效日期早于生效日期", {}),
    (r"a seat sends only its own call to the survey", "只能将本人的通话转满意度评价", {}),
    (r"the call is not in progress \(the seat is (?P<s>\w+)\)",
     "当前没有进行中的通话（座席状态：{s}）", {"s": _state}),
    (r"the caller has hung up", "来电人已挂机", {}),
    (r"not your call", "这不是您的来电", {}),
    (r"no such call", "来电不存在", {}),
    # --- seat actions (acd/seats/service.py) ---
    (r"no seat (?P<s>\S+) in center \S+", "本中心没有座席 {s}", {"s": _q}),
    (r"no seat (?P<s>\S+)", "没有座席 {s}", {"s": _q}),
    (r"role (?P<r>\S+) may not act on seats", "当前角色（{r}）不能操作座席", {"r": _role}),
    (r"a seat acts on itself only", "座席只能操作本人", {}),
    (r"a (?P<r>\S+) of (?P<a>\S+) acts on its own center's seats only, not (?P<b>\S+)'s",
     "{r}只能操作本中心（{a}）的座席，不能操作 {b} 的座席", {"r": _role}),
    (r"a (?P<r>\S+) of (?P<a>\S+) listens to its own center's seats only, not (?P<b>\S+)'s",
     "{r}只能监听本中心（{a}）的座席，不能监听 {b} 的座席", {"r": _role}),
    (r"Asterisk node (?P<n>\S+) is not connected", "电话系统节点 {n} 未连接，请稍后再试", {}),
    (r"Asterisk is not connected", "电话系统未连接，请稍后再试", {}),
    (r"unknown queue\(s\): (?P<q>.+)", "没有这些队列：{q}", {}),
    (r"queues must be a list of queue names", "队列应为队列名称的列表", {}),
    (r"seat (?P<s>\S+) is not in wrap-up \(it is (?P<st>\w+)\)",
     "座席 {s} 不在整理状态（当前：{st}）", {"st": _state}),
    (r"no action (?P<a>\S+?);? .*|no action (?P<b>\S+)", "没有这项操作", {}),
    # --- orders (acd/orders/service.py, access.py, backoffice.py) ---
    (r"no such order", "工单不存在或无权查看", {}),
    (r"(?P<r>\w+) (?P<n>\S+) may not (?P<a>\w+) order (?P<o>\d+)",
     "无权对工单 {o} 进行“{a}”操作", {"a": _action}),
    (r"order (?P<o>\d+): cannot (?P<a>\w+) an order that is (?P<s>\w+) \(only from (?P<f>.+)\)",
     "工单 {o} 当前为“{s}”，不能{a}（只能在“{f}”时）",
     {"a": _action, "s": _status, "f": lambda t: "”或“".join(_status(x) for x in t.split(" or "))}),
    (r"a transfer names the handling unit", "转办须选择承办单位", {}),
    (r"unit: (?P<u>\S+) is not a handling unit of this center.*", "{u} 不是本中心的承办单位",
     {"u": _q}),
    (r"a return needs a reason", "退回须说明理由", {}),
    (r"an extension is 1 to (?P<n>\d+) working days", "延期为 1 至 {n} 个工作日", {}),
    (r"an extension needs a reason", "延期须说明理由", {}),
    (r"a reply has text", "请填写办理意见", {}),
    (r"center: name another center", "请选择其他中心", {}),
    (r"reason: an escalation states why", "上报上级中心须说明理由", {}),
    (r"reason: a forward states why", "转其他中心须说明理由", {}),
    (r"center: (?P<c>\S+) is not a center this one exchanges orders with.*",
     "{c} 不是可转办的中心", {"c": _q}),
    (r"center: this center has no level above.*", "本中心未配置上级中心", {}),
    (r"the overdue lists are for the center's staff and the units", "逾期工单仅供中心和承办单位查看", {}),
    (r"unit (?P<u>\S+) is no longer in the center file", "承办单位 {u} 已不在中心配置中",
     {"u": _q}),
    (r"(?:order \d+: )?the return window .*|.*returns? .*within (?P<n>\d+) working days.*",
     "超过 {n} 个工作日的退回期限", {}),
    (r".*extension.*(?:once|already).*", "工单已延期过一次，不能再次延期", {}),
    (r".*(?:deadline|due) .*(?:passed|past).*", "已超过办理期限", {}),
    (r"order (?P<o>\d+) was extended already.*", "工单 {o} 已延期过一次，不能再次延期", {}),
    (r"order (?P<o>\d+): only a transferred order is received \(it is (?P<s>\w+)\)",
     "工单 {o} 当前为“{s}”，只有已转办的工单可以签收", {"s": _status}),
    (r"order (?P<o>\d+) was received already", "工单 {o} 已签收", {}),
    (r"order (?P<o>\d+): only an order a unit holds is reminded \(it is (?P<s>\w+)\)",
     "工单 {o} 当前为“{s}”，只有承办单位办理中的工单可以催办", {"s": _status}),
    (r"reason: .+ states why", "请说明理由", {}),
    (r"entries\[(?P<n>\d+)\]\..*", "知识条目第 {n} 条有误", {}),
    (r"the database \S+ (?:has no schema yet|is at schema .*)",
     "数据库尚未升级到当前版本，请管理员运行 hotline db upgrade", {}),
    (r"internal error; see the engine's log", "服务器内部错误，请联系管理员", {}),
    # --- revisits (acd/orders/revisits_http.py) ---
    (r"no such revisit|no revisit (?P<n>\S+)", "回访记录不存在", {}),
    (r"revisit (?P<n>\S+) is on (?P<w>.+)'s list", "该回访在回访员 {w} 的名单中", {}),
    (r"revisit (?P<n>\S+) was recorded already.*", "该回访已记录过结果", {}),
    (r"reached is (?:required )?\(?true or false\)?", "请选择是否联系上", {}),
    (r"a reached revisit records satisfaction.*", "联系上的回访须记录满意度（1 至 4）", {}),
    (r"an unreached revisit has no satisfaction", "未联系上的回访不记录满意度", {}),
    (r"a note is text of at most (?P<n>\d+) characters", "备注最多 {n} 个字", {}),
    (r"day must be a date like .*", "日期应为 年-月-日", {}),
    (r"(?P<d>\S+) has not come yet.*", "{d} 尚未到来", {}),
    # --- the inspector's page (acd/web/inspector.py) ---
    (r"date must be YYYY-MM-DD, got .*", "日期应为 年-月-日", {}),
    (r"(?P<d>\S+) is in the future.*", "{d} 是将来的日期", {}),
    (r"which seat\? .*", "请选择座席", {}),
    (r"no queue (?P<q>\S+) in center \S+", "本中心没有队列 {q}", {"q": _q}),
    (r"n must be a whole number from 1 to (?P<n>\d+).*", "抽取条数应为 1 至 {n} 的整数", {}),
    (r"not a call id: .*", "来电编号无效", {}),
    (r"no call (?P<c>\S+)", "来电不存在", {}),
    (r"call (?P<c>\S+) has no recording", "该来电没有录音", {}),
    (r"the recordings directory of node .*", "本引擎不知道该节点的录音目录", {}),
    (r"the recording of \S+ is not under the recordings directory", "录音文件位置异常，已拒绝", {}),
    (r"the recording of \S+ is missing on disk", "录音文件已丢失", {}),
    (r"page must be .*", "页码无效", {}),
    # --- listening in (acd/web/spy.py) and the broadcast ---
    (r"mode must be one of .*", "请选择监听、密语或强插", {}),
    (r"phone is required.*", "请选择班长话机", {}),
    (r"no supervisor phone (?P<p>\S+).*", "没有班长话机 {p}", {"p": _q}),
    (r"supervisor phone (?P<p>\S+) is on node .*", "班长话机 {p} 与座席不在同一节点，无法监听", {}),
    (r"seat (?P<s>\S+) is not on a call", "座席 {s} 当前没有通话", {}),
    (r"supervisor phone (?P<p>\S+) is not registered", "班长话机 {p} 未注册", {}),
    (r"supervisor phone (?P<p>\S+) is busy.*", "班长话机 {p} 正忙", {}),
    (r"days must be a whole number from 1 to 366", "天数应为 1 至 366 的整数", {}),
    (r"Redis: .*", "实时数据服务（Redis）暂不可用", {}),
    (r".*broadcast.*(?:long|characters).*", "广播内容过长", {}),
    # --- administration and quality scoring (acd/web/admin.py, acd/quality/) ---
    (r"a user name is 1 to 60 letters, digits or _\.@-", "用户名为 1 至 60 个字母、数字或 _.@-", {}),
    (r"role must be one of .*", "请选择角色", {}),
    (r"a seat user names its seat", "座席用户须指定座席", {}),
    (r"a unit user names its unit.*", "承办单位用户须指定承办单位（且仅承办单位用户指定）", {}),
    (r"a password has (?P<a>\d+) to (?P<b>\d+) characters", "密码为 {a} 至 {b} 个字符", {}),
    (r"user (?P<u>\S+) exists already", "用户 {u} 已存在", {"u": _q}),
    (r"no user (?P<u>\S+)(?: in center \S+)?", "没有用户 {u}", {"u": _q}),
    (r"a token named (?P<t>\S+) exists already", "令牌 {t} 已存在", {"t": _q}),
    (r"no token named (?P<t>\S+)(?: in center \S+)?", "没有令牌 {t}", {"t": _q}),
    (r"a seat token names its seat.*", "座席令牌须指定座席", {}),
    (r"a unit token names its unit.*", "承办单位令牌须指定承办单位（且仅承办单位令牌指定）", {}),
    (r"an admin cannot remove itself here.*", "不能在此删除或注销自己的账号", {}),
    (r"(?:--)?unit: (?P<u>\S+) is not a unit of the center file", "{u} 不是本中心的承办单位",
     {"u": _q}),
    (r"seat: (?P<s>\S+) is not a seat of the center file", "{s} 不是本中心的座席", {"s": _q}),
    (r"seat: (?P<s>\S+) is not a seat of center (?P<c>\S+) in the center file",
     "{s} 不是本中心（{c}）的座席", {"s": _q}),
    (r"no score sheet (?P<s>\S+)", "没有评分表 {s}", {"s": _q}),
    (r"scores: must be an object.*", "评分格式有误", {}),
    (r"until: is before since", "结束日期早于开始日期", {}),
    (r"since: at most (?P<n>\d+) days at once", "一次最多查询 {n} 天", {}),
    (r"scores: (?P<i>\S+) is not an item of the sheet", "评分项 {i} 不在评分表中", {"i": _q}),
    (r"scores: (?P<i>\S+) must be a whole number from 0 to (?P<n>\d+)",
     "评分项 {i} 应为 0 至 {n} 的整数", {"i": _q}),
    (r"scores: every item is scored \(missing: (?P<m>.+)\)", "还有评分项未打分：{m}", {}),
    (r"call (?P<c>\S+) was answered by no seat", "该来电无座席接听，不能评分", {}),
    (r"call (?P<c>\S+) is scored already.*", "该录音已评过分", {}),
    # blocked numbers and the platform's callbacks (issue 16, acd/callers/)
    (r"number: digits only .*", "号码只能是数字（3 至 20 位，可带前导 +）", {}),
    (r"(?P<f>[\w.]+): say why, in at most (?P<n>\d+) characters", "请填写{f}（不超过 {n} 个字）",
     {"f": field}),
    (r"(?P<f>[\w.]+): one line of text", "{f}只能是一行文字", {"f": field}),
    (r"days: a whole number of days from 1 to (?P<n>\d+)", "天数应为 1 至 {n} 的整数", {}),
    (r"(?P<n>\S+) is blocked already; lift that block first", "号码 {n} 已被拦截，请先解除",
     {}),
    (r"(?P<n>\S+) is not blocked", "号码 {n} 未被拦截", {}),
    (r"no such block", "没有这条拦截记录", {}),
    (r"no such callback", "没有这条回电记录", {}),
    (r"callback (?P<i>\S+) is (?P<s>\S+): it cannot be cancelled now", "回电 {i} 当前不能取消",
     {}),
    (r"state: one of .*", "状态不在可选范围内", {}),
]
_COMPILED = [(re.compile(rf"^(?:{p})$", re.S), zh, how) for p, zh, how in RULES]


def chinese(message: str, status: int = 400) -> str:
    """The Chinese sentence for a refusal's English message."""
    text = message.strip()
    for pattern, zh, how in _COMPILED:
        m = pattern.match(text)
        if m is None:
            continue
        values = {k: (how[k](v) if k in how else v) for k, v in m.groupdict().items()
                  if v is not None}
        try:
            return zh.format(**values)
        except (KeyError, IndexError):
            return zh.split("{")[0].rstrip("：:（(") or GENERIC.get(status, GENERIC[400])
    return GENERIC.get(status, GENERIC[400] if status < 500 else GENERIC[500])


def known(message: str) -> bool:
    """Has this message a sentence of its own (not only its status's general one)?"""
    text = message.strip()
    return any(p.match(text) for p, _, _ in _COMPILED)
