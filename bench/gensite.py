#!/usr/bin/env python3
"""Generate a synthetic help-center site in mdBook's layout, for the benchmarks.

Both helpbook and mdBook build the result unchanged. (Kept here, not in a shared folder, so
that a fresh clone can run `bench/run.py`; it started as the team's gen-synthetic.py.)

The corpus is shaped like a self-service support portal for an online
classroom / video-conferencing product:

  OUT/book.toml                 mdBook config (so `mdbook build OUT` works)
  OUT/src/SUMMARY.md            mdBook table of contents (all pages)
  OUT/src/README.md             landing page
  OUT/src/<section>/README.md   ~30 top-level sections
  OUT/src/<section>/<sub>/README.md            3 sub-sections each
  OUT/src/<section>/<sub>/kb-00042-<slug>.md   article pages

Every page has YAML front matter (title, tags, audience, plus lang and
weight; --no-front-matter leaves it out, for a plain mdBook book that mdBook
does not render as text) followed by Markdown: headings, paragraphs, bullet/numbered lists,
tables, block quotes, fenced code (rust, python, js, bash, json, yaml) and
relative links to other pages (some with #anchors).  About 20% of the pages
(--zh-ratio) are written in Chinese.

N (--pages) is the total number of .md pages, index pages included
(SUMMARY.md not counted).  Output is byte-for-byte deterministic for a
given (N, seed, zh-ratio); only the Python standard library is used.

Usage:
  gensite.py OUT [--pages 1000] [--seed 42] [--zh-ratio 0.2] [--no-front-matter] [--force]
"""
import argparse
import json
import os
import random
import re
import shutil
import sys

# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------
SECTIONS = [
    ("getting-started", "Getting Started", "快速入门"),
    ("accounts", "Accounts and Sign-in", "账户与登录"),
    ("classrooms", "Classroom Setup", "教室设置"),
    ("audio-video", "Audio and Video", "音频与视频"),
    ("screen-sharing", "Screen Sharing", "屏幕共享"),
    ("recording", "Recording and Playback", "录制与回放"),
    ("breakout-rooms", "Breakout Rooms", "分组讨论室"),
    ("whiteboard", "Whiteboard and Annotations", "白板与批注"),
    ("polls", "Polls and Quizzes", "投票与测验"),
    ("chat", "Chat and Q&A", "聊天与问答"),
    ("moderation", "Moderation", "课堂管理"),
    ("accessibility", "Accessibility", "无障碍"),
    ("mobile", "Mobile Apps", "移动应用"),
    ("lms", "LMS Integrations", "LMS 集成"),
    ("api", "REST API", "REST API"),
    ("webhooks", "Webhooks and Events", "Webhook 与事件"),
    ("admin", "Administration", "系统管理"),
    ("security", "Security", "安全"),
    ("privacy", "Privacy and Compliance", "隐私与合规"),
    ("networking", "Networking and Firewalls", "网络与防火墙"),
    ("performance", "Performance Tuning", "性能调优"),
    ("scaling", "Scaling and Clustering", "扩容与集群"),
    ("monitoring", "Monitoring and Alerts", "监控与告警"),
    ("backups", "Backups and Restore", "备份与恢复"),
    ("upgrades", "Upgrades", "升级"),
    ("troubleshooting", "Troubleshooting", "故障排查"),
    ("billing", "Billing and Licences", "计费与许可"),
    ("localization", "Localization", "本地化"),
    ("analytics", "Analytics and Reports", "分析与报表"),
    ("release-notes", "Release Notes", "发行说明"),
]
SUBSECTIONS = [
    ("basics", "Basics", "基础"),
    ("how-to", "How-to Guides", "操作指南"),
    ("reference", "Reference", "参考"),
    ("faq", "FAQ", "常见问题"),
    ("advanced", "Advanced Topics", "高级主题"),
]

AUDIENCES = ["student", "teacher", "admin", "developer", "support"]

TAGS = [
    "audio", "video", "camera", "microphone", "echo", "latency", "bandwidth",
    "webrtc", "turn", "stun", "firewall", "sso", "saml", "oauth", "ldap",
    "recording", "playback", "captions", "transcripts", "breakout-rooms",
    "whiteboard", "polls", "quiz", "chat", "moderation", "waiting-room",
    "accessibility", "screen-reader", "keyboard", "mobile", "ios", "android",
    "moodle", "canvas", "lti", "api", "webhooks", "rate-limits", "tokens",
    "admin", "roles", "permissions", "security", "privacy", "gdpr",
    "performance", "scaling", "cluster", "monitoring", "prometheus", "backup",
    "upgrade", "troubleshooting", "billing", "licence", "localization",
    "analytics", "reports", "attendance", "grading", "calendar", "storage",
]

