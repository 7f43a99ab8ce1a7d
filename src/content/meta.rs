//! What the server needs to know about each page without the site model: its title, kind,
//! severity and version. The build writes it to `.helpbook/pages.json`; the production server
//! reads it to give a ticket the page the reader was on, and its priority.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Page, Site, Urgency};

/// Where the build writes the page list, under the output folder.
pub const PAGES_FILE: &str = ".helpbook/pages.json";

/// One page, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    /// The page's path on the site (`/troubleshooting/echo.html`).
    pub url: String,
    /// Its title.
    pub title: String,
    /// Its kind (`troubleshooting`, `guide`…).
    pub kind: String,
    /// How urgent the problem it fixes is, for troubleshooting pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Urgency>,
    /// The `updated` date of its front matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// A fingerprint of its source text: two builds of the same text give the same version, so
    /// support can tell which revision a reader saw.
    pub version: String,
    /// Its file under the content folder.
    pub source: String,
}

impl PageMeta {
    /// The entry for `page`.
    pub fn of(page: &Page) -> PageMeta {
        PageMeta {
            url: format!("/{}", page.url),
            title: page.title.clone(),
            kind: page.kind.as_str().to_string(),
            severity: page.front.severity,
            updated: page.front.updated.map(String::from),
            version: fingerprint(page.text.as_bytes()),
            source: page.source.clone(),
        }
    }
}

/// Every page of `site`, as JSON.
pub fn pages_json(site: &Site) -> String {
    let pages: Vec<PageMeta> = site.pages.iter().map(PageMeta::of).collect();
    serde_json::to_string_pretty(&pages).expect("page metadata serialises")
}

/// The pages of the site built into `out_dir`, by URL path; empty when the build predates the
/// file (the server then goes on without page details).
pub fn read_pages(out_dir: &Path) -> Result<HashMap<String, PageMeta>, String> {
    let path = out_dir.join(PAGES_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let pages: Vec<PageMeta> = serde_json::from_str(&text)
        .map_err(|e| format!("{} is damaged ({e}); build the site again", path.display()))?;
    Ok(pages.into_iter().map(|p| (p.url.clone(), p)).collect())
}

/// 64-bit FNV-1a of `bytes`, as 12 hex digits: stable across builds and platforms.
fn fingerprint(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", hash >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_tells_texts_apart() {
        assert_eq!(fingerprint(b"hello"), fingerprint(b"hello"));
        assert_ne!(fingerprint(b"hello"), fingerprint(b"hello!"));
        assert_eq!(fingerprint(b"").len(), 12);
    }
}
