//! A running HTTP server on a bound listener.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{Page, SharedModel, router_with_page};

/// How long [`Server::shutdown`] lets open connections finish before it drops
/// them. Every answer is computed at once, so only a client that stalls
/// mid-request needs this long.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A running server: [`router`](super::router) on a bound listener, in a task of the current tokio
/// runtime.
///
/// Dropping it stops it too (without waiting); [`Server::shutdown`] waits until the
/// port is free.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    model: SharedModel,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `model` on `listener`, in a task spawned on the current tokio runtime
    /// (call it from inside one).
    pub async fn start(listener: TcpListener, model: SharedModel) -> io::Result<Server> {
        Server::start_with_page(listener, model, Page::embedded()).await
    }

    /// Serves `model` on `listener` with `page` at `/` (see [`Server::start`]).
    pub async fn start_with_page(
        listener: TcpListener,
        model: SharedModel,
        page: Page,
    ) -> io::Result<Server> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = router_with_page(model.clone(), page);
        let task = tokio::spawn(async move {
            let signal = async move {
                // A dropped sender stops the server too.
                let _ = stopped.await;
            };
            // `axum::serve` never returns an error: it retries failed accepts.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(signal)
                .await;
        });
        Ok(Server {
            addr,
            model,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Binds `addr` and serves `model` there (see [`Server::start`]).
    pub async fn bind(addr: SocketAddr, model: SharedModel) -> io::Result<Server> {
        Server::start(TcpListener::bind(addr).await?, model).await
    }

    /// Binds a free port on `127.0.0.1` and serves `model` there.
    pub async fn bind_loopback(model: SharedModel) -> io::Result<Server> {
        Server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), model).await
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's origin, `http://127.0.0.1:PORT` (a server listening on every
    /// interface is addressed through loopback).
    pub fn base_url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The model the server serves.
    pub fn model(&self) -> &SharedModel {
        &self.model
    }

    /// Stops accepting connections, lets open ones finish (at most
    /// [`SHUTDOWN_GRACE`], then they are dropped) and returns once the listener is
    /// closed. The [`SharedModel`] keeps its jobs: a new server on the same port
    /// resumes them.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
