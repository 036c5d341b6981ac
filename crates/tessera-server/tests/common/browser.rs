//! A small browser for tests: a cookie jar, no automatic redirects, and the steps of the
//! login and consent pages, so tests can drive the authorization code flow over real HTTP.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, HeaderMap, LOCATION, SET_COOKIE};
use serde_json::Value;
use tessera_core::flows::client_authentication::{NewClient, register_client};
use tessera_core::model::client::{BrowserSettings, GrantType};
use tessera_core::random::SystemRandom;

use super::TestServer;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// What a response was, for assertions.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers.get(LOCATION).map(|v| v.to_str().unwrap().to_owned())
    }

    /// The value of hidden input `name`.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(unescape(&self.body[start..start + end]))
    }

    /// The `action` of the first form.
    pub fn form_action(&self) -> Option<String> {
        let start = self.body.find("action=\"")? + "action=\"".len();
        let end = self.body[start..].find('"')?;
        Some(unescape(&self.body[start..start + end]))
    }

    pub fn is_login_form(&self) -> bool {
        self.body.contains("name=\"password\"")
    }

    pub fn is_consent_page(&self) -> bool {
        self.body.contains("name=\"decision\"")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers.get_all(SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    }
}

/// Undoes the HTML escaping of an attribute value (minijinja escapes `/` too).
fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The parameters of a redirect's query.
pub fn query_of(location: &str) -> BTreeMap<String, String> {
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

pub struct Browser {
    pub base: String,
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(server: &TestServer) -> Browser {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { base: server.base.clone(), http, cookies: BTreeMap::new() }
    }

    fn absolute(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") { path_or_url.to_owned() } else { format!("{}{path_or_url}", self.base) }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        Page { status, headers, body: response.text().await.unwrap() }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self.http.get(self.absolute(path)).header(COOKIE, self.cookie_header()).send().await.unwrap();
        self.read(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response =
            self.http.post(self.absolute(path)).header(COOKIE, self.cookie_header()).form(form).send().await.unwrap();
        self.read(response).await
    }

    /// Follows redirects within the server; stops at a page or at a redirect elsewhere.
    pub async fn follow(&mut self, mut page: Page) -> Page {
        for _ in 0..10 {
            match page.location() {
                Some(location) if location.starts_with('/') || location.starts_with(&self.base) => {
                    page = self.get(&location).await;
                }
                _ => return page,
            }
        }
        panic!("too many redirects");
    }

    /// Gets `url` and follows redirects within the server.
    pub async fn visit(&mut self, url: &str) -> Page {
        let page = self.get(url).await;
        self.follow(page).await
    }

    /// Logs in on `page` and follows redirects within the server.
    pub async fn login_follow(&mut self, page: &Page, email: &str, password: &str) -> Page {
        let next = self.login(page, email, password).await;
        self.follow(next).await
    }

    /// Submits the login form shown on `page`.
    pub async fn login(&mut self, page: &Page, email: &str, password: &str) -> Page {
        assert!(page.is_login_form(), "expected the login form: {} {}", page.status, page.body);
        let action = page.form_action().unwrap();
        let csrf = page.hidden("csrf").unwrap();
        self.post(&action, &[("csrf", &csrf), ("email", email), ("password", password)]).await
    }

    /// Allows on the consent page shown.
    pub async fn consent(&mut self, page: &Page, decision: &str) -> Page {
        assert!(page.is_consent_page(), "expected the consent page: {} {}", page.status, page.body);
        let action = page.form_action().unwrap();
        let csrf = page.hidden("csrf").unwrap();
        self.post(&action, &[("csrf", &csrf), ("decision", decision)]).await
    }

    /// From an authorization URL to the callback, logging in and consenting as asked; returns
    /// the redirect to the client.
    pub async fn authorize(&mut self, url: &str, email: &str, password: &str) -> Page {
        let mut page = self.visit(url).await;
        if page.is_login_form() {
            page = self.login_follow(&page, email, password).await;
        }
        if page.is_consent_page() {
            let next = self.consent(&page, "allow").await;
            page = self.follow(next).await;
        }
        assert_eq!(page.status, 303, "expected the redirect to the client: {}", page.body);
        page
    }
}

/// An authorization URL.
pub fn authorize_url(client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", "code");
    query.append_pair("client_id", client_id);
    query.append_pair("redirect_uri", redirect_uri);
    query.append_pair("scope", "openid email profile");
    query.append_pair("state", "st-1");
    query.append_pair("nonce", "nonce-1");
    query.append_pair("code_challenge", CHALLENGE);
    query.append_pair("code_challenge_method", "S256");
    let mut url = format!("/oauth/authorize?{}", query.finish());
    for (key, value) in extra {
        let mut pair = url::form_urlencoded::Serializer::new(String::new());
        pair.append_pair(key, value);
        url = strip(&url, key);
        if !value.is_empty() {
            url.push('&');
            url.push_str(&pair.finish());
        }
    }
    url
}

fn strip(url: &str, key: &str) -> String {
    let (path, query) = url.split_once('?').unwrap();
    let kept: Vec<&str> = query.split('&').filter(|pair| !pair.starts_with(&format!("{key}="))).collect();
    format!("{path}?{}", kept.join("&"))
}

impl TestServer {
    /// A client of the browser flows; returns its secret (None for a public one).
    pub async fn add_browser_client(
        &self,
        client_id: &str,
        confidential: bool,
        redirect_uri: &str,
        browser: BrowserSettings,
    ) -> Option<String> {
        let request = NewClient {
            client_id: client_id.into(),
            confidential,
            redirect_uris: vec![redirect_uri.to_owned()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            scopes: ["openid", "email", "profile", "address", "phone"].map(String::from).to_vec(),
            browser,
            ..NewClient::default()
        };
        let (_, secret) =
            register_client(&*self.state.store, &SystemRandom::new(), &self.state.pepper, request, self.state.now())
                .await
                .unwrap();
        secret.map(|s| s.expose().to_owned())
    }

    /// Redeems a code at the token endpoint.
    pub async fn redeem(
        &self,
        client_id: &str,
        secret: Option<&str>,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> (u16, Value) {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        if secret.is_none() {
            form.push(("client_id", client_id));
        }
        let (status, body, _) = self.post_form("/oauth/token", &form, secret.map(|s| (client_id, s))).await;
        (status, body)
    }
}
