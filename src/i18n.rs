//! Interface strings in English and Simplified Chinese.
//!
//! The theme reads them as `t.<key>`; the Markdown stage uses the alert titles and step labels.
//! A page's `lang` picks the table, falling back to `book.language`, then English.

use std::collections::BTreeMap;

/// Which string table a language tag uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// English (the fallback).
    En,
    /// Simplified Chinese.
    Zh,
}

impl Locale {
    /// `zh`, `zh-CN`, `zh-Hans`, `zh_cn` -> Chinese; anything else -> English.
    pub fn from_tag(tag: &str) -> Locale {
        let tag = tag.trim().to_ascii_lowercase();
        if tag == "zh" || tag.starts_with("zh-") || tag.starts_with("zh_") {
            Locale::Zh
        } else {
            Locale::En
        }
    }

    /// The HTML `lang` attribute value.
    pub fn html_lang(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Zh => "zh-CN",
        }
    }

    /// The whole table, for templates.
    pub fn strings(self) -> BTreeMap<&'static str, &'static str> {
        STRINGS
            .iter()
            .map(|(k, en, zh)| (*k, if self == Locale::Zh { *zh } else { *en }))
            .collect()
    }

    /// One string by key (the key itself when missing, which a test guards against).
    pub fn get(self, key: &str) -> &'static str {
        STRINGS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, en, zh)| if self == Locale::Zh { *zh } else { *en })
            .unwrap_or("")
    }

    /// Title of an alert or container of `kind` (`note`, `tip`, `important`, `warning`, `caution`).
    pub fn alert_title(self, kind: &str) -> String {
        self.get(&format!("alert_{kind}")).to_string()
    }

    /// "Step 3" / "第 3 步".
    pub fn step_label(self, n: u32) -> String {
        match self {
            Locale::En => format!("Step {n}"),
            Locale::Zh => format!("第 {n} 步"),
        }
    }
}