VERBS = [
    "Configure", "Enable", "Disable", "Troubleshoot", "Set up", "Customize",
    "Manage", "Export", "Import", "Schedule", "Monitor", "Secure", "Migrate",
    "Reset", "Restrict", "Automate", "Audit", "Record", "Share", "Invite",
    "Integrate", "Limit", "Debug", "Understand", "Optimize", "Rotate",
]
OBJECTS = [
    "breakout rooms", "the waiting room", "meeting recordings", "live captions",
    "the shared whiteboard", "screen sharing", "student microphones",
    "webcam layouts", "polls", "the chat history", "guest access",
    "single sign-on", "LDAP synchronisation", "API tokens", "webhook delivery",
    "TURN servers", "bandwidth limits", "the attendance report",
    "LMS course links", "moderator roles", "presentation uploads",
    "shared notes", "the virtual background", "dial-in numbers",
    "storage quotas", "room templates", "the lobby message", "lecture playback",
    "the grading export", "calendar invitations", "audit logs",
    "data retention", "the mobile app", "push notifications",
    "keyboard shortcuts", "the screen reader mode", "cluster nodes",
    "load balancers", "TLS certificates", "backup snapshots",
]
QUALIFIERS = [
    "", "", "", "for large classes", "for guest users", "on mobile devices",
    "in Moodle", "in Canvas", "behind a proxy", "with SAML", "per course",
    "for a whole tenant", "after an upgrade", "on slow networks",
    "for recorded lectures", "via the REST API", "for external presenters",
    "in low-bandwidth mode", "for exam sessions", "across clusters",
]
ACTORS = [
    "a moderator", "the teacher", "a student", "an administrator",
    "a guest", "the presenter", "an API client", "the LMS", "a support agent",
    "the scheduler", "a co-host", "the recording worker",
]
ACTIONS = [
    "starts a session", "joins from a browser", "shares a screen",
    "uploads a presentation", "opens a breakout room", "ends the meeting",
    "mutes all participants", "enables captions", "rotates an API token",
    "changes the room layout", "invites an external presenter",
    "exports the attendance list", "reconnects after a network drop",
    "switches to audio-only mode", "publishes a recording",
]
COMPONENTS = [
    "media server", "signalling service", "recording worker", "web client",
    "TURN relay", "scheduler", "notification service", "search index",
    "LMS connector", "API gateway", "transcoder", "storage backend",
    "presence service", "chat service", "analytics pipeline",
]
RESULTS = [
    "creates a new room token", "stores the event in the audit log",
    "re-negotiates the media stream", "falls back to TCP on port 443",
    "queues the job for processing", "sends a webhook to every subscriber",
    "updates the participant list", "reduces the video resolution",
    "writes a snapshot to object storage", "invalidates the cached session",
    "shows a banner to all participants", "retries with exponential backoff",
]
CONDITIONS = [
    "UDP ports 16384-32768 are open", "the TLS certificate is valid",
    "the user has the moderator role", "the room is not locked",
    "the browser allows camera access", "the clock on the server is in sync",
    "the API token has the `rooms:write` scope", "storage is below its quota",
    "the LMS sends a valid LTI launch", "the proxy forwards WebSocket upgrades",
]
SCOPES = [
    "every room in the tenant", "new sessions only", "the current course",
    "all recordings created after the change", "guest users",
    "users in the selected group", "the whole cluster",
]
WHENS = [
    "immediately", "after the next restart", "within five minutes",
    "at the start of the next session", "once the cache expires",
    "after the nightly job runs",
]
CAVEATS = [
    "older mobile clients ignore this setting",
    "the change is not retroactive for existing recordings",
    "very large classes may need a dedicated media server",
    "some corporate networks block UDP traffic entirely",
    "browsers only expose device labels after permission is granted",
    "the API returns HTTP 429 when the rate limit is exceeded",
    "captions are generated per speaker and may lag by a few seconds",
    "exported files are kept for 30 days before they are deleted",
]
ERRORS = [
    "ICE connection failed", "403 Forbidden", "token expired",
    "media device not found", "recording quota exceeded",
    "websocket closed (1006)", "LTI signature mismatch",
    "certificate verify failed", "no TURN server reachable",
    "upload too large",
]
MENUS = [
    "Settings", "Room options", "Admin console", "Recordings",
    "Participants", "Integrations", "Security", "Advanced",
]
OPTIONS = [
    "Allow guests", "Mute on entry", "Require approval", "Enable captions",
    "Record automatically", "Lock layout", "Allow private chat",
    "Show join/leave sounds", "Low bandwidth mode", "Keep chat history",
]
CONFIG_KEYS = [
    "rooms.default_layout", "media.max_bitrate_kbps", "auth.session_ttl",
    "recording.retention_days", "turn.servers", "api.rate_limit_per_minute",
    "chat.history_enabled", "captions.language", "lobby.enabled",
    "webhooks.retry_max", "storage.quota_gb", "cluster.node_weight",
]

