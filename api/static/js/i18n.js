// The console's languages and the estate's clock. English text is the key; ZH holds Simplified Chinese for every
// key (tests/console/test_i18n.py checks the table is complete and that no English key is visible in zh-CN).
// Alert titles come from the server in English: here they are rebuilt per type from the alert's own fields, so a
// new wording on the server cannot leak English into the Chinese console. Times are always shown in EW_TIMEZONE
// (from /api/v1/console/settings) with the zone's offset as a label, e.g. "08:42 (UTC+8)".

export const LANGUAGES = { en: "English", "zh-CN": "中文" };

export const ZH = {
  // sign-in and shell
  "EstateWatch console": "EstateWatch 监控中心",
  "Control-room console": "监控中心控制台",
  "User": "用户名",
  "Password": "密码",
  "Sign in with an access token instead": "改用访问令牌登录",
  "Token": "令牌",
  "Sign in": "登录",
  "Sign out": "退出",
  "Wrong user name or password.": "用户名或密码错误。",
  "Your session has ended; please sign in again.": "会话已结束，请重新登录。",
  "Views": "视图",
  "Alerts": "告警",
  "Elders": "独居老人",
  "Cameras": "摄像头",
  "Estate": "小区概况",
  "Users": "用户",
  "Live updates": "实时更新",
  "● connecting": "● 连接中",
  "● live": "● 实时",
  "● offline": "● 离线",
  "● reconnecting": "● 重新连接中",
  "Keyboard shortcuts (?)": "快捷键 (?)",
  "Language": "语言",
  "Mute alarm sound for this shift": "本班次静音告警提示音",
  "Sound on": "提示音开",
  "Muted until {time}": "静音至 {time}",
  "Alert flood:": "告警激增：",
  "{n} new alerts in the last minute. Work the top of the queue; filter by type or building to see a pattern.":
    "过去一分钟新增 {n} 条告警。请先处理队列顶部；可按类型或楼栋筛选查看规律。",
  "Dismiss": "关闭",
  "viewer": "查看员",
  "operator": "值班员",
  "admin": "管理员",
  // queue
  "Filters": "筛选",
  "Filter ( / )": "筛选 ( / )",
  "Search": "搜索",
  "Status": "状态",
  "Type": "类型",
  "Building": "楼栋",
  "Open + acknowledged": "待处理 + 已确认",
  "Open": "待处理",
  "Acknowledged": "已确认",
  "Resolved": "已解决",
  "All": "全部",
  "All types": "全部类型",
  "All buildings": "全部楼栋",
  "Acknowledge all shown": "确认当前筛选的全部告警",
  "Life safety, not yet acknowledged": "生命安全告警（未确认）",
  "Severity": "级别",
  "Alert": "告警",
  "Where": "位置",
  "Age": "时长",
  "SLA": "时限",
  "Alert queue": "告警队列",
  "No alerts match. All quiet.": "没有符合条件的告警，一切正常。",
  "{n} alerts": "{n} 条告警",
  "Show all": "展开",
  "Collapse": "收起",
  "silenced": "已静默",
  "Silenced until {time}: {reason}": "静默至 {time}：{reason}",
  "Silences in force": "生效中的静默",
  "End": "结束",
  "Alert detail": "告警详情",
  "Select an alert (j / k, Enter).": "请选择一条告警（j / k，回车）。",
  "ack": "确认",
  "fix": "处理",
  "Acknowledged {n}": "已确认 {n} 条",
  "Acknowledge {n} open alerts matching the filter?": "确认筛选出的 {n} 条待处理告警？",
  // detail
  "Acknowledge": "确认",
  "Assign to me": "指派给我",
  "Comment": "备注",
  "Resolve": "解决",
  "Silence…": "静默…",
  "Needs the operator role": "需要值班员权限",
  "Raised": "发生时间",
  "Last seen": "最近一次",
  "closed": "已关闭",
  "{what} in {time}": "{what}剩余 {time}",
  "{what} overdue by {time}": "{what}已超时 {time}",
  "Escalation": "升级",
  "level {n}": "第 {n} 级",
  "Assignee": "处理人",
  "Resolution": "处理结果",
  "Id": "编号",
  "Evidence": "证据",
  "Evidence is being written…": "证据正在写入…",
  "Evidence is not available.": "证据不可用。",
  "Click to enlarge": "点击放大",
  "Why": "原因",
  "Last out": "最近外出",
  "not seen going out": "未见外出",
  "Home since": "在家起始",
  "Quiet for": "无动静时长",
  "Home for": "在家时长",
  "Last activity": "最近活动",
  "Contacts": "联系人",
  "No contacts on file.": "没有登记联系人。",
  "Phone first": "首先致电",
  "Call {name}": "致电{name}",
  // relations and roles the contacts of residents name (js/detail.js shows them with word())
  "daughter": "女儿",
  "son": "儿子",
  "niece": "侄女",
  "nephew": "侄子",
  "grid worker": "网格员",
  "hidden for your role": "您的角色无权查看",
  "Passages": "出入记录",
  "No passages in 7 days.": "7 天内无出入记录。",
  "Gate passages": "门口出入",
  "Last recognised passage": "最近一次识别的出入",
  "none on record": "无记录",
  "Unknown face passages since": "此后未识别的人脸出入",
  "none": "无",
  "History": "处理记录",
  "by {who}": "操作人 {who}",
  "system": "系统",
  "{what} deadline missed, to {group}": "{what}时限已过，已通知 {group}",
  "Acknowledged.": "已确认。",
  "Assigned to {name}": "已指派给 {name}",
  "Comment added": "已添加备注",
  "Resolved.": "已解决。",
  "Silenced": "已静默",
  "Not allowed for your role.": "您的角色无此权限。",
  "Failed: {error}": "失败：{error}",
  "Could not load alerts: {error}": "无法加载告警：{error}",
  "Could not open alert: {error}": "无法打开告警：{error}",
  "Could not load {view}: {error}": "无法加载 {view}：{error}",
  // dialogs
  "Keyboard shortcuts": "快捷键",
  "next / previous alert": "下一条 / 上一条告警",
  "open the selected alert": "打开所选告警",
  "acknowledge": "确认",
  "assign to me": "指派给我",
  "comment": "备注",
  "resolve with a reason": "填写原因并解决",
  "filter": "筛选",
  "alerts, elders, cameras, estate, users": "告警、老人、摄像头、概况、用户",
  "close": "关闭",
  "this help": "本帮助",
  "Close": "关闭",
  "Resolve alert": "解决告警",
  "Real: handled": "真实：已处理",
  "False alarm": "误报",
  "Duplicate": "重复",
  "Other": "其他",
  "Note": "说明",
  "Cancel": "取消",
  "Save": "保存",
  "Text": "内容",
  "On: {title}": "关于：{title}",
  "Silence alerts": "静默告警",
  "Alerts of this type": "此类型告警",
  "only in building {b}": "仅限 {b}栋",
  "For": "时长",
  "1 hour": "1 小时",
  "4 hours": "4 小时",
  "8 hours": "8 小时",
  "24 hours": "24 小时",
  "Reason": "原因",
  "Silence": "静默",
  "Bulk acknowledge": "批量确认",
  // elders, cameras, estate, users
  "Residents being watched": "关注中的住户",
  "Resident": "住户",
  "Unit": "房号",
  "Hours since out": "距上次外出（小时）",
  "Last signal": "最近信号",
  "{n} watched, {m} need attention": "关注 {n} 人，{m} 人需要留意",
  "No elderly residents.": "没有登记的老人。",
  "alone": "独居",
  "{n} alert": "{n} 条告警",
  "{time} ago": "{time}前",
  "away": "外出",
  "hospital": "住院",
  "home": "在家",
  "out": "外出",
  "unknown": "未知",
  "Pause the rules: {reason} for {n} day(s)": "暂停规则：{reason} {n} 天",
  "Needs the admin role": "需要管理员权限",
  "{id} marked {reason}": "{id} 已标记为{reason}",
  "latest frame of {id}": "{id} 的最新画面",
  "Click: calibration overlay": "点击：显示标定线",
  "Calibration overlay (click: live frame)": "标定线（点击：实时画面）",
  "Activity map": "活动热区",
  "Where motion is habitual: a fall there needs more evidence": "经常有动静的区域：此处的坠物需要更充分的证据",
  "No activity map saved yet": "尚未保存活动热区",
  "{h} h watched · {n} busy cells": "已观察 {h} 小时 · {n} 个活跃格",
  "warming up: {h} h watched, no effect yet": "学习中：已观察 {h} 小时，尚未生效",
  "{fps} fps · {age}": "{fps} 帧/秒 · {age}",
  "no frames": "无画面",
  "No cameras have sent frames yet.": "尚无摄像头发送画面。",
  "{n} cameras, {m} not streaming": "{n} 个摄像头，{m} 个无画面",
  "Buildings": "楼栋",
  "Alerts per hour": "每小时告警",
  "Alerts per day": "每日告警",
  "Offline devices": "离线设备",
  "Telemetry, last hour": "近一小时遥测",
  "{n} open": "{n} 待处理",
  "{n} in hand": "{n} 处理中",
  "{n} overdue": "{n} 超时",
  "{n} offline": "{n} 离线",
  "unknown metric {metric} from {kind}: {n} readings": "未识别指标 {metric}（{kind}）：{n} 条读数",
  "quiet": "正常",
  "No buildings known yet.": "尚无楼栋信息。",
  "{a} online · {b} offline · {c} unknown": "{a} 在线 · {b} 离线 · {c} 未知",
  "last seen {time}": "最近在线 {time}",
  "never": "从未",
  "No telemetry in the last hour.": "近一小时没有遥测数据。",
  "Console users": "控制台用户",
  "user name": "用户名",
  "password (8+)": "密码（至少 8 位）",
  "Add user": "添加用户",
  "Role": "角色",
  "Created": "创建时间",
  "State": "状态",
  "disabled": "已停用",
  "active": "正常",
  "Enable": "启用",
  "Disable": "停用",
  "No console users yet: add the first one above.": "还没有控制台用户：请在上方添加第一个。",
  "{name} updated": "{name} 已更新",
  "role of {name}": "{name} 的角色",
  // dispatch (work orders, the responder's page) and shift handover
  "Dispatch": "派单",
  "Send to": "派给",
  "Complexity": "难度",
  "Whole team: {team}": "整个班组：{team}",
  "Sent to {who}": "已派给 {who}",
  "Could not dispatch: {error}": "派单失败：{error}",
  "Could not load responders: {error}": "无法加载处置人员：{error}",
  "Could not load work orders: {error}": "无法加载工单：{error}",
  "Could not make a link: {error}": "无法生成链接：{error}",
  "No responders yet: an admin adds them.": "还没有处置人员：请管理员添加。",
  "Not dispatched yet.": "尚未派单。",
  "Escalates to {who}": "超时升级至 {who}",
  "New link": "重新生成链接",
  "Show link and QR code": "显示链接和二维码",
  "QR code of the responder's link": "处置人员链接的二维码",
  "Open the on-site page": "打开现场页面",
  "Scan with the responder's phone; the link works for this work order only.": "请用处置人员的手机扫码；该链接只对本工单有效。",
  "On site": "到场",
  "Solved": "已解决",
  "Plan": "处置方案",
  "Stage": "阶段",
  "due in {time}": "剩余 {time}",
  "overdue by {time}": "已超时 {time}",
  "escalated to {who}": "已升级至 {who}",
  "met at {time}": "于 {time} 完成",
  "met late at {time}": "超时后于 {time} 完成",
  "on the way": "前往途中",
  "on site": "已到场",
  "solved": "已解决",
  "Work order": "工单",
  "I am on site": "我已到场",
  "On site confirmed.": "已确认到场。",
  "What was done": "处理情况",
  "The plan for this case": "本案处置方案",
  "Send plan": "提交方案",
  "Thank you: the alert is closed.": "谢谢：告警已关闭。",
  "Plan recorded.": "方案已记录。",
  "Snapshot": "快照",
  "This link is not valid.": "此链接无效。",
  "This link has expired: ask the control room for a new one.": "此链接已过期：请联系监控中心重新发送。",
  "Already done.": "已处理过。",
  "Please write a note first.": "请先填写说明。",
  "Something went wrong; try again.": "出错了，请重试。",
  "Handover": "交接班",
  "Work orders": "工单",
  "Open work orders": "未完成的工单",
  "No open work orders.": "没有未完成的工单。",
  "Shift handover": "交接班记录",
  "Note for the next shift": "留给下一班的交接说明",
  "Leave note": "保存交接说明",
  "Mark read": "标为已读",
  "Mark all read": "全部标为已读",
  "No unread handover notes.": "没有未读的交接说明。",
  "Handover note saved": "交接说明已保存",
  "Could not save the note: {error}": "无法保存交接说明：{error}",
  "Could not mark the note read: {error}": "无法标为已读：{error}",
  "Could not load handover notes: {error}": "无法加载交接说明：{error}",
  "{who} at {time}": "{who}（{time}）",
  "grid": "网格员",
  "security": "保安",
  "maintenance": "维修",
  "simple": "简单",
  "general": "一般",
  "complex": "复杂",
  "hard": "疑难",
  "arrival": "到场",
  "solution": "解决",
  "plan": "方案",
  // severities, statuses, resolutions, alert types, history kinds, places
  "critical": "紧急",
  "major": "重要",
  "minor": "次要",
  "info": "提示",
  "open": "待处理",
  "acknowledged": "已确认",
  "resolved": "已解决",
  "true positive": "真实告警",
  "false positive": "误报",
  "duplicate": "重复",
  "other": "其他",
  "created": "创建",
  "repeated": "重复发生",
  "assigned": "指派",
  "commented": "备注",
  "escalated": "升级",
  "littering": "高空抛物",
  "smoke": "烟雾报警",
  "fire": "火警",
  "gas": "燃气泄漏",
  "no sign of life": "无生命迹象",
  "no activity": "长时间无活动",
  "resident collapsed": "住户倒地",
  "fall": "跌倒",
  "elderly not out": "老人长时间未外出",
  "temperature": "温度异常",
  "water leak": "漏水",
  "ebike charging": "电动车违规充电",
  "door held open": "防火门长时间敞开",
  "device offline": "设备离线",
  "camera offline": "摄像头离线",
  "Bldg {b}": "{b}栋",
  "{age} years": "{age}岁",
  "F{n}": "{n}层",
  "unknown floor": "未知楼层",
  "snapshot": "快照",
  "clip": "视频片段",
  // estate map and camera wall (js/map.js, js/wall.js)
  "Site plan": "小区平面图",
  "Site plan of {name}": "{name}平面图",
  "{n} floors": "{n}层",
  "floor {f}": "{f}层",
  "floor {f}, column {c}": "{f}层第{c}列",
  "{n} camera(s) offline": "{n}个摄像头离线",
  "Ringed pin: life safety · click a pin to open its alert": "带圈标记：危及生命安全 · 点击标记打开告警",
  "streaming": "正在传输",
  "not streaming": "未传输",
  "{n} open alert(s) of no tower on the plan (see the queue)": "{n}条未处理告警不属于平面图上的楼栋（见告警队列）",
  "No frame received yet": "尚未收到画面",
  "offline": "离线",
};

