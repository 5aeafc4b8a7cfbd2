//! The files a results snapshot is made of, and the layout they are published in. Rendering
//! (`results_site`) makes the pages, publication (`results_publish`) adds the data files, the
//! manifest and its signature, stores them and serves them; `canvass results publish --to DIR`
//! writes the same layout, so any static web server serves the same bytes.
//!
//! Layout (URLs under the public listener's `/results/`, paths under `--to DIR`):
//!
//! ```text
//! index.html                              the archive: every election, newest first
//! {election}/index.html                   points at the current snapshot (short cache)
//! {election}/current.json                 the pointer: {"election", "sequence", "published_at", "manifest_sha256"}
//! {election}/s/{sequence}/index.html      the statewide summary          } one immutable
//! {election}/s/{sequence}/...             contests/, counties/, precincts/ } snapshot, served
//! {election}/s/{sequence}/manifest.json   every file's path and SHA-256   } with a long
//! {election}/s/{sequence}/manifest.sig    the node key's signature of it  } cache lifetime
//! ```
//!
//! Links inside a snapshot are relative to the snapshot's root, so a snapshot reads the same
//! wherever it is hosted; `../../current.json` (from the root) is the pointer, and `../../` the
//! election's page that always shows the latest numbers.

use std::sync::Arc;

use time::OffsetDateTime;

/// One file of a snapshot.
#[derive(Debug, Clone)]
pub struct SiteFile {
    /// Relative to the snapshot's root, `/`-separated, no leading `/`: `index.html`,
    /// `contests/contest-01.html`, `summary.json`.
    pub path: String,
    /// The `Content-Type` it is served with.
    pub content_type: &'static str,
    /// Shared: a file kept between publications (a county's NIST files, a precinct page) is
    /// handed to every later snapshot without copying its bytes.
    pub body: Arc<[u8]>,
    /// The body's SHA-256 (lowercase hex) when it is already known: a file kept between
    /// publications keeps its hash with it, so hundreds of megabytes are not hashed again for
    /// every upload. Not part of the file's identity.
    pub sha256: Option<String>,
}

impl PartialEq for SiteFile {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.content_type == other.content_type && self.body == other.body
    }
}

impl Eq for SiteFile {}

impl SiteFile {
    pub fn new(path: impl Into<String>, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self { path: path.into(), content_type, body: Arc::from(body.into()), sha256: None }
    }

    /// The file with its hash computed now, for a file that will be kept and published again.
    pub fn with_sha256(mut self) -> Self {
        self.sha256 = Some(crate::results_publish::sha256_hex(&self.body));
        self
    }
}

/// What a page needs to know about the snapshot it is part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteContext {
    /// The snapshot's number: 1 for an election's first, one more for each accepted change.
    pub sequence: u64,
    /// When the snapshot was made: the "last updated" every page shows.
    pub published_at: OffsetDateTime,
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";
pub const CSV: &str = "text/csv; charset=utf-8";
pub const XML: &str = "application/xml";
pub const CSS: &str = "text/css; charset=utf-8";
pub const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// The file-name part of a contest's or county's URL: the id's last segment (an OCD-ID's
/// `county:wake` becomes `county-wake`), lowercase ASCII letters, digits and `-` only, plus a
/// short hash of the whole id, so two ids whose segments read the same stay apart. Safe in a
/// URL and as a file name on any system; the same id always gives the same slug.
pub fn slug(id: &str) -> String {
    let segment = id.rsplit('/').next().unwrap_or(id);
    let mut slug = String::with_capacity(segment.len() + 7);
    for character in segment.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // A long segment is cut: the hash keeps it unique.
    slug.truncate(48);
    while slug.ends_with('-') {
        slug.pop();
    }
    let hash = canvass_crypto::sha256(&[id.as_bytes()]);
    if !slug.is_empty() {
        slug.push('-');
    }
    for byte in &hash[..3] {
        slug.push_str(&format!("{byte:02x}"));
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_safe_and_unique() {
        assert!(slug("ocd-division/country:us/state:nc/county:wake").starts_with("county-wake-"));
        assert_ne!(
            slug("ocd-division/country:us/state:nc/county:wake"),
            slug("ocd-division/country:us/state:va/county:wake")
        );
        for id in ["../../etc/passwd", "a b/c?d#e", "", "ÉLECTION/été", "..", "x/"] {
            let made = slug(id);
            assert!(
                !made.is_empty()
                    && made.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-'),
                "{id}: {made}"
            );
            assert!(!made.starts_with('-'), "{id}: {made}");
        }
    }
}
