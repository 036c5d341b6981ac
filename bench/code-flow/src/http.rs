//! HTTP/1.1 over one kept-alive TCP connection (hyper's client connection, no pool), and a
//! browser on top of it: a cookie jar and no redirect ever followed by itself, so every step
//! of a flow is one request the generator checks.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

use crate::failure::Failure;

/// No request of a healthy run comes near this; one that does is a failure, not a sample.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The `Location` header, if any.
    pub fn location(&self) -> Option<&str> {
        self.headers.get(header::LOCATION).and_then(|value| value.to_str().ok())
    }

    /// The body as text (pages and JSON are UTF-8).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or_default()
    }
}

/// One client connection to the server, opened on first use and again after the server
/// closed it.
pub struct Connection {
    target: SocketAddr,
    /// The local address to connect from (each simulated browser its own, see `main.rs`).
    source: Option<IpAddr>,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// A connection to `target` from `source`, announcing `host`.
    pub fn new(target: SocketAddr, source: Option<IpAddr>, host: HeaderValue) -> Connection {
        Connection { target, source, host, sender: None }
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, Failure> {
        let transport = |e: std::io::Error| Failure::new("connect", "transport", e.to_string());
        let socket = match self.target {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .map_err(transport)?;
        if let Some(source) = self.source {
            socket.bind(SocketAddr::new(source, 0)).map_err(transport)?;
        }
        let stream = socket.connect(self.target).await.map_err(transport)?;
        stream.set_nodelay(true).map_err(transport)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Failure::new("connect", "transport", e.to_string()))?;
        tokio::spawn(connection);
        Ok(self.sender.insert(sender))
    }

    /// Sends `request` (its `Host` is set here) and reads the whole response. A failure
    /// drops the connection; the next request opens a new one. Nothing is retried.
    pub async fn send(&mut self, step: &'static str, mut request: Request<Full<Bytes>>) -> Result<Response, Failure> {
        request.headers_mut().insert(header::HOST, self.host.clone());
        let sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => self.sender.insert(sender),
            _ => self.connect().await?,
        };
        let exchange = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Response { status: parts.status.as_u16(), headers: parts.headers, body })
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => {
                self.sender = None;
                Err(Failure::new(step, "transport", error.to_string()))
            }
            Err(_) => {
                self.sender = None;
                Err(Failure::new(step, "timeout", format!("no response within {REQUEST_TIMEOUT:?}")))
            }
        }
    }
}

/// A browser: a connection and the cookies the server set on it.
pub struct Browser {
    connection: Connection,
    /// Cookie name to value.
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    /// A browser with an empty jar.
    pub fn new(connection: Connection) -> Browser {
        Browser { connection, cookies: BTreeMap::new() }
    }

    /// `GET path` with the jar's cookies; keeps what the response sets.
    pub async fn get(&mut self, step: &'static str, path: &str) -> Result<Response, Failure> {
        let request = self.request(Method::GET, path, Full::default(), None)?;
        self.exchange(step, request).await
    }

    /// `POST path` of a form with the jar's cookies; keeps what the response sets.
    pub async fn post_form(
        &mut self,
        step: &'static str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Response, Failure> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let request = self.request(Method::POST, path, Full::new(Bytes::from(body)), Some(FORM))?;
        self.exchange(step, request).await
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Full<Bytes>,
        content_type: Option<&'static str>,
    ) -> Result<Request<Full<Bytes>>, Failure> {
        let mut builder = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
            builder = builder.header(header::COOKIE, jar.join("; "));
        }
        if let Some(content_type) = content_type {
            builder = builder.header(header::CONTENT_TYPE, content_type);
        }
        builder.body(body).map_err(|e| Failure::new("request", "build", e.to_string()))
    }

    async fn exchange(&mut self, step: &'static str, request: Request<Full<Bytes>>) -> Result<Response, Failure> {
        let response = self.connection.send(step, request).await?;
        for set in response.headers.get_all(header::SET_COOKIE) {
            let Some((name, value)) =
                set.to_str().ok().and_then(|s| s.split(';').next()).and_then(|p| p.split_once('='))
            else {
                continue;
            };
            let expired = set.to_str().is_ok_and(|s| s.contains("Max-Age=0"));
            if value.is_empty() || expired {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Ok(response)
    }
}

/// The media type of a form body.
pub const FORM: &str = "application/x-www-form-urlencoded";

/// `POST path` of a form with HTTP Basic client authentication (RFC 6749 §2.3.1), no cookies:
/// the relying party's back-channel call.
pub fn basic_form_request(
    path: &str,
    basic: &HeaderValue,
    form: &[(&str, &str)],
) -> Result<Request<Full<Bytes>>, Failure> {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, basic.clone())
        .header(header::CONTENT_TYPE, FORM)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| Failure::new("request", "build", e.to_string()))
}
