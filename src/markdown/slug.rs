//! Heading ids that people can read and type.

/// Turns a heading into an id: lowercase, letters and digits of any script kept (so Chinese
/// headings keep their characters), spaces and dashes become single `-`, other punctuation is
/// dropped. `"Step 2: Check the mic"` -> `step-2-check-the-mic`, `"检查麦克风"` -> `检查麦克风`.
pub fn slugify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' {
            dash = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn english_headings() {
        assert_eq!(slugify("Step 2: Check the mic"), "step-2-check-the-mic");
        assert_eq!(
            slugify("  Students can't hear me! "),
            "students-cant-hear-me"
        );
        assert_eq!(slugify("GET /v1/rooms/{id}"), "get-v1roomsid");
        assert_eq!(slugify("snake_case-and--dashes"), "snake_case-and-dashes");
    }

    #[test]
    fn chinese_headings_keep_their_characters() {
        assert_eq!(slugify("检查麦克风"), "检查麦克风");
        assert_eq!(slugify("第 1 步：检查网络"), "第-1-步检查网络");
    }

    #[test]
    fn empty_and_punctuation_only() {
        assert_eq!(slugify(""), "");
        assert_eq!(slugify("?!"), "");
    }
}
