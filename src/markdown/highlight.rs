//! Code highlighting with syntect: CSS classes, never inline styles.
//!
//! Classes keep the HTML small and let one page follow the reader's light or dark preference
//! with two stylesheets ([`highlight_css`]). The syntax set is syntect's defaults plus bat's
//! extras from two-face (TOML, TypeScript, Dockerfile, …); it is loaded once per process.
//! An unknown language renders as plain, escaped text.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::OnceLock;

use syntect::html::{ClassStyle, css_for_theme_with_class_style, line_tokens_to_classed_spans};
use syntect::parsing::{ParseState, ScopeStack, ScopeStackOp, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

use super::push_escaped;

/// Class prefix of highlighted spans, so theme CSS cannot collide with them.
const CLASS_STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

/// The loaded syntax definitions.
pub struct Highlighter {
    syntaxes: SyntaxSet,
}

impl std::fmt::Debug for Highlighter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Highlighter").finish_non_exhaustive()
    }
}

impl Highlighter {
    /// The process-wide highlighter (loading the syntaxes takes a few tens of milliseconds).
    pub fn global() -> &'static Highlighter {
        static GLOBAL: OnceLock<Highlighter> = OnceLock::new();
        GLOBAL.get_or_init(|| Highlighter {
            syntaxes: two_face::syntax::extra_newlines(),
        })
    }

    fn find(&self, lang: &str) -> Option<&SyntaxReference> {
        let lang = lang.to_ascii_lowercase();
        let token = match lang.as_str() {
            "" | "text" | "plain" | "plaintext" | "txt" | "output" => return None,
            "shell" | "console" | "sh" | "zsh" | "shell-session" => "bash",
            "js" | "node" | "mjs" => "js",
            "ts" => "ts",
            "yml" => "yaml",
            "py" | "python3" => "py",
            "rs" => "rs",
            "jsonc" | "json5" => "json",
            "html" | "xml" | "svg" => lang.as_str(),
            "dockerfile" | "docker" => "Dockerfile",
            other => other,
        };
        self.syntaxes
            .find_syntax_by_token(token)
            .or_else(|| self.syntaxes.find_syntax_by_name(token))
    }

    /// Whether `lang` names a language we can highlight.
    pub fn knows(&self, lang: &str) -> bool {
        self.find(lang).is_some()
    }

    /// Appends the HTML of `code` (the inside of `<code>`) to `out`.
    pub fn highlight_into(&self, out: &mut String, code: &str, lang: &str) {
        let Some(syntax) = self.find(lang) else {
            push_escaped(out, code);
            return;
        };
        let start = out.len();
        let mut state = ParseState::new(syntax);
        let mut scopes = ScopeStack::new();
        let mut open_spans: isize = 0;
        let syntax_key = syntax as *const SyntaxReference as usize;
        for line in LinesWithEndings::from(code) {
            let Some(ops) = self.parse_line_cached(syntax_key, &mut state, line) else {
                // A grammar failure must not lose the code: show it plain.
                out.truncate(start);
                push_escaped(out, code);
                return;
            };
            match line_tokens_to_classed_spans(line, &ops, CLASS_STYLE, &mut scopes) {
                Ok((html, delta)) => {
                    out.push_str(&html);
                    open_spans += delta;
                }
                Err(_) => {
                    out.truncate(start);
                    push_escaped(out, code);
                    return;
                }
            }
        }
        for _ in 0..open_spans.max(0) {
            out.push_str("</span>");
        }
    }

    /// Parses one line, reusing an earlier result for the same line text in the same parser
    /// state. Documentation repeats lines a lot (imports, headers, `curl -H "Authorization…"`),
    /// and the regex work dominates a build, so this is where the time goes.
    fn parse_line_cached(
        &self,
        syntax_key: usize,
        state: &mut ParseState,
        line: &str,
    ) -> Option<Rc<[(usize, ScopeStackOp)]>> {
        LINE_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            let key = (syntax_key, line);
            if let Some(entries) = cache.get(&key as &dyn CacheKey) {
                for (before, ops, after) in entries {
                    if before == state {
                        *state = after.clone();
                        return Some(ops.clone());
                    }
                }
            }
            let before = state.clone();
            let ops: Rc<[(usize, ScopeStackOp)]> =
                state.parse_line(line, &self.syntaxes).ok()?.into();
            if cache.len() >= LINE_CACHE_LIMIT {
                cache.clear();
            }
            cache
                .entry((syntax_key, line.to_string()))
                .or_default()
                .push((before, ops.clone(), state.clone()));
            Some(ops)
        })
    }
}

