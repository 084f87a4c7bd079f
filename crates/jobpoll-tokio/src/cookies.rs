//! A cookie jar that outlives a run: loaded from a file, saved back to it.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write as _};
use std::path::Path;
use std::sync::Arc;

use reqwest_cookie_store::CookieStoreMutex;

/// The cookies of a [`Client`](crate::Client), which can be saved to a file and
/// loaded from it, so that a session a server keeps in a cookie lasts from one run
/// to the next (as curl's `-b`/`-c` do).
///
/// Give it to [`ClientBuilder::cookie_jar`](crate::ClientBuilder::cookie_jar); the
/// client and every clone of the jar share the same cookies. The file holds a
/// JSON array with one object per cookie, as the `cookie_store` crate writes them:
/// its name and value, domain (and whether it is host-only), path, `Secure`,
/// `HttpOnly` and expiry. Session cookies (those with no expiry) are saved too, as
/// curl does; expired cookies are not. The file holds secrets: it is written
/// readable by its owner only (on Unix).
#[derive(Clone, Debug, Default)]
pub struct CookieJar {
    store: Arc<CookieStoreMutex>,
}

/// Why a cookie jar could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
#[error("cookie jar {path}: {message}")]
pub struct CookieJarError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// The jar saved in `path`, or an empty jar when there is no such file. A file
    /// that cannot be read, or that holds something other than saved cookies, is
    /// an error.
    pub fn load(path: &Path) -> Result<CookieJar, CookieJarError> {
        let error = |message: String| CookieJarError {
            path: path.display().to_string(),
            message,
        };
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(CookieJar::new()),
            Err(e) => return Err(error(e.to_string())),
        };
        let store = cookie_store::serde::json::load_all(BufReader::new(file))
            .map_err(|e| error(format!("not a saved cookie jar: {e}")))?;
        Ok(CookieJar {
            store: Arc::new(CookieStoreMutex::new(store)),
        })
    }

    /// Writes the unexpired cookies, session cookies included, to `path` (created
    /// or replaced).
    pub fn save(&self, path: &Path) -> Result<(), CookieJarError> {
        let error = |message: String| CookieJarError {
            path: path.display().to_string(),
            message,
        };
        let cookies: Vec<cookie_store::Cookie<'static>> = {
            let store = self
                .store
                .lock()
                .map_err(|_| error("the cookie store was poisoned".to_owned()))?;
            store.iter_unexpired().cloned().collect()
        };
        let file = create_private(path).map_err(|e| error(e.to_string()))?;
        let mut writer = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut writer, &cookies).map_err(|e| error(e.to_string()))?;
        writeln!(writer).map_err(|e| error(e.to_string()))?;
        writer.flush().map_err(|e| error(e.to_string()))
    }

    /// How many unexpired cookies the jar holds.
    pub fn len(&self) -> usize {
        self.store
            .lock()
            .map_or(0, |store| store.iter_unexpired().count())
    }

    /// Whether the jar holds no unexpired cookie.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The store reqwest uses.
    pub(crate) fn store(&self) -> Arc<CookieStoreMutex> {
        Arc::clone(&self.store)
    }
}

/// Creates or truncates `path`, readable and writable by its owner only on Unix.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_survive_save_and_load_with_their_paths() {
        let jar = CookieJar::new();
        let url = url::Url::parse("http://127.0.0.1:8080/api/v1/jobs/a").expect("url");
        {
            let mut store = jar.store.lock().expect("lock");
            store.parse("session=abc; Path=/", &url).expect("a cookie");
            store
                .parse("theme=dark; Path=/api; Max-Age=3600", &url)
                .expect("a persistent cookie");
        }
        let dir = std::env::temp_dir().join(format!("jobpoll-jar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("jar.json");
        jar.save(&path).expect("saved");
        let loaded = CookieJar::load(&path).expect("loaded");
        assert_eq!(loaded.len(), 2);
        let store = loaded.store.lock().expect("lock");
        let mut sent: Vec<_> = store.get_request_values(&url).collect();
        sent.sort_unstable();
        assert_eq!(sent, vec![("session", "abc"), ("theme", "dark")]);
        let elsewhere = url::Url::parse("http://127.0.0.1:8080/other").expect("url");
        let sent: Vec<_> = store.get_request_values(&elsewhere).collect();
        assert_eq!(sent, vec![("session", "abc")]);
        drop(store);
        assert!(
            CookieJar::load(&dir.join("missing.json"))
                .expect("none")
                .is_empty()
        );
        std::fs::write(&path, "not cookies").expect("write");
        let error = CookieJar::load(&path).expect_err("garbage");
        assert!(error.to_string().contains("jar.json"), "{error}");
    }
}
