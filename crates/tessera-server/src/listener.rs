//! The connection edge: accepts TCP (and TLS) connections and serves HTTP/1.1 on each with
//! hyper directly, because `axum::serve` has no knobs for what a hostile client does to a
//! server (`[http]` in docs/CONFIG.md):
//!
//! - a cap on connections served at once (a semaphore taken *before* `accept`, so that the
//!   excess waits in the kernel's backlog instead of holding file descriptors here);
//! - a header-read timeout (hyper's, which also bounds the wait for the next request on a
//!   kept-alive connection) and the same bound on a TLS handshake;
//! - an idle timeout: a connection that moves no byte either way is closed, which also ends a
//!   client that stops reading its response;
//! - a drain deadline on shutdown: in-flight requests finish, kept-alive connections close,
//!   and whatever is still open after `shutdown_grace` is dropped.
//!
//! The body-read deadline is a layer of the router (see `app::router`).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use crate::config::HttpConfig;

/// How long to pause accepting after an `accept` error (out of file descriptors, say), so the
/// loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` completes, then drains within `shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    http: &HttpConfig,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let max = http.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (stop, stopping) = watch::channel(Phase::Serving);
    let edge = Arc::new(Edge { header_read_timeout: http.header_read_timeout, idle_timeout: http.idle_timeout });
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = &mut shutdown => break,
        };
        let Ok(permit) = permit else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (app, edge, tls, stopping) = (app.clone(), Arc::clone(&edge), tls.clone(), stopping.clone());
        tokio::spawn(async move {
            edge.connection(stream, peer, app, tls, stopping).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(Phase::Draining);
    // Every connection holds one permit: all of them back means all connections are closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(http.shutdown_grace, permits.acquire_many(all)).await.is_err() {
        tracing::warn!(grace = ?http.shutdown_grace, "connections still open after the shutdown grace; dropping them");
        let _ = stop.send(Phase::Closing);
        // The connections see the change at their next poll and drop themselves.
        let _ = tokio::time::timeout(ACCEPT_BACKOFF, permits.acquire_many(all)).await;
    }
}

/// What the server is doing, as each connection learns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Serving requests.
    Serving,
    /// Shutdown: finish what is in flight, keep nothing alive.
    Draining,
    /// The grace is over: close now.
    Closing,
}

/// The per-connection settings.
struct Edge {
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl Edge {
    async fn connection(
        &self,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        app: Router,
        tls: Option<TlsAcceptor>,
        stopping: watch::Receiver<Phase>,
    ) {
        let activity = Activity::new();
        let stream = Tracked { inner: stream, activity: Arc::clone(&activity) };
        match tls {
            None => self.http(stream, peer, app, activity, stopping).await,
            Some(acceptor) => match tokio::time::timeout(self.header_read_timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => self.http(stream, peer, app, activity, stopping).await,
                Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            },
        }
    }

    async fn http<I>(
        &self,
        io: I,
        peer: SocketAddr,
        app: Router,
        activity: Arc<Activity>,
        mut stopping: watch::Receiver<Phase>,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move { app.call(request).await }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(self.header_read_timeout);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let idle = activity.idle_for(self.idle_timeout);
        tokio::pin!(idle);
        let mut draining = false;
        loop {
            let phase = *stopping.borrow_and_update();
            if phase == Phase::Closing {
                return;
            }
            if phase == Phase::Draining && !draining {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                    return;
                }
                changed = stopping.changed() => {
                    if changed.is_err() {
                        // The server is gone: nothing will drain this connection.
                        return;
                    }
                }
                () = &mut idle => {
                    tracing::debug!("idle connection closed");
                    return;
                }
            }
        }
    }
}

/// When a connection last moved a byte, in milliseconds since `start`.
struct Activity {
    start: Instant,
    last: AtomicU64,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity { start: Instant::now(), last: AtomicU64::new(0) })
    }

    fn touch(&self) {
        let elapsed = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(elapsed, Ordering::Relaxed);
    }

    /// Completes once no byte has moved for `limit`.
    async fn idle_for(self: Arc<Self>, limit: Duration) {
        loop {
            let deadline = self.start + Duration::from_millis(self.last.load(Ordering::Relaxed)) + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A stream that records its progress in [`Activity`].
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Tracked<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tracked<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