ZH_VERBS = ["配置", "启用", "禁用", "排查", "设置", "自定义", "管理", "导出",
            "导入", "安排", "监控", "保护", "迁移", "重置", "限制", "审计"]
ZH_OBJECTS = ["分组讨论室", "等候室", "课程录像", "实时字幕", "共享白板",
              "屏幕共享", "学生麦克风", "摄像头布局", "课堂投票", "聊天记录",
              "访客访问", "单点登录", "API 令牌", "Webhook 推送", "TURN 服务器",
              "带宽限制", "考勤报表", "LMS 课程链接", "主持人角色", "课件上传",
              "虚拟背景", "存储配额", "教室模板", "移动端应用", "审计日志",
              "数据保留策略", "集群节点", "负载均衡", "TLS 证书", "备份快照"]
ZH_QUALIFIERS = ["", "", "（大班课）", "（访客用户）", "（移动设备）",
                 "（Moodle 集成）", "（弱网环境）", "（考试场景）", "（通过 REST API）"]
ZH_ACTORS = ["主持人", "老师", "学生", "管理员", "访客", "演示者", "API 客户端",
             "客服人员", "助教"]
ZH_ACTIONS = ["开始上课", "通过浏览器加入会议", "共享屏幕", "上传课件",
              "打开分组讨论室", "结束会议", "将所有人静音", "开启字幕",
              "轮换 API 令牌", "切换到纯音频模式", "发布录像", "导出考勤名单"]
ZH_COMPONENTS = ["媒体服务器", "信令服务", "录制服务", "网页客户端", "TURN 中继",
                 "调度器", "通知服务", "搜索索引", "LMS 连接器", "API 网关",
                 "转码服务", "存储后端", "聊天服务", "分析管道"]
ZH_RESULTS = ["生成新的房间令牌", "把事件写入审计日志", "重新协商媒体流",
              "回退到 443 端口上的 TCP", "把任务放入处理队列", "向所有订阅者发送 Webhook",
              "更新参会者列表", "自动降低视频分辨率", "把快照写入对象存储",
              "使缓存的会话失效", "以指数退避方式重试"]
ZH_CONDITIONS = ["UDP 端口 16384-32768 已开放", "TLS 证书仍然有效",
                 "用户拥有主持人角色", "房间没有被锁定", "浏览器已允许访问摄像头",
                 "服务器时钟已同步", "API 令牌包含 `rooms:write` 权限",
                 "存储用量低于配额", "代理正确转发 WebSocket 升级请求"]
ZH_CAVEATS = ["旧版移动客户端会忽略此设置", "该修改不会影响已经生成的录像",
              "超大班级可能需要独立的媒体服务器", "部分企业网络会完全屏蔽 UDP 流量",
              "字幕按发言人生成，可能会延迟几秒", "导出的文件会在 30 天后自动删除",
              "超过速率限制时 API 会返回 HTTP 429"]
ZH_WHENS = ["立即", "在下次重启后", "五分钟内", "在下一节课开始时", "缓存过期后"]
ZH_HEADINGS = ["概述", "前提条件", "操作步骤", "配置说明", "常见问题", "注意事项",
               "故障排查", "示例", "参数说明", "最佳实践", "限制", "相关设置"]
EN_HEADINGS = ["Overview", "Before you begin", "Steps", "Configuration",
               "How it works", "Common problems", "Known limitations",
               "Examples", "Parameters", "Best practices", "Permissions",
               "Verifying the change", "Rolling back", "Related settings"]