// Alert titles rebuilt from the alert's fields (the English title stays the server's, for webhooks and logs).
const TITLES_ZH = {
  // a calibrated camera's alert also names the window column (1-based) and the unit behind it
  littering: (s) => `${s.floor !== undefined && s.floor !== null ? `${s.floor}层` : "未知楼层"}${
    s.window_column ? `第${s.window_column}列${s.unit ? `（${s.unit}）` : ""}` : ""}高空抛物（${s.camera ?? "–"}）`,
  elderly_not_out: (s, h) => `住户 ${s.resident ?? ""}（${s.unit ?? "–"}）${h ? `已 ${h}` : "长时间"}未外出`,
  no_sign_of_life: (s, h) => `${s.unit ?? s.resident ?? "–"} ${h ? `已 ${h}` : "长时间"}无生命迹象`,
  no_activity: (s, h) => `${s.unit ?? s.resident ?? "–"} ${h ? `已 ${h}` : "长时间"}无活动（与该住户习惯不符）`,
};

let language = "en";
let zone = "UTC";

export function setLanguage(lang) {
  language = lang in LANGUAGES ? lang : "en";
  document.documentElement.lang = language;
}

export const currentLanguage = () => language;

/** The text for an English key in the current language, with {name} placeholders filled in. */
export function t(key, params = {}) {
  const text = language === "zh-CN" ? ZH[key] ?? key : key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ""));
}

