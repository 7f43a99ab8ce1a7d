//! Code highlighting with syntect: CSS classes, never inline styles.
//!
//! Classes keep the HTML small and let one page follow the reader's light or dark preference
//! with two stylesheets ([`highlight_css`]). The syntax set is syntect's defaults plus bat's
//! extras from two-face (TOML, TypeScript, Dockerfile, …); it is loaded once per process.
//! An unknown language renders as plain, escaped text.

use std::borrow::{Borrow, Cow};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;
use syntect::html::{ClassStyle, css_for_theme_with_class_style};
use syntect::parsing::{
    BasicScopeStackOp, ParseState, Scope, ScopeError, ScopeStack, ScopeStackOp, SyntaxReference,
    SyntaxSet,
};
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
        let mut state = Rc::new(ParseState::new(syntax));
        let mut scopes = ScopeStack::new();
        let mut open_spans: isize = 0;
        let syntax_key = syntax as *const SyntaxReference as usize;
        let done = CLASSES.with(|classes| {
            let classes = &mut classes.borrow_mut();
            for line in LinesWithEndings::from(code) {
                // A grammar failure must not lose the code: it is shown plain.
                let ops = self.parse_line_cached(syntax_key, &mut state, line)?;
                open_spans += push_line(out, line, &ops, &mut scopes, classes).ok()?;
            }
            Some(())
        });
        if done.is_none() {
            out.truncate(start);
            push_escaped(out, code);
            return;
        }
        for _ in 0..open_spans.max(0) {
            out.push_str("</span>");
        }
    }

    /// Parses one line, reusing an earlier result for the same line text in the same parser
    /// state. Documentation repeats lines a lot (imports, headers, `curl -H "Authorization…"`),
    /// and the regex work dominates a build, so this is where the time goes. States are shared
    /// (`Rc`), so a hit costs a hash lookup and, mostly, a pointer comparison.
    fn parse_line_cached(
        &self,
        syntax_key: usize,
        state: &mut Rc<ParseState>,
        line: &str,
    ) -> Option<Rc<[(usize, ScopeStackOp)]>> {
        let line = &*fold_digits(line);
        LINE_CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            let key = (syntax_key, line);
            if let Some(entries) = cache.get(&key as &dyn CacheKey) {
                // `Rc` equality compares pointers first.
                if let Some((_, ops, after)) = entries.iter().find(|(before, ..)| before == state) {
                    *state = after.clone();
                    return Some(ops.clone());
                }
            }
            let mut next = ParseState::clone(state);
            let ops: Rc<[(usize, ScopeStackOp)]> =
                next.parse_line(line, &self.syntaxes).ok()?.into();
            // Most lines leave the state as it was: keep the same `Rc` for fast comparisons.
            let next = if next == **state {
                state.clone()
            } else {
                Rc::new(next)
            };
            if cache.len() >= LINE_CACHE_LIMIT {
                cache.clear();
            }
            cache
                .entry((syntax_key, line.to_string()))
                .or_default()
                .push((state.clone(), ops.clone(), next.clone()));
            *state = next;
            Some(ops)
        })
    }
}

/// Appends `line` with a `<span>` per scope to `out` and returns how many spans were opened
/// minus closed: syntect's `line_tokens_to_classed_spans`, writing in place, with each scope's
/// class list built once per thread instead of under the global scope repository's lock.
fn push_line(
    out: &mut String,
    line: &str,
    ops: &[(usize, ScopeStackOp)],
    scopes: &mut ScopeStack,
    classes: &mut FxHashMap<Scope, Box<str>>,
) -> Result<isize, ScopeError> {
    let mut done = 0;
    let mut delta = 0;
    // An opened span with nothing in it yet is removed again when it closes.
    let mut empty_span: Option<usize> = None;
    for (i, op) in ops {
        let i = (*i).min(line.len());
        if i > done {
            empty_span = None;
            push_escaped(out, &line[done..i]);
            done = i;
        }
        scopes.apply_with_hook(op, |basic, _| match basic {
            BasicScopeStackOp::Push(scope) => {
                empty_span = Some(out.len());
                out.push_str("<span class=\"");
                out.push_str(classes.entry(scope).or_insert_with(|| class_list(scope)));
                out.push_str("\">");
                delta += 1;
            }
            BasicScopeStackOp::Pop => {
                match empty_span.take() {
                    Some(start) => out.truncate(start),
                    None => out.push_str("</span>"),
                }
                delta -= 1;
            }
        })?;
    }
    push_escaped(out, &line[done..]);
    Ok(delta)
}

/// `hl-source hl-rust` for the scope `source.rust`.
fn class_list(scope: Scope) -> Box<str> {
    let ClassStyle::SpacedPrefixed { prefix } = CLASS_STYLE else {
        unreachable!("the class style is prefixed")
    };
    let name = scope.build_string();
    let mut classes = String::with_capacity(name.len() * 2);
    for (n, atom) in name.split('.').enumerate() {
        if n > 0 {
            classes.push(' ');
        }
        classes.push_str(prefix);
        classes.push_str(atom);
    }
    classes.into()
}