/// Lines remembered per thread before the cache is emptied (bounds memory on huge sites).
const LINE_CACHE_LIMIT: usize = 200_000;

type LineEntries = Vec<(ParseState, Rc<[(usize, ScopeStackOp)]>, ParseState)>;

thread_local! {
    static LINE_CACHE: RefCell<HashMap<(usize, String), LineEntries>> = RefCell::new(HashMap::new());
}

/// Lets the cache be probed with `(usize, &str)` without allocating a `String`.
trait CacheKey {
    fn key(&self) -> (usize, &str);
}

impl CacheKey for (usize, String) {
    fn key(&self) -> (usize, &str) {
        (self.0, &self.1)
    }
}

impl CacheKey for (usize, &str) {
    fn key(&self) -> (usize, &str) {
        (self.0, self.1)
    }
}

impl<'a> Borrow<dyn CacheKey + 'a> for (usize, String) {
    fn borrow(&self) -> &(dyn CacheKey + 'a) {
        self
    }
}

impl PartialEq for dyn CacheKey + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for dyn CacheKey + '_ {}

impl Hash for dyn CacheKey + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

/// The stylesheet for highlighted code: a light theme, and a dark one scoped to
/// `[data-theme="dark"]` and to `prefers-color-scheme: dark` when no theme is forced.
pub fn highlight_css() -> String {
    use two_face::theme::EmbeddedThemeName;
    let themes = two_face::theme::extra();
    let light =
        css_for_theme_with_class_style(themes.get(EmbeddedThemeName::InspiredGithub), CLASS_STYLE)
            .unwrap_or_default();
    let dark =
        css_for_theme_with_class_style(themes.get(EmbeddedThemeName::OneHalfDark), CLASS_STYLE)
            .unwrap_or_default();
    // Token colours are raised to WCAG AA (4.5:1) against the theme's code background.
    let light = ensure_contrast(&light, LIGHT_CODE_BG, false);
    let dark = ensure_contrast(&dark, DARK_CODE_BG, true);
    let mut css = String::from("/* Generated by helpbook from syntect themes. */\n");
    css.push_str(&light);
    css.push_str(&scope(&dark, ":root[data-theme=\"dark\"]"));
    css.push_str("\n@media (prefers-color-scheme: dark) {\n");
    css.push_str(&scope(&dark, ":root:not([data-theme=\"light\"])"));
    css.push_str("}\n");
    css
}

/// Code block backgrounds of the built-in theme (`--pre-bg` in style.css), light and dark.
const LIGHT_CODE_BG: (u8, u8, u8) = (0xf6, 0xf8, 0xfa);
const DARK_CODE_BG: (u8, u8, u8) = (0x15, 0x1b, 0x23);

/// Rewrites every `color: #rrggbb` so it reaches 4.5:1 against `bg`, darkening (light theme)
/// or lightening (dark theme) only as much as needed. Backgrounds are left alone.
fn ensure_contrast(css: &str, bg: (u8, u8, u8), dark: bool) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(i) = rest.find("color: #") {
        let is_background = rest[..i].ends_with("background-");
        out.push_str(&rest[..i + "color: #".len()]);
        rest = &rest[i + "color: #".len()..];
        let hex = &rest[..rest.len().min(6)];
        if let (false, Some(fg)) = (is_background, parse_hex(hex)) {
            let fixed = raise_contrast(fg, bg, dark);
            out.push_str(&format!("{:02x}{:02x}{:02x}", fixed.0, fixed.1, fixed.2));
            rest = &rest[6..];
        }
    }
    out.push_str(rest);
    out
}

fn parse_hex(hex: &str) -> Option<(u8, u8, u8)> {
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some(((n >> 16) as u8, (n >> 8) as u8, n as u8))
}

/// WCAG contrast ratio of two sRGB colours.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    fn luminance(c: (u8, u8, u8)) -> f64 {
        let channel = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.0) + 0.7152 * channel(c.1) + 0.0722 * channel(c.2)
    }
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn raise_contrast(fg: (u8, u8, u8), bg: (u8, u8, u8), lighten: bool) -> (u8, u8, u8) {
    let target = if lighten {
        (255u8, 255u8, 255u8)
    } else {
        (0, 0, 0)
    };
    let mix = |t: f64| {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        (m(fg.0, target.0), m(fg.1, target.1), m(fg.2, target.2))
    };
    (0..=100)
        .map(|step| mix(f64::from(step) / 100.0))
        .find(|c| contrast(*c, bg) >= 4.6)
        .unwrap_or(target)
}

