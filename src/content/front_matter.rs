//! YAML front matter: splitting it off a page and parsing it strictly.
//!
//! Every error points at the line and column of the *Markdown file*: the YAML parser counts from
//! the first line inside the `---` block, and we add the block's offset. Unknown keys and wrong
//! types are errors, so a typo never silently does nothing.

use serde::{Deserialize, Deserializer, Serialize};

use crate::diagnostic::Diagnostic;

/// What kind of page this is; picks the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A how-to or explanation (the default).
    #[default]
    Guide,
    /// A fix for a problem: severity, symptoms, numbered steps.
    Troubleshooting,
    /// API or settings reference, with an on-page table of contents.
    Reference,
    /// A procedure for a recurring situation (checklists, incident response).
    Playbook,
    /// Questions and answers.
    Faq,
    /// A step of a triage tree (made from `triage/*.yaml`, never written in front matter).
    Triage,
}

impl Kind {
    /// Every kind, in the order menus list them.
    pub const ALL: [Kind; 6] = [
        Kind::Troubleshooting,
        Kind::Triage,
        Kind::Guide,
        Kind::Reference,
        Kind::Playbook,
        Kind::Faq,
    ];

    /// Parses a name as written in front matter.
    pub fn from_name(name: &str) -> Option<Kind> {
        let name = name.trim().to_ascii_lowercase();
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The lowercase name, as written in front matter.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Guide => "guide",
            Kind::Troubleshooting => "troubleshooting",
            Kind::Reference => "reference",
            Kind::Playbook => "playbook",
            Kind::Faq => "faq",
            Kind::Triage => "triage",
        }
    }
}

/// Who a page is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Audience {
    /// Teachers running classes (plain language).
    Teacher,
    /// Students joining classes.
    Student,
    /// Developers using the API.
    Developer,
    /// Administrators of the platform.
    Admin,
    /// Support staff.
    Support,
    /// Anyone (`all` is accepted too).
    #[serde(alias = "all")]
    Everyone,
}

impl Audience {
    /// The lowercase name, as written in front matter.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Teacher => "teacher",
            Audience::Student => "student",
            Audience::Developer => "developer",
            Audience::Admin => "admin",
            Audience::Support => "support",
            Audience::Everyone => "everyone",
        }
    }

    /// Parses a name as written in front matter (`all` means everyone).
    pub fn from_name(name: &str) -> Option<Audience> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "teacher" => Audience::Teacher,
            "student" => Audience::Student,
            "developer" => Audience::Developer,
            "admin" => Audience::Admin,
            "support" => Audience::Support,
            "everyone" | "all" => Audience::Everyone,
            _ => return None,
        })
    }
}

/// How urgent the problem a troubleshooting page fixes is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    /// Class cannot continue.
    Urgent,
    /// Class is badly disturbed.
    High,
    /// Annoying, not blocking.
    Normal,
}

impl Urgency {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Urgent => "urgent",
            Urgency::High => "high",
            Urgency::Normal => "normal",
        }
    }
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Date {
    /// Year.
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day, 1-31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year: u16 = s[0..4].parse().ok()?;
        let month: u8 = s[5..7].parse().ok()?;
        let day: u8 = s[8..10].parse().ok()?;
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn days_since_epoch(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date {
            year: year.clamp(0, i64::from(u16::MAX)) as u16,
            month: month as u8,
            day: day as u8,
        }
    }

    /// Today, in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }
}

/// The calendar date (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's
/// algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        Date::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{s}` is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01"
            ))
        })
    }
}

/// The keys a page may set. Anything else is an error.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrontMatter {
    /// Page title; otherwise the first `#` heading, then the file name.
    pub title: Option<String>,
    /// One sentence for lists, search results and `<meta name="description">`.
    pub description: Option<String>,
    /// guide | troubleshooting | reference | playbook | faq.
    pub kind: Option<Kind>,
    /// teacher | student | developer | admin | support | everyone.
    pub audience: Option<Audience>,
    /// urgent | high | normal (troubleshooting pages only).
    pub severity: Option<Urgency>,
    /// Phrases readers type when they have this problem; shown on the page, boosted in search.
    pub symptoms: Vec<String>,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Date of the last real review of the content.
    pub updated: Option<Date>,
    /// Sort order within a folder; lower first.
    pub weight: Option<i64>,
    /// Left out of the build unless `build.drafts = true`.
    pub draft: bool,
    /// Old URLs (relative to the site root) that redirect here.
    pub aliases: Vec<String>,
    /// Language of the page, when it differs from `book.language` (`zh`, `en`).
    pub lang: Option<String>,
}

/// A page split into its front matter and body.
#[derive(Debug)]
pub(crate) struct Split<'a> {
    /// The YAML between the `---` lines (empty when there is none).
    pub yaml: &'a str,
    /// The Markdown after the closing line.
    pub body: &'a str,
    /// 1-based line in the file of the first line of `yaml`.
    pub yaml_line: u32,
    /// 1-based line in the file of the first line of `body`.
    pub body_line: u32,
}

