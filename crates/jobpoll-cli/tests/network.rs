//! What the `jobpoll` binary sends and how it shows it: `-v` logs of each HTTP
//! exchange with secrets masked, TLS options, headers from a file and from
//! `JOBPOLL_TOKEN`, a cookie jar kept between runs, and a quick end when nothing
//! listens at the address.

mod support;

use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jobpoll_server::model::ServerConfig;
use jobpoll_server::plan::JobPlan;
use support::{all, args, code, job_url, serve, serve_with, stderr};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Runs the binary with `args` and `env` (and neither `RUST_LOG` nor
/// `JOBPOLL_TOKEN` from the test's own environment), off the runtime's threads.
async fn run(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    support::run_env(args, &["RUST_LOG", "JOBPOLL_TOKEN"], env).await
}

fn scratch(name: &str) -> PathBuf {
    support::scratch("network", name)
}

fn short_plan() -> JobPlan {
    JobPlan {
        duration: Duration::from_millis(300),
        ..JobPlan::default()
    }
}

/// The body of a submit that creates a job already over.
const SHORT: &str = r#"{"plan":{"duration":0}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verbose_shows_each_exchange_and_never_a_secret() {
    let (_model, server) = serve().await;
    let base = server.base_url();
    let url = format!("{base}/api/v1/demo-job?sig=SIGSECRET99");
    let output = run(
        args(&[
            "submit",
            &url,
            "-d",
            SHORT,
            "--interval",
            "100ms",
            "-H",
            "Authorization: Bearer TOKENSECRET77",
            "-v",
        ]),
        vec![],
    )
    .await;
    let text = all(&output);
    assert_eq!(code(&output), 0, "{text}");
    let log = stderr(&output);
    assert!(log.contains("method=POST"), "{log}");
    assert!(
        log.contains(&format!("url={base}/api/v1/demo-job?sig=*")),
        "{log}"
    );
    assert!(log.contains("status=201"), "{log}");
    assert!(log.contains("method=GET"), "{log}");
    assert!(log.contains("/api/v1/jobs/"), "{log}");
    assert!(log.contains("status=200"), "{log}");
    assert!(log.contains("ms="), "{log}");
    assert!(log.contains("hints=\"location: /api/v1/jobs/"), "{log}");
    assert!(!text.contains("SIGSECRET99"), "{text}");
    assert!(!text.contains("TOKENSECRET77"), "{text}");

    // Without -v, no log; an explicit RUST_LOG wins over -v.
    let quiet = run(
        args(&["submit", &format!("{base}/api/v1/demo-job"), "-d", SHORT]),
        vec![],
    )
    .await;
    assert!(
        !stderr(&quiet).contains("method=POST"),
        "{}",
        stderr(&quiet)
    );
    let filtered = run(
        args(&[
            "submit",
            &format!("{base}/api/v1/demo-job"),
            "-d",
            SHORT,
            "-v",
        ]),
        vec![("RUST_LOG", "warn".to_owned())],
    )
    .await;
    assert!(
        !stderr(&filtered).contains("method=POST"),
        "{}",
        stderr(&filtered)
    );
}

/// A certificate for 127.0.0.1, self-signed, as PEM, and the TLS settings of a
/// server that presents it.
fn self_signed() -> (String, Arc<rustls::ServerConfig>) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("certificate");
    let pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server TLS settings");
    (pem, Arc::new(config))
}