/// Prefixes every selector of a flat stylesheet (no nested at-rules) with `scope`.
fn scope(css: &str, scope: &str) -> String {
    let mut out = String::with_capacity(css.len() * 2);
    for rule in css.split_inclusive('}') {
        let Some((selectors, body)) = rule.split_once('{') else {
            out.push_str(rule);
            continue;
        };
        // Drop comments before the selector.
        let selectors = match selectors.rfind("*/") {
            Some(i) => &selectors[i + 2..],
            None => selectors,
        };
        let scoped: Vec<String> = selectors
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| format!("{scope} {s}"))
            .collect();
        if scoped.is_empty() {
            continue;
        }
        out.push_str(&scoped.join(", "));
        out.push_str(" {");
        out.push_str(body);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes() {
        let h = Highlighter::global();
        for lang in [
            "rust",
            "python",
            "js",
            "javascript",
            "bash",
            "json",
            "yaml",
            "toml",
            "ts",
            "dockerfile",
            "sh",
        ] {
            assert!(h.knows(lang), "{lang}");
        }
        let mut out = String::new();
        h.highlight_into(&mut out, "fn main() {}\n", "rust");
        assert!(out.contains("class=\"hl-"), "{out}");
        assert!(!out.contains("style="), "{out}");
    }

    #[test]
    fn unknown_language_is_plain_and_escaped() {
        let mut out = String::new();
        Highlighter::global().highlight_into(&mut out, "<b>&", "klingon");
        assert_eq!(out, "&lt;b&gt;&amp;");
    }

    #[test]
    fn token_colours_meet_wcag_aa_on_the_code_background() {
        assert!(contrast((0x96, 0x98, 0x96), LIGHT_CODE_BG) < 4.5);
        let fixed = ensure_contrast(
            ".c { color: #969896; background-color: #ffffff; }",
            LIGHT_CODE_BG,
            false,
        );
        let hex = &fixed[fixed.find("color: #").unwrap() + 8..][..6];
        assert!(
            contrast(parse_hex(hex).unwrap(), LIGHT_CODE_BG) >= 4.5,
            "{fixed}"
        );
        assert!(fixed.contains("background-color: #ffffff"));
        // Light rules against the light background, dark rules against the dark one.
        let themes = two_face::theme::extra();
        let check = |css: &str, bg: (u8, u8, u8)| {
            for (i, _) in css.match_indices("color: #") {
                if css[..i].ends_with("background-") {
                    continue;
                }
                let fg = parse_hex(&css[i + 8..i + 14]).unwrap();
                assert!(contrast(fg, bg) >= 4.5, "{}", &css[i..i + 14]);
            }
        };
        use two_face::theme::EmbeddedThemeName;
        let light = css_for_theme_with_class_style(
            themes.get(EmbeddedThemeName::InspiredGithub),
            CLASS_STYLE,
        )
        .unwrap();
        let dark =
            css_for_theme_with_class_style(themes.get(EmbeddedThemeName::OneHalfDark), CLASS_STYLE)
                .unwrap();
        check(
            &ensure_contrast(&light, LIGHT_CODE_BG, false),
            LIGHT_CODE_BG,
        );
        check(&ensure_contrast(&dark, DARK_CODE_BG, true), DARK_CODE_BG);
    }

    #[test]
    fn cached_highlighting_matches_a_fresh_run() {
        let code = "import requests\n\ndef f():\n    \"\"\"doc\n    more\"\"\"\n    return requests.get('x')\n";
        let h = Highlighter::global();
        let mut first = String::new();
        h.highlight_into(&mut first, code, "python");
        let mut second = String::new();
        h.highlight_into(&mut second, code, "python");
        assert_eq!(first, second);
        // Same lines in a different state (inside a docstring) must not reuse the cached ops.
        let mut inside = String::new();
        h.highlight_into(&mut inside, "\"\"\"\nimport requests\n\"\"\"\n", "python");
        assert!(
            !inside.contains("hl-keyword hl-control hl-import"),
            "{inside}"
        );
        let syntax = h.find("python").unwrap();
        let mut reference = syntect::html::ClassedHTMLGenerator::new_with_class_style(
            syntax,
            &h.syntaxes,
            CLASS_STYLE,
        );
        for line in LinesWithEndings::from(code) {
            reference
                .parse_html_for_line_which_includes_newline(line)
                .unwrap();
        }
        assert_eq!(first, reference.finalize());
    }

    #[test]
    fn css_has_light_and_dark_rules() {
        let css = highlight_css();
        assert!(css.contains(".hl-"));
        assert!(css.contains(":root[data-theme=\"dark\"] .hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }
}