def slugify(text):
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:60].strip("-")


# --------------------------------------------------------------------------
# Text generators
# --------------------------------------------------------------------------
class Writer:
    def __init__(self, rng):
        self.r = rng

    def pick(self, seq):
        return seq[self.r.randrange(len(seq))]

    # ---- English ----
    def en_sentence(self):
        r, p = self.r, self.pick
        t = r.randrange(10)
        if t == 0:
            return f"When {p(ACTORS)} {p(ACTIONS)}, the {p(COMPONENTS)} {p(RESULTS)}."
        if t == 1:
            return (f"To change this, open **{p(MENUS)}** and select "
                    f"**{p(OPTIONS)}**.")
        if t == 2:
            return (f"If the {p(COMPONENTS)} reports `{p(ERRORS)}`, check that "
                    f"{p(CONDITIONS)}.")
        if t == 3:
            return (f"By default the {p(COMPONENTS)} {p(RESULTS)}; you can change "
                    f"this with `{p(CONFIG_KEYS)}`.")
        if t == 4:
            return f"This setting applies to {p(SCOPES)} and takes effect {p(WHENS)}."
        if t == 5:
            return f"Note that {p(CAVEATS)}."
        if t == 6:
            n = r.randrange(2, 500)
            return (f"In our tests a single {p(COMPONENTS)} handled about {n * 10} "
                    f"concurrent participants before {p(CAVEATS)}.")
        if t == 7:
            return (f"Ask {p(ACTORS)} to confirm that {p(CONDITIONS)} before "
                    f"you {p(VERBS).lower()} {p(OBJECTS)}.")
        if t == 8:
            v = f"{r.randrange(1, 4)}.{r.randrange(0, 12)}.{r.randrange(0, 20)}"
            return (f"Since version {v}, {p(OBJECTS)} can be managed "
                    f"{p(QUALIFIERS) or 'from the admin console'}.")
        return (f"The {p(COMPONENTS)} logs error code E{r.randrange(1000, 9999)} "
                f"when {p(ACTORS)} {p(ACTIONS)} and `{p(CONFIG_KEYS)}` "
                f"is misconfigured.")

    def en_paragraph(self, lo=2, hi=6):
        return " ".join(self.en_sentence() for _ in range(self.r.randint(lo, hi)))

    # ---- Chinese ----
    def zh_sentence(self):
        r, p = self.r, self.pick
        t = r.randrange(8)
        if t == 0:
            return f"当{p(ZH_ACTORS)}{p(ZH_ACTIONS)}时，{p(ZH_COMPONENTS)}会{p(ZH_RESULTS)}。"
        if t == 1:
            return f"如需修改，请打开 **{p(MENUS)}**，然后选择 **{p(OPTIONS)}**。"
        if t == 2:
            return (f"如果{p(ZH_COMPONENTS)}报告 `{p(ERRORS)}` 错误，请确认"
                    f"{p(ZH_CONDITIONS)}。")
        if t == 3:
            return (f"默认情况下，{p(ZH_COMPONENTS)}会{p(ZH_RESULTS)}；可以通过 "
                    f"`{p(CONFIG_KEYS)}` 修改此行为。")
        if t == 4:
            return f"该设置{p(ZH_WHENS)}生效，并作用于{p(ZH_OBJECTS)}。"
        if t == 5:
            return f"请注意，{p(ZH_CAVEATS)}。"
        if t == 6:
            return (f"在我们的测试中，单个{p(ZH_COMPONENTS)}可以支持约 "
                    f"{r.randrange(2, 500) * 10} 名并发参会者。")
        return (f"在{p(ZH_VERBS)}{p(ZH_OBJECTS)}之前，请让{p(ZH_ACTORS)}确认"
                f"{p(ZH_CONDITIONS)}。")

    def zh_paragraph(self, lo=2, hi=6):
        return "".join(self.zh_sentence() for _ in range(self.r.randint(lo, hi)))

    # ---- shared blocks ----
    def bullet_list(self, zh, ordered=False):
        n = self.r.randint(3, 7)
        items = []
        for i in range(n):
            s = self.zh_sentence() if zh else self.en_sentence()
            items.append(f"{i + 1}. {s}" if ordered else f"- {s}")
        return "\n".join(items)

    def table(self, zh):
        r, p = self.r, self.pick
        if zh:
            head = ["参数", "默认值", "说明"]
        else:
            head = ["Setting", "Default", "Description"]
        if r.random() < 0.5:
            head.append("角色" if zh else "Role")
        rows = []
        for _ in range(r.randint(3, 8)):
            row = [f"`{p(CONFIG_KEYS)}`",
                   p(["`true`", "`false`", str(r.randrange(1, 3600)), "`auto`",
                      "`\"en\"`", "`[]`"]),
                   (p(ZH_RESULTS) if zh else p(RESULTS).capitalize())]
            if len(head) == 4:
                row.append(p(AUDIENCES))
            rows.append(row)
        out = ["| " + " | ".join(head) + " |",
               "|" + "|".join(["---"] * len(head)) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(out)

    def code_block(self):
        r, p = self.r, self.pick
        lang = p(["rust", "python", "js", "bash", "json", "yaml"])
        key = p(CONFIG_KEYS)
        room = f"room-{r.randrange(1000, 9999)}"
        n = r.randrange(1, 600)
        if lang == "rust":
            body = (
                "use std::time::Duration;\n\n"
                f"/// Creates a room and waits until the {p(COMPONENTS)} is ready.\n"
                f"async fn create_room(client: &Client, name: &str) -> Result<RoomId, ApiError> {{\n"
                f"    let room = client.rooms().create(name).max_participants({n}).send().await?;\n"
                f"    client.wait_ready(&room.id, Duration::from_secs({r.randrange(5, 120)})).await?;\n"
                f"    tracing::info!(room = %room.id, \"created {room}\");\n"
                "    Ok(room.id)\n"
                "}")
        elif lang == "python":
            body = (
                "import requests\n\n"
                f"def set_option(base_url, token, room_id, value={n}):\n"
                f"    \"\"\"Update `{key}` for one room.\"\"\"\n"
                "    resp = requests.patch(\n"
                "        f\"{base_url}/api/v1/rooms/{room_id}\",\n"
                f"        json={{\"{key}\": value}},\n"
                "        headers={\"Authorization\": f\"Bearer {token}\"},\n"
                f"        timeout={r.randrange(5, 60)},\n"
                "    )\n"
                "    resp.raise_for_status()\n"
                "    return resp.json()")
        elif lang == "js":
            body = (
                f"const room = await client.rooms.get('{room}');\n"
                f"room.on('participant-joined', (p) => {{\n"
                f"  if (room.participants.length > {n}) {{\n"
                f"    console.warn('{p(CAVEATS)}');\n"
                "  }\n"
                "});\n"
                f"await room.update({{ '{key}': {str(r.random() < 0.5).lower()} }});")
        elif lang == "bash":
            body = (
                f"# {p(VERBS)} {p(OBJECTS)}\n"
                f"sudo kbctl config set {key} {n}\n"
                f"sudo systemctl restart kb-{p(['media', 'api', 'recorder', 'web'])}\n"
                f"curl -fsS -H \"Authorization: Bearer $TOKEN\" \\\n"
                f"  https://classroom.example.org/api/v1/rooms/{room} | jq '.status'")
        elif lang == "json":
            body = json.dumps({
                "id": room,
                "name": f"{p(VERBS)} {p(OBJECTS)}",
                "settings": {key: n, "lobby": r.random() < 0.5,
                             "audience": p(AUDIENCES)},
                "tags": sorted({p(TAGS) for _ in range(3)}),
            }, indent=2, ensure_ascii=False)
        else:
            body = (
                f"# {p(VERBS)} {p(OBJECTS)}\n"
                f"{key.split('.')[0]}:\n"
                f"  {key.split('.')[1]}: {n}\n"
                f"  audience: {p(AUDIENCES)}\n"
                "  servers:\n"
                f"    - host: turn{r.randrange(1, 9)}.example.org\n"
                "      port: 443\n"
                "      transport: tcp")
        return f"```{lang}\n{body}\n```"


# --------------------------------------------------------------------------
# Corpus layout
# --------------------------------------------------------------------------
def plan(n_pages, rng, zh_ratio):
    """Return (sections, pages). Index pages are part of n_pages."""
    n_sec = max(1, min(len(SECTIONS), n_pages // 30))
    n_sub = 3 if n_pages >= 300 else 1
    n_index = 1 + n_sec + n_sec * n_sub
    n_content = max(0, n_pages - n_index)
    sections = []
    for si in range(n_sec):
        slug, en, zh = SECTIONS[si]
        subs = []
        for ki in range(n_sub):
            sub = SUBSECTIONS[(si + ki) % len(SUBSECTIONS)]
            subs.append({"slug": sub[0], "en": sub[1], "zh": sub[2], "pages": []})
        sections.append({"slug": slug, "en": en, "zh": zh, "subs": subs})
    buckets = [(si, ki) for si in range(n_sec) for ki in range(n_sub)]
    pages = []
    w = Writer(rng)
    for i in range(n_content):
        si, ki = buckets[i % len(buckets)]  # even spread, deterministic
        zh = rng.random() < zh_ratio
        if zh:
            title = f"{w.pick(ZH_VERBS)}{w.pick(ZH_OBJECTS)}{w.pick(ZH_QUALIFIERS)}"
            fname = f"kb-{i + 1:05d}.md"
        else:
            q = w.pick(QUALIFIERS)
            title = f"{w.pick(VERBS)} {w.pick(OBJECTS)}" + (f" {q}" if q else "")
            fname = f"kb-{i + 1:05d}-{slugify(title)}.md"
        sec, sub = sections[si], sections[si]["subs"][ki]
        page = {
            "idx": i, "zh": zh, "title": title,
            "path": f"{sec['slug']}/{sub['slug']}/{fname}",
            "tags": sorted({w.pick(TAGS) for _ in range(rng.randint(1, 4))}),
            "audience": w.pick(AUDIENCES),
            "headings": [],
        }
        pages.append(page)
        sub["pages"].append(page)
    # Pre-pick section headings so other pages can deep-link to them.
    for page in pages:
        pool = ZH_HEADINGS if page["zh"] else EN_HEADINGS
        k = rng.randint(2, 5)
        page["headings"] = rng.sample(pool, k)
    return sections, pages


def anchor(heading):
    # mdBook-style id: lowercase, spaces -> '-', drop most punctuation.
    s = heading.lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def relpath(src, dst):
    return os.path.relpath(dst, os.path.dirname(src) or ".").replace(os.sep, "/")


# Set by generate(): whether pages start with YAML front matter.
FRONT_MATTER = True


def front_matter(title, tags, audience, lang, weight):
    if not FRONT_MATTER:
        return ""
    tag_list = ", ".join(tags)
    t = title.replace('"', '\\"')
    return (f"---\ntitle: \"{t}\"\ntags: [{tag_list}]\naudience: {audience}\n"
            f"lang: {lang}\nweight: {weight}\n---\n")


def render_page(page, pages, rng):
    w = Writer(rng)
    zh = page["zh"]
    para = w.zh_paragraph if zh else w.en_paragraph
    fm = front_matter(page["title"], page["tags"], page["audience"],
                      "zh" if zh else "en", page["idx"] + 1)
    out = [fm] if fm else []
    out.append(f"# {page['title']}\n")
    out.append(para(2, 5) + "\n")

    def link(target, text=None, deep=False):
        href = relpath(page["path"], target["path"])
        if deep and target["headings"]:
            href += "#" + anchor(w.pick(target["headings"]))
        return f"[{text or target['title']}]({href})"

    for h in page["headings"]:
        out.append(f"## {h}\n")
        blocks = rng.randint(1, 4)
        for _ in range(blocks):
            k = rng.random()
            if k < 0.40:
                txt = para()
                if len(pages) > 1 and rng.random() < 0.3:
                    other = pages[rng.randrange(len(pages))]
                    see = "另请参阅" if zh else "See also"
                    txt += f" {see} {link(other, deep=rng.random() < 0.5)}."
                out.append(txt + "\n")
            elif k < 0.55:
                out.append(w.bullet_list(zh, ordered=rng.random() < 0.4) + "\n")
            elif k < 0.68:
                out.append(w.table(zh) + "\n")
            elif k < 0.88:
                lead = "示例：" if zh else "For example:"
                out.append(lead + "\n\n" + w.code_block() + "\n")
            elif k < 0.94:
                sub = (w.pick(ZH_HEADINGS) if zh else w.pick(EN_HEADINGS))
                out.append(f"### {sub}\n\n" + para(1, 3) + "\n")
            else:
                tip = "提示" if zh else "Tip"
                s = w.zh_sentence() if zh else w.en_sentence()
                out.append(f"> **{tip}:** {s}\n")
    if len(pages) > 1:
        out.append("## 相关文章\n" if zh else "## Related articles\n")
        for _ in range(rng.randint(2, 5)):
            other = pages[rng.randrange(len(pages))]
            if other is not page:
                out.append(f"- {link(other, deep=rng.random() < 0.3)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def render_index(title, zh, children, self_path, rng, weight):
    w = Writer(rng)
    fm = front_matter(title, ["index"], "all", "zh" if zh else "en", weight)
    out = [fm] if fm else []
    out.append(f"# {title}\n")
    out.append((w.zh_paragraph(1, 3) if zh else w.en_paragraph(1, 3)) + "\n")
    for ctitle, cpath in children:
        out.append(f"- [{ctitle}]({relpath(self_path, cpath)})")
    return "\n".join(out).rstrip("\n") + "\n"


def generate(out_dir, n_pages, seed=42, zh_ratio=0.2, front=True):
    global FRONT_MATTER
    FRONT_MATTER = front
    rng = random.Random(seed)
    sections, pages = plan(n_pages, rng, zh_ratio)
    src = os.path.join(out_dir, "src")
    files = {}  # path relative to src -> text (dict keeps insertion order)
    summary = ["# Summary", "", "[Introduction](README.md)", ""]
    weight = 0
    for sec in sections:
        sec_readme = f"{sec['slug']}/README.md"
        summary.append(f"- [{sec['en']}]({sec_readme})")
        for sub in sec["subs"]:
            sub_readme = f"{sec['slug']}/{sub['slug']}/README.md"
            sub_title = f"{sec['en']}: {sub['en']}"
            summary.append(f"  - [{sub['en']}]({sub_readme})")
            for p in sub["pages"]:
                t = p["title"].replace("[", "(").replace("]", ")")
                summary.append(f"    - [{t}]({p['path']})")
            weight += 1
            files[sub_readme] = render_index(
                sub_title, False, [(p["title"], p["path"]) for p in sub["pages"]],
                sub_readme, rng, weight)
        weight += 1
        files[sec_readme] = render_index(
            f"{sec['en']} ({sec['zh']})", False,
            [(s["en"], f"{sec['slug']}/{s['slug']}/README.md") for s in sec["subs"]],
            sec_readme, rng, weight)
    files["README.md"] = render_index(
        "Classroom Knowledge Base", False,
        [(s["en"], f"{s['slug']}/README.md") for s in sections], "README.md", rng, 0)
    for p in pages:
        files[p["path"]] = render_page(p, pages, rng)

    if os.path.exists(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(src)
    with open(os.path.join(src, "SUMMARY.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(summary) + "\n")
    for rel in sorted(files):
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(files[rel])
    with open(os.path.join(out_dir, "book.toml"), "w", encoding="utf-8", newline="\n") as f:
        f.write(
            "[book]\n"
            f"title = \"Synthetic classroom KB ({n_pages} pages, seed {seed})\"\n"
            "language = \"en\"\n"
            "src = \"src\"\n\n"
            "[output.html]\n\n"
            "[output.html.search]\n"
            "enable = true\n")
    total = sum(len(t.encode("utf-8")) for t in files.values())
    n_zh = sum(1 for p in pages if p["zh"])
    return len(files), len(pages), n_zh, total


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="output folder (replaced if --force)")
    ap.add_argument("-n", "--pages", type=int, default=1000,
                    help="total .md pages incl. index pages (default 1000)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--zh-ratio", type=float, default=0.2,
                    help="fraction of article pages written in Chinese (default 0.2)")
    ap.add_argument("--no-front-matter", action="store_true",
                    help="pages without YAML front matter (title from the first heading)")
    ap.add_argument("--force", action="store_true",
                    help="replace OUT if it already exists")
    a = ap.parse_args()
    if a.pages < 1:
        ap.error("--pages must be >= 1")
    if os.path.exists(a.out) and not a.force:
        ap.error(f"{a.out} exists (use --force to replace it)")
    n_files, n_articles, n_zh, total = generate(
        a.out, a.pages, a.seed, a.zh_ratio, front=not a.no_front_matter)
    print(f"{a.out}: {n_files} pages ({n_articles} articles, {n_zh} Chinese), "
          f"{total} bytes of Markdown (excl. SUMMARY.md)", file=sys.stderr)


if __name__ == "__main__":
    main()
