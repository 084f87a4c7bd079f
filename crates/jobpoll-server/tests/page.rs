//! The page at `/` in headless Chromium, driven over WebDriver (chromedriver):
//! the reference server runs in process, the page submits demo jobs with the
//! browser driver, and the test clicks as a person would and reads what the page
//! shows: a job that succeeds, one that fails, one cancelled with its button
//! (the server confirms the cancel), a reload in the middle of a running job
//! (listed again after it by the driver's `restore`, then cancelled with the
//! driver's `stop`), pause and resume. It
//! leaves a screenshot at `target/page-screenshot.png` and prints its path.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium
//! chromium-driver`), found on PATH or at `$CHROMIUM` and `$CHROMEDRIVER`.
//! Without them the test says so loudly and passes, except under `CI=true`,
//! where it fails. `JOBPOLL_PAGE_DIR=DIR` serves the page from DIR instead of
//! the built-in copy (a package fresh from `crates/jobpoll-wasm/pack.sh`).

use std::io::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use http::Method;
use jobpoll_server::http::{Page, ServeOptions, Server, SharedModel};
use jobpoll_server::model::Truth;
use serde_json::{Value, json};

/// How long the page may take to show what the test waits for.
const PATIENCE: Duration = Duration::from_secs(40);

/// A program on PATH, or at the path in `variable`.
fn program(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// chromedriver, stopped when dropped.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    fn start(program: &Path) -> Chromedriver {
        // A free port: bound, read, released for chromedriver to take.
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", program.display()));
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let started = Instant::now();
        while TcpStream::connect(address).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Chromedriver {
            child,
            url: format!("http://{address}"),
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a script run in the page returns.
async fn eval(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|error| panic!("{script}: {error}"))
}

/// Waits until `script` (an expression) is truthy in the page; its value.
async fn until(client: &Client, what: &str, script: &str) -> Value {
    let started = Instant::now();
    loop {
        let value = eval(client, &format!("return ({script}) || null;")).await;
        if !value.is_null() && value != json!(false) {
            return value;
        }
        if started.elapsed() > PATIENCE {
            let rows = eval(
                client,
                "return [...document.querySelectorAll('#jobs tbody tr')].map(r => r.dataset.kind + ' ' + r.dataset.state + ': ' + r.innerText.replace(/\\s+/g, ' '));",
            )
            .await;
            let error = eval(
                client,
                "return document.querySelector('#error').textContent;",
            )
            .await;
            panic!("{what}: not seen in {PATIENCE:?}; rows: {rows:#}; page error: {error}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
        .click()
        .await
        .unwrap_or_else(|error| panic!("clicking {css}: {error}"));
}

/// The CSS selector of the row of the server's job `id`.
fn by_job(id: &str) -> String {
    format!("#jobs tbody tr[data-job-id=\"{id}\"]")
}

/// Waits for the newest slow job to run on the server; its id there.
async fn running_job(client: &Client) -> String {
    let id = until(
        client,
        "the slow job created, with its id",
        &format!(
            "{r} && {r}.dataset.state === 'running' && {r}.dataset.jobId",
            r = row("slow")
        ),
    )
    .await;
    id.as_str().expect("a job id").to_owned()
}

/// Waits for the row of job `id` to show it cancelled with the server's
/// confirmation, and checks that the server did cancel it, asked once.
async fn cancelled(client: &Client, model: &SharedModel, id: &str) {
    until(
        client,
        "the job cancelled, confirmed by the server",
        &format!(
            "(document.querySelector('{}[data-state=cancelled]') || {{}}).textContent?.includes('the server confirmed')",
            by_job(id)
        ),
    )
    .await;
    assert!(
        matches!(model.truth(id), Some(Truth::Cancelled { .. })),
        "{:?}",
        model.truth(id)
    );
    assert_eq!(
        model.request_count(&Method::POST, &format!("/api/v1/jobs/{id}/cancel")),
        1
    );
}

/// The row of the demo job of `kind`, the newest first.
fn row(kind: &str) -> String {
    format!("document.querySelector('#jobs tbody tr[data-kind=\"{kind}\"]')")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_runs_jobs_to_their_outcomes_in_chromium() {
    let (Some(driver), Some(chromium)) = (
        program("CHROMEDRIVER", &["chromedriver"]),
        program(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        ),
    ) else {
        let message = "the page test needs chromium and chromedriver \
                       (apt-get install chromium chromium-driver)";
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("{message}");
        }
        // Written to the process's stderr, past the test harness's capture, so
        // that the skip shows in a passing run.
        let _ = writeln!(
            std::io::stderr(),
            "\n\nWARNING: the page test was SKIPPED: {message}\n\n"
        );
        return;
    };

    let page = match std::env::var_os("JOBPOLL_PAGE_DIR") {
        Some(dir) => Page::from_dir(PathBuf::from(dir)).expect("JOBPOLL_PAGE_DIR"),
        None => Page::embedded(),
    };
    let model = SharedModel::new(ServeOptions::default());
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let server = Server::start_with_page(listener, model.clone(), page)
        .await
        .expect("serve");
    let base = server.base_url();

    let chromedriver = Chromedriver::start(&driver);
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,860"],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&chromedriver.url)
        .await
        .expect("a WebDriver session");

    // The steps run in a task of their own, so that the browser is closed even
    // when one fails (chromedriver leaves it running otherwise).
    let steps = tokio::spawn(steps(client.clone(), model, base)).await;
    let _ = client.close().await;
    drop(chromedriver);
    server.shutdown().await;
    if let Err(error) = steps {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// What the test does in the page at `base`, served from `model`.
async fn steps(client: Client, model: SharedModel, base: String) {
    client.goto(&format!("{base}/")).await.expect("the page");
    until(
        &client,
        "the page started",
        "document.body.dataset.ready === 'true'",
    )
    .await;

    // A slow job cancelled with its button: the server confirms.
    click(&client, "button[data-demo=slow]").await;
    let first = running_job(&client).await;
    click(&client, &format!("{} button.cancel", by_job(&first))).await;
    cancelled(&client, &model, &first).await;

    // Another slow job, then a reload while it runs: still listed, running.
    click(&client, "button[data-demo=slow]").await;
    let second = running_job(&client).await;
    assert_ne!(first, second);
    client.refresh().await.expect("reload");
    until(
        &client,
        "the page started again",
        "document.body.dataset.ready === 'true'",
    )
    .await;
    // The driver itself picks the job up again from localStorage.
    let resumed_by = eval(&client, "return document.body.dataset.resume;").await;
    assert_eq!(
        resumed_by,
        json!("restore"),
        "resumed by the driver's restore()"
    );
    until(
        &client,
        "the slow job listed again after the reload, still running",
        &format!(
            "document.querySelector('{}[data-state=running][data-kind=slow]')",
            by_job(&second)
        ),
    )
    .await;

    // One that succeeds and one that fails, side by side.
    click(&client, "button[data-demo=succeed]").await;
    click(&client, "button[data-demo=fail]").await;
    until(
        &client,
        "the job that succeeds, with its result link",
        &format!(
            "{r} && {r}.dataset.state === 'succeeded' && {r}.querySelector('.result a')",
            r = row("succeed")
        ),
    )
    .await;
    let failed = until(
        &client,
        "the job that fails, with the server's message",
        &format!(
            "{r} && {r}.dataset.state === 'failed' && {r}.querySelector('.result').textContent",
            r = row("fail")
        ),
    )
    .await;
    assert!(
        failed
            .as_str()
            .is_some_and(|text| text.contains("the archive disk is full")),
        "{failed}"
    );

    // The job from before the reload can be cancelled too: the page stops the
    // restored wait with the driver's `stop(id)`.
    click(&client, &format!("{} button.cancel", by_job(&second))).await;
    cancelled(&client, &model, &second).await;

    // Pause and resume.
    click(&client, "#pause").await;
    until(
        &client,
        "polling paused",
        "document.body.dataset.paused === 'true'",
    )
    .await;
    click(&client, "#pause").await;
    until(
        &client,
        "polling resumed",
        "document.body.dataset.paused === 'false'",
    )
    .await;

    // A job still running, for the picture.
    click(&client, "button[data-demo=throttled]").await;
    click(&client, "button[data-demo=slow]").await;
    until(
        &client,
        "a running job with progress",
        &format!(
            "{r} && {r}.dataset.state === 'running' && {r}.querySelector('.percent').textContent !== ''",
            r = row("slow")
        ),
    )
    .await;
    // URLs are read as `fetch` reads them, by the package as it ships (built
    // without Unicode tables of its own): relative to the page, and with a host
    // written in full-width digits, which is the same host.
    let read = client
        .execute_async(
            r#"
            const done = arguments[arguments.length - 1];
            const { jobs } = window.jobpollPage;
            const wide = location.hostname.replace(/[0-9.]/g, (c) =>
              c === "." ? "\uFF0E" : String.fromCharCode(0xff10 + Number(c)));
            const plan = { plan: { duration: 300000 } };
            const options = { body: plan, preset: "fast", persist: false };
            const read = (url) => jobs.submit(url, options).then(
              (outcome) => outcome.outcome + " " + outcome.summary,
              (error) => "rejected " + error);
            Promise.all([
              read("/api/v1/relative-job"),
              read(`http://${wide}:${location.port}/api/v1/wide-job`),
            ]).then(done);
            "#,
            Vec::new(),
        )
        .await
        .expect("the script runs");
    assert_eq!(
        read.as_array().map(|outcomes| outcomes
            .iter()
            .map(|o| o.as_str().unwrap_or("").split(' ').next().unwrap_or(""))
            .collect::<Vec<_>>()),
        Some(vec!["succeeded", "succeeded"]),
        "{read}"
    );

    let png = client.screenshot().await.expect("a screenshot");
    let path = screenshot_path();
    std::fs::write(&path, &png).expect("write the screenshot");
    eprintln!("screenshot of the page: {}", path.display());
}

/// `target/page-screenshot.png`, in the target directory the test runs from.
fn screenshot_path() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("page-screenshot.png")
}
