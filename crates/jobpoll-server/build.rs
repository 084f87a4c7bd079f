//! Lists the page's files (`page/`, the browser package under `page/pkg/`
//! included, whatever files wasm-bindgen wrote there) for `include_bytes!`:
//! writes `$OUT_DIR/page_files.rs`, an array of `(path, bytes)` sorted by path.
//! Only the HTTP face (feature `http`) serves them; without it the list is
//! empty.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let page = manifest.join("page");
    println!("cargo:rerun-if-changed=page");
    let mut files = Vec::new();
    if std::env::var_os("CARGO_FEATURE_HTTP").is_some() {
        collect(&page, &page, &mut files);
    }
    files.sort();
    let mut table = String::from("[\n");
    for (relative, absolute) in &files {
        let _ = writeln!(
            table,
            "    ({relative:?}, include_bytes!({:?}) as &[u8]),",
            absolute.display().to_string()
        );
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = std::fs::write(out.join("page_files.rs"), table) {
        panic!("cannot write the page's file list: {error}");
    }
}

/// Every file under `dir` that the page may serve, as (path relative to
/// `root` with `/` separators, absolute path).
fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_dir() {
            collect(root, &path, files);
            continue;
        }
        let servable = matches!(
            path.extension().and_then(|extension| extension.to_str()),
            Some("html" | "js" | "css" | "wasm")
        );
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let relative: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        if servable {
            files.push((relative.join("/"), path));
        }
    }
}