/** A word that comes as data (severity, status, type, kind): translated when the table knows it. */
export function word(value) {
  const key = String(value ?? "").replaceAll("_", " ");
  return language === "zh-CN" && key in ZH ? ZH[key] : key;
}

// A duration in a server title, as alerts/wording.py writes it ("for 26 h 10 min", "for 48 s", "for 3 d 8 h"; older
// titles: "for 12.5 h"), in Chinese: "26 小时 10 分钟".
const SPAN = /for ((?:[\d.]+ (?:d|h|min|s)\b ?)+)/;
const UNITS_ZH = { d: "天", h: "小时", min: "分钟", s: "秒" };

function spanZh(title) {
  const found = (title.match(SPAN) ?? [])[1];
  if (!found) return "";
  return found.trim().split(/ (?=[\d.])/).map((part) => {
    const [n, unit] = part.split(" ");
    return `${Number(Number(n).toFixed(1))} ${UNITS_ZH[unit]}`;
  }).join(" ");
}

/** The alert's title in the current language. */
export function alertTitle(alert) {
  if (language !== "zh-CN") return alert.title;
  const subject = alert.subject;
  const build = TITLES_ZH[alert.type];
  if (build) return build(subject, spanZh(alert.title));
  const what = subject.device ?? subject.camera ?? subject.unit ?? subject.resident ?? "";
  return what ? `${word(alert.type)}：${what}` : word(alert.type);
}