/// The line as the parser sees it: the digits of number literals folded to one representative
/// per class that grammars tell apart (0, 1, 2–7, 8–9: binary, octal and decimal literals keep
/// their kind), so lines that differ only in numbers — ports, ids, timeouts, the bulk of the
/// variation in code samples — share one parse. Digits inside words (`f32`, `x86_64`, `0x1F`,
/// `sha256`) are left alone: they can make a keyword. The byte length is unchanged, so the ops
/// apply to the real line.
fn fold_digits(line: &str) -> Cow<'_, str> {
    let fold = |b: u8| match b {
        b'2'..=b'7' => b'2',
        b'9' => b'8',
        other => other,
    };
    let mut out: Option<Vec<u8>> = None;
    // Whether the byte before is part of a word (a letter, `_`, or a digit within a word).
    let mut in_word = false;
    for (i, b) in line.bytes().enumerate() {
        if b.is_ascii_digit() {
            let folded = fold(b);
            if !in_word && folded != b {
                out.get_or_insert_with(|| line.as_bytes().to_vec())[i] = folded;
            }
        } else {
            in_word = b.is_ascii_alphabetic() || b == b'_';
        }
    }
    match out {
        Some(bytes) => Cow::Owned(String::from_utf8(bytes).expect("only ASCII digits changed")),
        None => Cow::Borrowed(line),
    }
}

/// Lines remembered per thread before the cache is emptied (bounds memory on huge sites).
const LINE_CACHE_LIMIT: usize = 200_000;

type LineEntries = Vec<(Rc<ParseState>, Rc<[(usize, ScopeStackOp)]>, Rc<ParseState>)>;

thread_local! {
    static CLASSES: RefCell<FxHashMap<Scope, Box<str>>> = RefCell::new(FxHashMap::default());
    static LINE_CACHE: RefCell<FxHashMap<(usize, String), LineEntries>> = RefCell::new(FxHashMap::default());
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

/// The stylesheet for highlighted code: a light theme and a dark one, each scoped to where it
/// applies (`[data-theme]` forced by the toggle, else `prefers-color-scheme`). The two never
/// apply together, so a light rule more specific than any dark one (the light theme has
/// `.hl-support.hl-type.hl-object.hl-console.hl-js`) cannot leak into dark mode.
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
    css.push_str(&scope(&light, ":root[data-theme=\"light\"]"));
    css.push_str("\n@media not all and (prefers-color-scheme: dark) {\n");
    css.push_str(&scope(&light, ":root:not([data-theme=\"dark\"])"));
    css.push_str("}\n");
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
        assert_eq!(first, fresh(h, code, "python"));
    }

    /// Highlights `code` without the line cache.
    fn fresh(h: &Highlighter, code: &str, lang: &str) -> String {
        let syntax = h.find(lang).unwrap();
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
        reference.finalize()
    }

    #[test]
    fn lines_differing_in_numbers_keep_their_own_digits_and_classes() {
        let h = Highlighter::global();
        let samples = [
            (
                "python",
                "port = 8080\nmode = 0o755\nmask = 0b1010\nx = 3.5e10\n",
            ),
            (
                "python",
                "port = 9191\nmode = 0o644\nmask = 0b0110\nx = 7.25e-3\n",
            ),
            (
                "js",
                "const n = 0x1F + 017 + 089 + 42n;\nfetch('/rooms/4821', { timeout: 30 });\n",
            ),
            (
                "js",
                "const n = 0x2A + 013 + 099 + 77n;\nfetch('/rooms/1093', { timeout: 65 });\n",
            ),
            (
                "bash",
                "sudo kbctl config set auth.session_ttl 359 2>&1\nsleep 15 && echo $1\n",
            ),
            (
                "bash",
                "sudo kbctl config set auth.session_ttl 720 2>&1\nsleep 90 && echo $7\n",
            ),
            (
                "rust",
                "let d = Duration::from_secs(45);\nlet t = (1u8, 2.0f32).0;\n",
            ),
            (
                "rust",
                "let d = Duration::from_secs(98);\nlet t = (7u8, 9.5f32).1;\n",
            ),
            (
                "html",
                "<div class=\"a\">x &amp; y</div>\n<script>let a = 1 < 2;</script>\n",
            ),
            ("json", "{\"a\": [1, 2, {\"b\": null}], \"c\": \"it's\"}\n"),
            ("yaml", "a: 1\nb:\n  - 'x'\n  - \"y\" # note\n"),
        ];
        for (lang, code) in samples {
            let mut cached = String::new();
            h.highlight_into(&mut cached, code, lang);
            assert_eq!(cached, fresh(h, code, lang), "{lang}: {code}");
        }
    }

    #[test]
    fn folded_digits_keep_the_length_and_the_literal_kind() {
        assert!(matches!(fold_digits("no digits"), Cow::Borrowed(_)));
        assert!(matches!(
            fold_digits("0b1010 0x10 f32 x86_64"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            fold_digits("port 9080, mode 0o755, id 4921, 2.5f32, i64"),
            "port 8080, mode 0o755, id 2821, 2.2f32, i64"
        );
    }

    #[test]
    fn css_has_light_and_dark_rules() {
        let css = highlight_css();
        assert!(css.contains(".hl-"));
        assert!(css.contains(":root[data-theme=\"dark\"] .hl-"));
        assert!(css.contains("prefers-color-scheme: dark"));
    }

    /// The light theme's `.hl-support.hl-type.hl-object.hl-console.hl-js` outweighed the dark
    /// rules for `console` and left it light-theme purple on the dark background (3.2:1).
    #[test]
    fn light_token_colours_do_not_leak_into_dark_mode() {
        let css = highlight_css();
        for rule in css.split_inclusive('}') {
            let Some(body) = rule.rfind('{') else {
                continue;
            };
            // After an opening `@media … {` or a comment, if any.
            let selectors = rule[..body].rsplit(['{', '/']).next().unwrap_or_default();
            for selector in selectors.split(',').map(str::trim) {
                assert!(
                    selector.starts_with(":root[data-theme=")
                        || selector.starts_with(":root:not([data-theme="),
                    "every token rule must be scoped to its palette: {selector:?}"
                );
            }
        }
    }
}