/// Splits `---` front matter off `text`. `Err` carries the line of an unclosed block.
pub(crate) fn split(text: &str) -> Result<Split<'_>, Diagnostic> {
    let first = text.split_inclusive('\n').next().unwrap_or("");
    if first.trim_end() != "---" {
        return Ok(Split {
            yaml: "",
            body: text,
            yaml_line: 1,
            body_line: 1,
        });
    }
    let yaml_start = first.len();
    let mut offset = yaml_start;
    for (line, l) in (2u32..).zip(text[yaml_start..].split_inclusive('\n')) {
        let t = l.trim_end();
        if t == "---" || t == "..." {
            return Ok(Split {
                yaml: &text[yaml_start..offset],
                body: &text[offset + l.len()..],
                yaml_line: 2,
                body_line: line + 1,
            });
        }
        offset += l.len();
    }
    Err(Diagnostic::error("front matter is not closed")
        .at(1, 1)
        .help("end the YAML block with a line containing only `---`"))
}

/// Parses the YAML of a split page. Errors carry the file's line and column.
pub(crate) fn parse(split: &Split<'_>) -> Result<FrontMatter, Diagnostic> {
    if split.yaml.trim().is_empty() {
        return Ok(FrontMatter::default());
    }
    let fm: FrontMatter = serde_saphyr::from_str(split.yaml).map_err(|e| {
        let mut d = yaml_error(&e, "front matter", split.yaml_line as usize);
        if d.message.contains("unknown field") {
            d = d.help(
                "allowed keys: title, description, kind, audience, severity, symptoms, tags, updated, weight, draft, aliases, lang",
            );
        } else if d.message.contains("unknown variant") {
            d = d.help("use one of the values listed in the message");
        }
        d
    })?;
    Ok(fm)
}

/// A YAML error of `what` (`front matter`, `synonyms`) at its line and column, where the YAML
/// text starts on line `first_line` of the file.
pub(crate) fn yaml_error(e: &serde_saphyr::Error, what: &str, first_line: usize) -> Diagnostic {
    let (line, column) = e
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((1, 1));
    Diagnostic::error(format!("{what}: {}", yaml_message(e)))
        .at(first_line + line.max(1) - 1, column.max(1))
}

/// The error message without the snippet and location serde-saphyr adds to its Display.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.without_snippet().to_string();
    let first = full.lines().next().unwrap_or("").trim();
    // serde-saphyr appends " at line X, column Y"; the diagnostic carries the place itself.
    let cut = first
        .find(" at line ")
        .map_or(first, |i| &first[..i])
        .trim_end_matches(':')
        .trim();
    if cut.is_empty() {
        full
    } else {
        cut.to_string()
    }
}

/// 1-based line of a top-level `key:` in the YAML, in file coordinates (for semantic errors).
pub(crate) fn key_line(split: &Split<'_>, key: &str) -> Option<usize> {
    split
        .yaml
        .lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map(|i| split.yaml_line as usize + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_day_numbers() {
        let d = Date::parse("2026-11-21").unwrap();
        assert_eq!(Date::from_days_since_epoch(d.days_since_epoch()), d);
        assert_eq!(Date::parse("1970-01-01").unwrap().days_since_epoch(), 0);
        let leap = Date::parse("2024-03-01").unwrap().days_since_epoch();
        assert_eq!(
            leap - Date::parse("2024-02-28").unwrap().days_since_epoch(),
            2
        );
    }

    #[test]
    fn split_finds_body_line() {
        let s = split("---\ntitle: A\n---\n# Body\n").unwrap();
        assert_eq!(s.yaml, "title: A\n");
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 4);
    }

    #[test]
    fn no_front_matter() {
        let s = split("# Only body\n").unwrap();
        assert_eq!(s.yaml, "");
        assert_eq!(s.body_line, 1);
    }

    #[test]
    fn unclosed_front_matter_is_an_error() {
        assert!(split("---\ntitle: A\n# Body\n").is_err());
    }

    #[test]
    fn unknown_key_error_points_at_file_line() {
        let text = "---\ntitle: A\ntitel: B\n---\n";
        let e = parse(&split(text).unwrap()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("titel"), "{e}");
    }

    #[test]
    fn wrong_type_error_points_at_file_line() {
        let text = "---\ntitle: A\nweight: heavy\n---\n";
        let e = parse(&split(text).unwrap()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn bad_date_is_an_error() {
        let text = "---\nupdated: 2026-13-01\n---\n";
        let e = parse(&split(text).unwrap()).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        let text = "---\ntitle: A\ntitle: B\n---\n";
        let e = parse(&split(text).unwrap()).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn full_front_matter_parses() {
        let text = "---\ntitle: Students can't hear me\nkind: troubleshooting\naudience: teacher\nseverity: urgent\nsymptoms: [no sound, 学生听不到]\ntags: [audio]\nupdated: 2026-11-01\nweight: 10\naliases: [old.html]\nlang: en\n---\n";
        let fm = parse(&split(text).unwrap()).unwrap();
        assert_eq!(fm.kind, Some(Kind::Troubleshooting));
        assert_eq!(fm.severity, Some(Urgency::Urgent));
        assert_eq!(fm.symptoms, ["no sound", "学生听不到"]);
        assert_eq!(fm.updated, Date::parse("2026-11-01"));
    }
}
