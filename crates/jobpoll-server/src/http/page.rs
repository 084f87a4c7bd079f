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

/// Every file of the page built into the server, `(path under page/, bytes)`,
/// sorted by path: the page, and the package with whatever files wasm-bindgen
/// wrote (its glue, the module, `snippets/`). Listed by `build.rs`.
const FILES: &[(&str, &[u8])] = &include!(concat!(env!("OUT_DIR"), "/page_files.rs"));

/// The file served at [`PAGE_PATH`].
const INDEX: &str = "index.html";

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The content type of a file the page may serve, by its extension; `None` for
/// any other file.
fn content_type(file: &str) -> Option<&'static str> {
    match file.rsplit_once('.')?.1 {
        "html" => Some(HTML),
        "js" => Some(JS),
        "css" => Some("text/css; charset=utf-8"),
        // `application/wasm` lets the browser compile the module while it arrives.
        "wasm" => Some("application/wasm"),
        _ => None,
    }
}

/// Whether `file` (a path under the page directory, from a URL) names only
/// plain segments: no `..`, no empty or hidden segment, nothing but ASCII
/// letters, digits, `-`, `_` and `.`.
fn plain_path(file: &str) -> bool {
    file.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
    })
}

/// The built-in copy of `file`.
fn embedded(file: &str) -> Option<&'static [u8]> {
    FILES
        .binary_search_by(|(path, _)| (*path).cmp(file))
        .ok()
        .map(|index| FILES[index].1)
}

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
    /// `page.css`, the package under `pkg/`), each file missing there served from
    /// the built-in copy. Fails when `dir` is not a directory.
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
        let file = if path == PAGE_PATH {
            INDEX
        } else {
            path.strip_prefix(ASSET_PREFIX)?
        };
        if !plain_path(file) {
            return None;
        }
        let content_type = content_type(file)?;
        let bytes = self
            .dir
            .as_ref()
            .and_then(|dir| std::fs::read(dir.join(file)).ok())
            .or_else(|| embedded(file).map(<[u8]>::to_vec))?;
        let length = bytes.len();
        let mut response = http::Response::new(if method == Method::HEAD {
            Vec::new()
        } else {
            bytes
        });
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
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
    fn every_file_of_the_package_is_built_in() {
        for file in [
            INDEX,
            "page.js",
            "page.css",
            "pkg/jobpoll_wasm.js",
            "pkg/jobpoll_wasm_bg.wasm",
        ] {
            assert!(embedded(file).is_some(), "{file}");
        }
        // The glue imports what it needs by relative path: each is built in.
        let glue = String::from_utf8_lossy(embedded("pkg/jobpoll_wasm.js").unwrap_or_default());
        for line in glue.lines().filter(|line| line.starts_with("import ")) {
            let Some(target) = line.split(['\'', '"']).nth(1) else {
                continue;
            };
            let file = format!("pkg/{}", target.trim_start_matches("./"));
            assert!(embedded(&file).is_some(), "{file}, imported by the glue");
        }
        assert!(!plain_path("pkg/../Cargo.toml"));
        assert!(!plain_path(".git/config"));
        assert!(!plain_path("pkg//x.js"));
        assert!(plain_path("pkg/snippets/jobpoll-wasm-0a1b/inline0.js"));
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
        assert!(
            page.answer(&Method::GET, "/_jobpoll/page/README.md")
                .is_none()
        );
        assert!(
            page.answer(&Method::GET, "/_jobpoll/page/pkg/STAMP")
                .is_none()
        );
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
        assert_eq!(Some(index.body().as_slice()), embedded(INDEX));
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert!(Page::from_dir(dir.join("missing")).is_err());
    }
}
