//! Navigation: the tree readers move through, from `SUMMARY.md` or from folders.
//!
//! Without a `SUMMARY.md` the tree follows the folders: a folder's `index.md` (or `README.md`,
//! `_index.md`) is its section page, and children sort by `weight`, then urgency (urgent
//! troubleshooting first), then title. The tree gives the sidebar, breadcrumbs and
//! previous/next links; all three are computed per page from the path to the root, so the work
//! per page does not grow with the size of the site.

use std::collections::HashMap;

/// What a navigation entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NavKind {
    /// A page (or a draft chapter with no page).
    Chapter,
    /// A part title (`# Part` in SUMMARY.md).
    Part,
    /// A separator line.
    Separator,
}

/// One entry of the navigation tree.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Chapter, part or separator.
    pub kind: NavKind,
    /// Text shown.
    pub title: String,
    /// The page, when there is one (a draft chapter has none).
    pub page: Option<usize>,
    /// Section number (`1.2.`) for numbered SUMMARY chapters.
    pub number: Option<String>,
    /// Parent entry.
    pub parent: Option<usize>,
    /// Child entries, in order.
    pub children: Vec<usize>,
}

/// The navigation tree of a site.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    /// All entries; parents come before their children.
    pub items: Vec<NavItem>,
    /// Top-level entries, in order.
    pub roots: Vec<usize>,
    /// Page ids in reading order (for previous/next).
    pub order: Vec<usize>,
    /// Page id -> its entry.
    pub page_item: HashMap<usize, usize>,
    /// Page id -> its position in `order`.
    position: HashMap<usize, usize>,
}

impl Nav {
    /// Builds the lookup tables from `items` (whose `page` fields are set).
    pub fn from_items(items: Vec<NavItem>) -> Nav {
        let roots = items
            .iter()
            .enumerate()
            .filter(|(_, it)| it.parent.is_none())
            .map(|(i, _)| i)
            .collect();
        let mut nav = Nav {
            items,
            roots,
            ..Nav::default()
        };
        let roots = nav.roots.clone();
        for root in roots {
            nav.visit(root);
        }
        nav
    }

    fn visit(&mut self, i: usize) {
        if let Some(page) = self.items[i].page
            && !self.page_item.contains_key(&page)
        {
            self.page_item.insert(page, i);
            self.position.insert(page, self.order.len());
            self.order.push(page);
        }
        for child in self.items[i].children.clone() {
            self.visit(child);
        }
    }

    /// Entries from the top down to `item` (inclusive).
    pub fn ancestry(&self, item: usize) -> Vec<usize> {
        let mut chain = vec![item];
        let mut current = item;
        while let Some(parent) = self.items[current].parent {
            chain.push(parent);
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// Previous and next pages in reading order; `None` when the page is not in it.
    pub fn neighbours(&self, page: usize) -> Option<(Option<usize>, Option<usize>)> {
        let pos = *self.position.get(&page)?;
        let prev = pos.checked_sub(1).map(|i| self.order[i]);
        Some((prev, self.order.get(pos + 1).copied()))
    }
}

/// What the folder-derived tree needs to know about a page.
#[derive(Debug, Clone)]
pub(crate) struct FolderEntry {
    /// Page id.
    pub page: usize,
    /// Folder of the page, relative to the content root ("" for the root); for a section page,
    /// the folder it introduces.
    pub dir: String,
    /// Whether it is its folder's section page.
    pub is_index: bool,
    /// Title.
    pub title: String,
    /// Front-matter weight.
    pub weight: Option<i64>,
    /// Urgency rank (0 urgent … 3 none), so urgent fixes come first.
    pub urgency: u8,
}

/// Builds the tree from folders. Every folder that holds pages must have a section page
/// (the caller creates a generated one when the writer did not). The root section page (home)
/// is not part of the tree; its children are the roots.
pub(crate) fn from_folders(entries: &[FolderEntry]) -> Vec<NavItem> {
    // Children of each folder: its pages and the section pages of its sub-folders.
    let mut children: HashMap<&str, Vec<&FolderEntry>> = HashMap::new();
    for e in entries {
        if e.is_index {
            if e.dir.is_empty() {
                continue;
            }
            let parent = parent_dir(&e.dir);
            children.entry(parent).or_default().push(e);
        } else {
            children.entry(e.dir.as_str()).or_default().push(e);
        }
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| {
            a.weight
                .unwrap_or(i64::MAX)
                .cmp(&b.weight.unwrap_or(i64::MAX))
                .then(a.urgency.cmp(&b.urgency))
                .then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
                .then_with(|| a.page.cmp(&b.page))
        });
    }
    let mut items = Vec::new();
    fn add(
        e: &FolderEntry,
        parent: Option<usize>,
        children: &HashMap<&str, Vec<&FolderEntry>>,
        items: &mut Vec<NavItem>,
    ) {
        let idx = items.len();
        items.push(NavItem {
            kind: NavKind::Chapter,
            title: e.title.clone(),
            page: Some(e.page),
            number: None,
            parent,
            children: Vec::new(),
        });
        if e.is_index
            && let Some(kids) = children.get(e.dir.as_str())
        {
            for kid in kids {
                let child = items.len();
                items[idx].children.push(child);
                add(kid, Some(idx), children, items);
            }
        }
    }
    if let Some(kids) = children.get("") {
        for kid in kids {
            add(kid, None, &children, &mut items);
        }
    }
    items
}

/// `a/b/c` -> `a/b`; `a` -> ``.
pub(crate) fn parent_dir(dir: &str) -> &str {
    dir.rfind('/').map_or("", |i| &dir[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        page: usize,
        dir: &str,
        is_index: bool,
        title: &str,
        weight: Option<i64>,
    ) -> FolderEntry {
        FolderEntry {
            page,
            dir: dir.into(),
            is_index,
            title: title.into(),
            weight,
            urgency: 3,
        }
    }

    #[test]
    fn folders_become_a_sorted_tree() {
        let entries = vec![
            entry(0, "", true, "Home", None),
            entry(1, "guides", true, "Guides", Some(2)),
            entry(2, "guides", false, "Zeta", None),
            entry(3, "guides", false, "Alpha", None),
            entry(4, "api", true, "API", Some(3)),
            entry(5, "", false, "FAQ", Some(9)),
            entry(6, "guides/deep", true, "Deep", None),
            entry(7, "guides", false, "First", Some(1)),
        ];
        let nav = Nav::from_items(from_folders(&entries));
        let titles: Vec<&str> = nav
            .roots
            .iter()
            .map(|i| nav.items[*i].title.as_str())
            .collect();
        assert_eq!(titles, ["Guides", "API", "FAQ"]);
        let guides = nav.roots[0];
        let kids: Vec<&str> = nav.items[guides]
            .children
            .iter()
            .map(|i| nav.items[*i].title.as_str())
            .collect();
        assert_eq!(kids, ["First", "Alpha", "Deep", "Zeta"]);
        assert_eq!(nav.order, [1, 7, 3, 6, 2, 4, 5]);
        assert_eq!(nav.neighbours(7), Some((Some(1), Some(3))));
        assert_eq!(nav.neighbours(1), Some((None, Some(7))));
        assert_eq!(nav.neighbours(0), None);
        let deep = nav.page_item[&6];
        assert_eq!(nav.ancestry(deep), [guides, deep]);
    }
}