/** Put the current language into the page's fixed text: [data-t] elements and [data-t-ATTR] attributes. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-t]")) {
    if (!node.dataset.en) node.dataset.en = node.textContent.trim();
    node.textContent = t(node.dataset.en);
  }
  for (const attr of ["placeholder", "title", "aria-label"]) {
    for (const node of root.querySelectorAll(`[data-t-${attr}]`)) {
      node.setAttribute(attr, t(node.getAttribute(`data-t-${attr}`)));
    }
  }
  document.title = t("EstateWatch console");
}

// --- the estate's clock --------------------------------------------------------------------------------------

export function setZone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    zone = name;
  } catch {
    zone = "UTC";
  }
}

export const currentZone = () => zone;

/** "UTC+8", "UTC-3:30", "UTC" for the zone at that instant. */
export function zoneLabel(date = new Date()) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(date).find((p) => p.type === "timeZoneName")?.value ?? "GMT";
  const m = part.match(/GMT([+-])(\d{2}):(\d{2})/);
  if (!m) return "UTC";
  return `UTC${m[1]}${Number(m[2])}${m[3] === "00" ? "" : `:${m[3]}`}`;
}

function parts(date, withDate) {
  const opts = { timeZone: zone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };
  if (withDate) Object.assign(opts, { month: "2-digit", day: "2-digit" });
  const out = {};
  for (const p of new Intl.DateTimeFormat("en-US", opts).formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** A time in the estate's zone with its label: "08:42:05 (UTC+8)", with the date when it is not today there. */
export function estateTime(iso, { seconds = true, date: withDate = "auto" } = {}) {
  if (!iso) return "–";
  const at = new Date(iso);
  const p = parts(at, true);
  const today = parts(new Date(), true);
  const showDate = withDate === "auto" ? p.month !== today.month || p.day !== today.day : withDate;
  const clock = `${p.hour}:${p.minute}${seconds ? `:${p.second}` : ""}`;
  const day = language === "zh-CN" ? `${Number(p.month)}月${Number(p.day)}日 ` : `${p.month}-${p.day} `;
  return `${showDate ? day : ""}${clock} (${zoneLabel(at)})`;
}

/** Duration units: "42s", "17m 05s" in English, "42秒", "17分05秒" in Chinese. */
export function units() {
  return language === "zh-CN" ? { s: "秒", m: "分", h: "小时", d: "天", sep: "" }
    : { s: "s", m: "m", h: "h", d: "d", sep: " " };
}

/** Chart ticks in the estate's zone: "08:00" for an hour bucket, "12/1" for a day. */
export function estateTick(date, bucket) {
  const p = parts(date, true);
  return bucket === "day" ? `${Number(p.month)}/${Number(p.day)}` : `${p.hour}:00`;
}