/// (key, English, Simplified Chinese).
const STRINGS: &[(&str, &str, &str)] = &[
    ("alert_note", "Note", "注意"),
    ("alert_tip", "Tip", "提示"),
    ("alert_important", "Important", "重要"),
    ("alert_warning", "Warning", "警告"),
    ("alert_caution", "Caution", "小心"),
    ("skip_to_content", "Skip to content", "跳到正文"),
    ("menu", "Menu", "菜单"),
    ("navigation", "Site navigation", "站点导航"),
    ("breadcrumbs", "Breadcrumbs", "当前位置"),
    ("home", "Home", "首页"),
    ("on_this_page", "On this page", "本页内容"),
    ("previous", "Previous", "上一页"),
    ("next", "Next", "下一页"),
    ("copy", "Copy", "复制"),
    ("glossary", "Glossary", "术语表"),
    (
        "glossary_description",
        "Plain explanations of the technical words used in this help center.",
        "本帮助中心技术用语的通俗解释。",
    ),
    ("copied", "Copied", "已复制"),
    ("copy_code", "Copy code to clipboard", "复制代码"),
    ("anchor_link", "Link to this section", "本节链接"),
    (
        "theme_toggle",
        "Switch between light and dark",
        "切换浅色/深色模式",
    ),
    ("theme_light", "Light", "浅色"),
    ("theme_dark", "Dark", "深色"),
    ("search", "Search", "搜索"),
    (
        "search_placeholder",
        "Describe your problem…",
        "描述你遇到的问题…",
    ),
    ("search_site", "Search this site", "站内搜索"),
    (
        "search_query_label",
        "What are you looking for?",
        "你要找什么？",
    ),
    ("search_submit", "Search", "搜索"),
    ("search_shortcut", "Press / to search", "按 / 键搜索"),
    ("search_suggestions", "Suggestions", "搜索建议"),
    ("search_loading", "Searching…", "正在搜索…"),
    (
        "search_no_words",
        "That search has no words to look for. Describe the problem in words, for example “no sound”.",
        "这个搜索里没有可以查找的词。请用文字描述问题，例如“没声音”。",
    ),
    ("search_all_kinds", "All kinds", "全部类型"),
    ("search_kind_label", "Kind", "类型"),
    (
        "search_results_one",
        "1 result for “{query}”",
        "找到 1 条与“{query}”相关的结果",
    ),
    (
        "search_results_many",
        "{count} results for “{query}”",
        "找到 {count} 条与“{query}”相关的结果",
    ),
    (
        "search_no_results",
        "No results for “{query}”.",
        "没有找到与“{query}”相关的结果。",
    ),
    (
        "search_fuzzy",
        "No exact matches — showing close matches.",
        "没有完全匹配的结果，以下是相近的结果。",
    ),
    (
        "search_no_results_tip",
        "Try fewer or different words, or describe what you see on screen.",
        "试试更少或不同的词，或者描述你在屏幕上看到的内容。",
    ),
    (
        "search_too_long",
        "Your search is longer than {max} characters. Keep the main words and search again.",
        "搜索内容超过 {max} 个字符。请只保留关键词，再搜索一次。",
    ),
    (
        "search_unreadable",
        "Your search could not be read. Type it again.",
        "无法读取你的搜索内容，请重新输入。",
    ),
    (
        "search_empty_query",
        "Type what went wrong, in your own words — for example “no sound” or “video frozen”.",
        "用你自己的话描述遇到的问题，例如“没有声音”或“视频卡住”。",
    ),
    (
        "search_see_all",
        "See all results for “{query}”",
        "查看与“{query}”相关的全部结果",
    ),
    (
        "search_needs_server",
        "Search needs the helpbook server: run `helpbook serve`.",
        "搜索需要 helpbook 服务器：请运行 `helpbook serve`。",
    ),
    ("updated", "Updated", "更新于"),
    ("reading_time", "min read", "分钟阅读"),
    ("severity", "Severity", "紧急程度"),
    ("severity_urgent", "Urgent", "紧急"),
    ("severity_high", "High", "高"),
    ("severity_normal", "Normal", "一般"),
    ("symptoms", "You may see", "常见症状"),
    ("kind_guide", "Guide", "指南"),
    ("kind_troubleshooting", "Troubleshooting", "故障排查"),
    ("kind_reference", "Reference", "参考"),
    ("kind_playbook", "Playbook", "操作手册"),
    ("kind_faq", "FAQ", "常见问题"),
    ("in_this_section", "In this section", "本节内容"),
    ("edit_page", "Edit this page", "编辑本页"),
    ("repository", "Source repository", "源代码仓库"),
    ("not_found_title", "Page not found", "找不到页面"),
    (
        "not_found_text",
        "The page you asked for does not exist. It may have moved: try the home page or search.",
        "你要找的页面不存在，可能已经移动。请回到首页或使用搜索。",
    ),
    ("back_home", "Back to the home page", "返回首页"),
    ("redirecting", "Redirecting to", "正在跳转到"),
    ("tags", "Tags", "标签"),
    ("audience", "For", "适用对象"),
    ("audience_teacher", "Teachers", "老师"),
    ("audience_student", "Students", "学生"),
    ("audience_developer", "Developers", "开发者"),
    ("audience_admin", "Administrators", "管理员"),
    ("audience_support", "Support staff", "客服人员"),
    ("audience_everyone", "Everyone", "所有人"),
    ("draft", "Draft", "草稿"),
    ("questions", "Questions", "问题列表"),
    (
        "table",
        "Table {n} (scrolls sideways)",
        "表格 {n}（可左右滚动）",
    ),
    ("more_pages", "… {n} more pages", "… 另外 {n} 页"),
    (
        "feedback_question",
        "Did this page help?",
        "这个页面有帮助吗？",
    ),
    ("feedback_yes", "Yes", "有帮助"),
    ("feedback_no", "No", "没有帮助"),
    ("feedback_reason_label", "What was wrong?", "哪里有问题？"),
    ("reason_outdated", "It is out of date", "内容过时了"),
    ("reason_unclear", "It is hard to follow", "看不懂"),
    (
        "reason_didnt_fix",
        "It did not fix my problem",
        "没能解决我的问题",
    ),
    ("reason_other", "Something else", "其他原因"),
    (
        "feedback_comment_label",
        "Anything else? (optional)",
        "还有什么想告诉我们的？（选填）",
    ),
    ("feedback_send", "Send", "提交"),
    (
        "feedback_thanks",
        "Thank you. This helps us improve the page.",
        "谢谢！这能帮助我们改进这个页面。",
    ),
    ("stuck_title", "Still stuck?", "还是没解决？"),
    (
        "stuck_text",
        "Tell support what is wrong. What you already searched for and read is attached, so you don't have to repeat it.",
        "把问题告诉客服。你已经搜索和阅读过的内容会一并附上，不必再重复说明。",
    ),
    (
        "stuck_contact",
        "Your e-mail address or phone number",
        "你的邮箱或电话",
    ),
    (
        "stuck_description",
        "What is wrong, and what have you tried?",
        "遇到了什么问题？已经试过哪些办法？",
    ),
    ("stuck_send", "Send to support", "发送给客服"),
    (
        "ticket_sent",
        "Sent. Your ticket number is {id}; support will contact you.",
        "已发送。你的工单号是 {id}，客服会联系你。",
    ),
    (
        "ticket_failed",
        "Your request was not sent: {reason}",
        "请求没有发送成功：{reason}",
    ),
    ("ticket_back", "Back to the page", "返回页面"),
    (
        "request_unreachable",
        "the server could not be reached. Check your connection and try again.",
        "无法连接服务器。请检查网络连接后重试。",
    ),
    ("kind_triage", "Find the fix", "找到解决办法"),
    (
        "triage_home_title",
        "Something wrong in your live class? Start here",
        "直播课出问题了？从这里开始",
    ),
    (
        "triage_home_text",
        "Answer two or three short questions and we take you to the right fix.",
        "回答两三个简单的问题，我们会带你找到对应的解决办法。",
    ),
    ("triage_start", "Start", "开始"),
    ("triage_trail", "Your answers so far", "你已经回答的问题"),
    (
        "triage_back",
        "Back to the previous question",
        "回到上一个问题",
    ),
    ("triage_restart", "Start over", "重新开始"),
    (
        "triage_answers",
        "Choose the answer that fits best",
        "选择最符合的答案",
    ),
    ("triage_fix", "Try this fix", "试试这个办法"),
    ("triage_open_guide", "Open the full guide", "打开完整指南"),
    (
        "triage_fixed_question",
        "Did this fix it?",
        "问题解决了吗？",
    ),
    ("triage_fixed_yes", "Yes, it is fixed", "解决了"),
    ("triage_fixed_no", "No, still not working", "还没解决"),
    (
        "triage_fixed_thanks",
        "Great, glad it works again. You can go back to your class.",
        "太好了，问题解决了。你可以回到课堂了。",
    ),
    ("triage_not_fixed_title", "Still not working?", "还是不行？"),
    (
        "triage_next_fix",
        "Try the next most likely fix:",
        "试试下一个最可能的办法：",
    ),
    (
        "triage_ask_support",
        "Or ask support. Your answers are already filled in.",
        "或者联系客服。你的回答已经帮你填好了。",
    ),
    ("triage_my_answers", "My answers:", "我的回答："),
    (
        "triage_embed_note",
        "Pick an answer to go straight to the fix.",
        "选一个答案，直接找到解决办法。",
    ),
    ("outage_title", "Known problem right now", "当前已知问题"),
    (
        "outage_text",
        "Many people are reporting the same problem in the last few minutes. It is probably not your fault, and we are looking into it.",
        "最近几分钟有很多人报告了同样的问题。这很可能不是你的原因，我们正在处理。",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_pick_the_table() {
        assert_eq!(Locale::from_tag("zh-CN"), Locale::Zh);
        assert_eq!(Locale::from_tag("zh_Hans"), Locale::Zh);
        assert_eq!(Locale::from_tag("en-GB"), Locale::En);
        assert_eq!(Locale::from_tag("fr"), Locale::En);
    }

    #[test]
    fn every_string_has_both_languages() {
        for (key, en, zh) in STRINGS {
            assert!(!en.is_empty() && !zh.is_empty(), "{key}");
        }
        assert_eq!(Locale::Zh.alert_title("tip"), "提示");
        assert_eq!(Locale::En.step_label(2), "Step 2");
    }
}
