//! The page at `/`: a small dashboard on the browser driver that lists the jobs
//! it waits on, submits demo jobs, cancels them, and pauses and resumes polling.
//!
//! Its files are built into the server (`page/` in this crate: the page and the
//! browser driver's package, a committed build of `jobpoll-wasm`), so the server
//! serves it without a wasm toolchain. [`Page::from_dir`] serves a directory laid
//! out the same way instead (a fresh build of the package, the page in
//! development); a file missing there is served from the built-in copy.
//!
//! The page's files are answered here, before the model: they are neither
//! logged nor counted.

use std::path::{Path, PathBuf};

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue, X_CONTENT_TYPE_OPTIONS};
use http::{Method, StatusCode};

/// The path of the page.
pub const PAGE_PATH: &str = "/";

/// Where the page's files live under the server's own prefix.
const ASSET_PREFIX: &str = "/_jobpoll/page/";

/// One file of the page.
struct Asset {
    /// Its path inside the page directory (and after [`ASSET_PREFIX`]).
    file: &'static str,
    content_type: &'static str,
    /// The built-in copy.
    bytes: &'static [u8],
}

macro_rules! asset {
    ($file:literal, $type:expr) => {
        Asset {
            file: $file,
            content_type: $type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/page/", $file)),
        }
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page; the first is served at [`PAGE_PATH`].
const ASSETS: [Asset; 5] = [
    asset!("index.html", HTML),
    asset!("page.js", JS),
    asset!("page.css", "text/css; charset=utf-8"),
    asset!("pkg/jobpoll_wasm.js", JS),
    // `application/wasm` lets the browser compile the module while it arrives.
    asset!("pkg/jobpoll_wasm_bg.wasm", "application/wasm"),
];

/// Where the page's files come from.
#[derive(Clone, Debug, Default)]
pub struct Page {
    dir: Option<PathBuf>,
}

impl Page {
    /// The page built into the server.
    pub fn embedded() -> Page {
        Page { dir: None }
    }

    /// The page read from `dir` at every request (`index.html`, `page.js`,
    /// `page.css`, `pkg/jobpoll_wasm.js`, `pkg/jobpoll_wasm_bg.wasm`), each file
    /// missing there served from the built-in copy. Fails when `dir` is not a
    /// directory.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Result<Page, String> {
        let dir = dir.into();
        if !dir.is_dir() {
            return Err(format!(
                "the page directory {} does not exist or is not a directory",
                dir.display()
            ));
        }
        Ok(Page { dir: Some(dir) })
    }

    /// The directory the page is read from, if not built in.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The answer to `method` at `path` when it names a file of the page
    /// (`GET` or `HEAD`).
    pub(crate) fn answer(&self, method: &Method, path: &str) -> Option<http::Response<Vec<u8>>> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let asset = if path == PAGE_PATH {
            &ASSETS[0]
        } else {
            let file = path.strip_prefix(ASSET_PREFIX)?;
            ASSETS.iter().find(|asset| asset.file == file)?
        };
        let bytes = self
            .dir
            .as_ref()
            .and_then(|dir| std::fs::read(dir.join(asset.file)).ok())
            .unwrap_or_else(|| asset.bytes.to_vec());
        let length = bytes.len();
        let mut response = http::Response::new(if method == Method::HEAD {
            Vec::new()
        } else {
            bytes
        });
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        // A rebuilt package is picked up on the next load.
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(length));
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_package_have_their_content_types() {
        let page = Page::embedded();
        let index = page.answer(&Method::GET, "/").expect("the page");
        assert_eq!(index.headers()[CONTENT_TYPE], HTML);
        assert!(String::from_utf8_lossy(index.body()).contains("page.js"));
        let wasm = page
            .answer(&Method::GET, "/_jobpoll/page/pkg/jobpoll_wasm_bg.wasm")
            .expect("the module");
        assert_eq!(wasm.headers()[CONTENT_TYPE], "application/wasm");
        assert!(wasm.body().starts_with(b"\0asm"));
        let glue = page
            .answer(&Method::HEAD, "/_jobpoll/page/pkg/jobpoll_wasm.js")
            .expect("the glue");
        assert_eq!(glue.headers()[CONTENT_TYPE], JS);
        assert!(glue.body().is_empty());
        assert_ne!(glue.headers()[http::header::CONTENT_LENGTH], "0");
    }

    #[test]
    fn other_paths_and_methods_are_left_to_the_model() {
        let page = Page::embedded();
        assert!(page.answer(&Method::POST, "/").is_none());
        assert!(page.answer(&Method::GET, "/api/v1/jobs").is_none());
        assert!(
            page.answer(&Method::GET, "/_jobpoll/page/../Cargo.toml")
                .is_none()
        );
        assert!(page.answer(&Method::GET, "/_jobpoll/page/").is_none());
    }

    #[test]
    fn a_directory_overrides_the_files_it_has() {
        let dir = std::env::temp_dir().join(format!("jobpoll-page-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("page.css"), "body { color: red }").expect("write");
        let page = Page::from_dir(&dir).expect("a directory");
        let css = page
            .answer(&Method::GET, "/_jobpoll/page/page.css")
            .expect("the style");
        assert_eq!(css.body(), b"body { color: red }");
        let index = page.answer(&Method::GET, "/").expect("the page");
        assert_eq!(index.body(), ASSETS[0].bytes);
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert!(Page::from_dir(dir.join("missing")).is_err());
    }
}
