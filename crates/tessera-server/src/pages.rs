//! The server's HTML pages: templates with auto-escaping (minijinja), built in and overridable
//! file by file from `pages.templates`, and the headers every page carries.

use std::path::Path;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;

use crate::startup::StartError;

/// The built-in templates, by name.
const TEMPLATES: [(&str, &str); 7] = [
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("consent.html", include_str!("../templates/consent.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("logout.html", include_str!("../templates/logout.html")),
    ("logged_out.html", include_str!("../templates/logged_out.html")),
    ("form_post.html", include_str!("../templates/form_post.html")),
];

/// The stylesheet at `/assets/tessera.css`.
pub const STYLESHEET: &str = include_str!("../assets/tessera.css");
/// The form-post submitter at `/assets/form_post.js`.
pub const FORM_POST_SCRIPT: &str = include_str!("../assets/form_post.js");

/// Scripts only from this server (no inline script), nothing may frame the pages, and forms
/// and links give away no referrer. `form-action` is left out: Chromium applies it to the
/// redirect that follows a form, and the login form's redirect goes to the client.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

/// The templates in force.
#[derive(Debug)]
pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// The built-in templates, each replaced by a file of the same name in `folder` if there is
    /// one. Every template is compiled now, so a broken override stops the start.
    pub fn load(folder: Option<&Path>) -> Result<Pages, StartError> {
        let mut env = Environment::new();
        for (name, builtin) in TEMPLATES {
            let source = match folder.map(|f| f.join(name)).filter(|p| p.is_file()) {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| StartError::Config(format!("pages.templates: {}: {e}", path.display())))?,
                None => builtin.to_owned(),
            };
            env.add_template_owned(name, source)
                .map_err(|e| StartError::Config(format!("pages.templates: {name}: {e}")))?;
        }
        Ok(Pages { env })
    }

    /// Renders `name` with `context` into a page with the security headers. A template that
    /// fails to render (an override referring to something missing) is a 500 with a plain
    /// message, never the template error.
    pub fn render(&self, status: StatusCode, name: &str, context: minijinja::Value) -> Response {
        match self.env.get_template(name).and_then(|template| template.render(context)) {
            Ok(html) => page(status, html),
            Err(error) => {
                tracing::error!(template = name, %error, "page template failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>Error</title><p>Internal error.</p>".into(),
                )
            }
        }
    }

    /// The error page: `title` and `message` are safe to show.
    pub fn error(&self, status: StatusCode, title: &str, message: &str) -> Response {
        self.render(
            status,
            "error.html",
            minijinja::context! { title => title.to_owned(), message => message.to_owned() },
        )
    }
}

/// An HTML response with the headers every page carries (SPEC §7).
pub fn page(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    secure_page_headers(headers);
    response
}

/// `Content-Security-Policy`, `X-Frame-Options`, `Referrer-Policy`, `Cache-Control: no-store`,
/// `X-Content-Type-Options`: for every page and every redirect a page flow makes.
pub fn secure_page_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// A scope in words for the consent page.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "Confirm who you are".into(),
        "profile" => "See your name and profile".into(),
        "email" => "See your email address".into(),
        "address" => "See your postal address".into(),
        "phone" => "See your phone number".into(),
        "offline_access" => "Stay connected when you are away (refresh tokens)".into(),
        other => format!("Use “{other}”"),
    }
}

/// `GET /assets/tessera.css`
pub async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", STYLESHEET)
}

/// `GET /assets/form_post.js`
pub async fn form_post_script() -> Response {
    asset("text/javascript; charset=utf-8", FORM_POST_SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_override_stops_the_start_naming_the_file() {
        let folder = std::env::temp_dir().join(format!("tessera-pages-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("consent.html"), "{% if %}").unwrap();
        let error = Pages::load(Some(&folder)).unwrap_err().to_string();
        std::fs::remove_dir_all(&folder).unwrap();
        assert!(error.contains("pages.templates") && error.contains("consent.html"), "{error}");
    }

    #[test]
    fn every_builtin_template_renders_and_escapes() {
        let pages = Pages::load(None).unwrap();
        let context = minijinja::context! {
            client_name => "<script>x</script>", interaction => "i", csrf => "c", email => "", error => "",
            scopes => vec!["a"], user => "u", title => "t", message => "m", logout => "l", action => "https://a/cb",
            fields => vec![("code", "1")],
        };
        for (name, _) in TEMPLATES.iter().filter(|(n, _)| *n != "base.html") {
            let response = pages.render(StatusCode::OK, name, context.clone());
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert!(response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors"));
        }
        let html = pages.env.get_template("login.html").unwrap().render(context).unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>x"), "{html}");
    }
}