/// An HTTPS front for `backend` on a loopback port: it ends TLS and passes the
/// bytes on. Returns its origin (`https://127.0.0.1:PORT`).
async fn https_front(backend: std::net::SocketAddr, tls: Arc<rustls::ServerConfig>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let origin = format!("https://{}", listener.local_addr().expect("addr"));
    let acceptor = TlsAcceptor::from(tls);
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    origin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_needs_cacert_or_insecure() {
    let (model, server) = serve().await;
    let (pem, tls) = self_signed();
    let origin = https_front(server.addr(), tls).await;
    let plain = job_url(&model, &server, short_plan());
    let url = plain.replacen(&server.base_url(), &origin, 1);
    let wait = |extra: &[&str]| {
        let mut items = args(&["wait", &url, "--interval", "100ms"]);
        items.extend(args(extra));
        items
    };

    let refused = run(wait(&[]), vec![]).await;
    let text = stderr(&refused);
    assert_eq!(code(&refused), 7, "{text}");
    assert!(
        text.contains("the server's certificate is not trusted"),
        "{text}"
    );
    assert!(text.contains("--cacert FILE"), "{text}");

    let cacert = scratch("server.pem");
    std::fs::write(&cacert, &pem).expect("write the certificate");
    let trusted = run(wait(&["--cacert", &cacert.display().to_string()]), vec![]).await;
    assert_eq!(code(&trusted), 0, "{}", all(&trusted));
    assert!(
        !stderr(&trusted).contains("--insecure"),
        "{}",
        stderr(&trusted)
    );

    let insecure = run(wait(&["--insecure"]), vec![]).await;
    let text = stderr(&insecure);
    assert_eq!(code(&insecure), 0, "{}", all(&insecure));
    assert!(text.contains("warning: --insecure"), "{text}");
    assert!(text.contains("any certificate and any host name"), "{text}");

    // A --cacert that is missing or not PEM is a usage error naming the file.
    let missing = scratch("missing.pem");
    let output = run(wait(&["--cacert", &missing.display().to_string()]), vec![]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("missing.pem"),
        "{}",
        stderr(&output)
    );
    let garbage = scratch("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let output = run(wait(&["--cacert", &garbage.display().to_string()]), vec![]).await;
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("garbage.pem"),
        "{}",
        stderr(&output)
    );

    // `status` takes the same options.
    let status = run(
        args(&["status", &url, "--cacert", &cacert.display().to_string()]),
        vec![],
    )
    .await;
    assert_eq!(code(&status), 0, "{}", all(&status));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_come_from_a_file_or_the_token_variable_and_stay_secret() {
    let token = "TOKSECRET4242";
    let (model, server) = serve_with(ServerConfig {
        token: Some(token.to_owned()),
        ..ServerConfig::default()
    })
    .await;

    // Without the token the server refuses: the runs below pass only because
    // the header reached it.
    let url = job_url(&model, &server, short_plan());
    let refused = run(args(&["wait", &url, "--interval", "100ms"]), vec![]).await;
    assert_eq!(code(&refused), 5, "{}", all(&refused));

    let file = scratch("headers.txt");
    std::fs::write(
        &file,
        format!("# credentials\n\nAuthorization: Bearer {token}\nX-Team: network\n"),
    )
    .expect("write the header file");
    let trace = scratch("file.jsonl");
    let from_file = run(
        args(&[
            "wait",
            &url,
            "--interval",
            "100ms",
            "-H",
            &format!("@{}", file.display()),
            "--trace",
            &trace.display().to_string(),
            "-vv",
        ]),
        vec![],
    )
    .await;
    assert_eq!(code(&from_file), 0, "{}", all(&from_file));
    assert!(!all(&from_file).contains(token));
    let recorded = std::fs::read_to_string(&trace).expect("trace written");
    assert!(recorded.contains("X-Team"), "{recorded}");
    assert!(!recorded.contains(token), "{recorded}");

    let url = job_url(&model, &server, short_plan());
    let trace = scratch("env.jsonl");
    let from_env = run(
        args(&[
            "wait",
            &url,
            "--interval",
            "100ms",
            "--trace",
            &trace.display().to_string(),
            "-vv",
        ]),
        vec![("JOBPOLL_TOKEN", token.to_owned())],
    )
    .await;
    assert_eq!(code(&from_env), 0, "{}", all(&from_env));
    assert!(!all(&from_env).contains(token));
    let recorded = std::fs::read_to_string(&trace).expect("trace written");
    assert!(!recorded.contains(token), "{recorded}");

    // An Authorization given with -H wins over the variable.
    let url = job_url(&model, &server, short_plan());
    let overridden = run(
        args(&["wait", &url, "-H", "Authorization: Bearer wrong"]),
        vec![("JOBPOLL_TOKEN", token.to_owned())],
    )
    .await;
    assert_eq!(code(&overridden), 5, "{}", all(&overridden));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_jar_carries_a_session_to_the_next_run() {
    let (model, server) = serve().await;
    // The first answer about this job sets a session cookie; every later request
    // about it without that session is refused with a 401.
    let url = job_url(
        &model,
        &server,
        JobPlan {
            session_cookie: true,
            ..short_plan()
        },
    );
    let jar = scratch("jar.json");
    let jar_arg = jar.display().to_string();
    let first = run(
        args(&[
            "wait",
            &url,
            "--interval",
            "100ms",
            "--cookie-jar",
            &jar_arg,
        ]),
        vec![],
    )
    .await;
    assert_eq!(code(&first), 0, "{}", all(&first));
    let saved = std::fs::read_to_string(&jar).expect("the jar is saved");
    assert!(saved.contains("session"), "{saved}");

    // A run without the jar has no session: its first request is refused.
    let without = run(args(&["wait", &url]), vec![]).await;
    assert_eq!(code(&without), 5, "{}", all(&without));

    // With the jar, the first request carries the session.
    let second = run(args(&["wait", &url, "--cookie-jar", &jar_arg]), vec![]).await;
    assert_eq!(code(&second), 0, "{}", all(&second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_where_nothing_listens_ends_quickly_with_its_own_code() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}/api/v1/jobs/job-1");
    let started = Instant::now();
    let output = run(args(&["wait", &url]), vec![]).await;
    let took = started.elapsed();
    let text = stderr(&output);
    assert_eq!(code(&output), 7, "{text}");
    assert!(took < Duration::from_secs(10), "took {took:?}: {text}");
    assert!(
        text.contains(&format!(
            "could not connect to 127.0.0.1:{port} (3 attempts"
        )),
        "{text}"
    );

    let output = run(args(&["wait", &url, "--connect-retries", "0"]), vec![]).await;
    let text = stderr(&output);
    assert_eq!(code(&output), 7, "{text}");
    assert!(text.contains("(1 attempt:"), "{text}");

    // Many jobs: the same exit code, and the advice once for all of them.
    let other = format!("http://127.0.0.1:{port}/api/v1/jobs/job-2");
    let output = run(args(&["wait", &url, &other]), vec![]).await;
    let text = stderr(&output);
    assert_eq!(code(&output), 7, "{text}");
    let advice = format!("jobpoll: could not connect to 127.0.0.1:{port}");
    assert_eq!(text.matches(advice.as_str()).count(), 1, "{text}");
}
