//! The checks a configuration must pass before anything is created: one place, each error
//! naming its key. A key that is accepted is used (SPEC §3), so a key whose feature does not
//! exist yet stops the start instead of being silently ignored.

use std::time::Duration;

use tessera_jose::Algorithm;

use super::{Config, ConfigError};
use crate::app::MAINTENANCE_EVERY;
use crate::routes::well_known::JWKS_MAX_AGE_SECONDS;

impl Config {
    /// Checks every value against what the server can honour; the first problem is returned,
    /// naming its key. Called by [`Config::load`] and again before the store is opened.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(issuer) = &self.issuer {
            check_issuer(issuer)?;
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(rejected("data_dir", "must name a folder"));
        }
        check_database_url(self.database.url.as_deref())?;
        not_implemented("redis.url", self.redis.url.is_some(), "rate-limit counters are kept in each process")?;
        not_implemented(
            "email.smtp_url",
            self.email.smtp_url.is_some(),
            "Tessera sends no e-mail yet (passwordless and resets are not implemented)",
        )?;
        not_implemented(
            "sms.webhook_url",
            self.sms.webhook_url.is_some(),
            "Tessera sends no SMS yet (SMS one-time codes are not implemented)",
        )?;
        positive("tokens.access_ttl", self.tokens.access_ttl)?;
        positive("tokens.refresh_ttl", self.tokens.refresh_ttl)?;
        server_algorithm("tokens.signing_alg", &self.tokens.signing_alg)?;
        server_algorithm("tokens.id_token_alg", &self.tokens.id_token_alg)?;
        check_keys(self)?;
        positive("session.idle_ttl", self.session.idle_ttl)?;
        positive("session.absolute_ttl", self.session.absolute_ttl)?;
        if self.session.idle_ttl > self.session.absolute_ttl {
            return Err(rejected("session.idle_ttl", "must not be longer than session.absolute_ttl"));
        }
        if let Some(folder) = &self.pages.templates
            && !folder.is_dir()
        {
            return Err(rejected("pages.templates", &format!("{} is not a folder", folder.display())));
        }
        for origin in &self.cors.allowed_origins {
            check_origin(origin)?;
        }
        if self.rate_limit.login_per_account == 0 {
            return Err(rejected("rate_limit.login_per_account", "must be at least 1"));
        }
        if self.rate_limit.login_per_ip == 0 {
            return Err(rejected("rate_limit.login_per_ip", "must be at least 1"));
        }
        positive("rate_limit.window", self.rate_limit.window)?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| rejected("log.level", &format!("{:?} is not a tracing filter: {e}", self.log.level)))?;
        Ok(())
    }
}

fn rejected(key: &'static str, message: &str) -> ConfigError {
    ConfigError::Rejected { key, message: message.to_owned() }
}

fn not_implemented(key: &'static str, present: bool, why: &str) -> Result<(), ConfigError> {
    if present {
        return Err(rejected(key, &format!("is not implemented yet ({why}); remove the key")));
    }
    Ok(())
}

fn positive(key: &'static str, value: Duration) -> Result<(), ConfigError> {
    if value.as_secs() == 0 {
        return Err(rejected(key, "must be at least 1 second"));
    }
    if i64::try_from(value.as_secs()).is_err() {
        return Err(rejected(key, "is too long"));
    }
    Ok(())
}

/// The issuer identifier: an absolute `https`/`http` URL with no query and no fragment
/// (RFC 8414 §2, OpenID Connect Discovery §3), compared byte for byte by clients.
fn check_issuer(issuer: &str) -> Result<(), ConfigError> {
    let url =
        url::Url::parse(issuer).map_err(|e| rejected("issuer", &format!("{issuer:?} is not an absolute URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(rejected("issuer", &format!("{issuer:?} must be an https:// (or http://) URL with a host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(rejected("issuer", &format!("{issuer:?} must have no query and no fragment (RFC 8414 §2)")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(rejected("issuer", &format!("{issuer:?} must not carry credentials")));
    }
    Ok(())
}

fn check_database_url(url: Option<&str>) -> Result<(), ConfigError> {
    match url {
        None => Ok(()),
        Some(url) if url.starts_with("sqlite://") && url.len() > "sqlite://".len() => Ok(()),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Err(rejected("database.url", "PostgreSQL is not implemented yet; use sqlite://PATH or remove the key"))
        }
        Some(_) => Err(rejected("database.url", "must be sqlite://PATH")),
    }
}

fn server_algorithm(key: &'static str, name: &str) -> Result<Algorithm, ConfigError> {
    name.parse::<Algorithm>().ok().filter(|alg| !alg.is_symmetric()).ok_or_else(|| {
        rejected(key, &format!("{name:?} is not an asymmetric JWS algorithm (such as ES256, RS256, EdDSA)"))
    })
}

/// A next key must be in every verifier's cached JWKS before it signs: the JWKS may be cached
/// for `max-age` after a fetch, and a node learns of a key from the database only at its next
/// maintenance round, so pre-publication must cover both.
fn check_keys(config: &Config) -> Result<(), ConfigError> {
    let prepublish = config.keys.prepublish.as_secs();
    let needed = JWKS_MAX_AGE_SECONDS + MAINTENANCE_EVERY.as_secs();
    if prepublish < needed {
        return Err(rejected(
            "keys.prepublish",
            &format!(
                "{prepublish} s is shorter than the JWKS cache lifetime ({JWKS_MAX_AGE_SECONDS} s max-age) plus the \
                 key reload interval ({} s): verifiers would meet tokens signed by a key they have not fetched; \
                 use at least {needed} s",
                MAINTENANCE_EVERY.as_secs()
            ),
        ));
    }
    let rotate_every = config.keys.rotate_every.as_secs();
    if rotate_every != 0 && rotate_every <= prepublish {
        return Err(rejected(
            "keys.rotate_every",
            &format!(
                "{rotate_every} s must be longer than keys.prepublish ({prepublish} s), or 0 to turn automatic \
                 rotation off: each key would be replaced before it signed"
            ),
        ));
    }
    Ok(())
}

/// A CORS origin is compared exactly with the browser's `Origin` header (RFC 6454 §6.1), so it
/// must be written as a browser serializes it: scheme, host, port only when not the default.
fn check_origin(origin: &str) -> Result<(), ConfigError> {
    origin_as_browsers_send_it(origin).map_err(|message| rejected("cors.allowed_origins", &message))
}

/// Checks that `origin` is an origin exactly as a browser sends it in `Origin` (`scheme://host`
/// with a port only when not the default, lower case, no path), the only form an exact match
/// can ever meet; `*` and `null` are refused. For `cors.allowed_origins` and clients'
/// `--allowed-origin` alike.
pub fn origin_as_browsers_send_it(origin: &str) -> Result<(), String> {
    if origin == "*" || origin == "null" {
        return Err(format!("{origin:?} is not allowed: list each origin"));
    }
    let url = url::Url::parse(origin).map_err(|e| format!("{origin:?} is not an origin: {e}"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{origin:?} must be an https:// or http:// origin"));
    }
    let serialized = url.origin().ascii_serialization();
    if serialized != origin {
        return Err(format!(
            "{origin:?} is not an origin as browsers send it (scheme://host[:port], no path); use {serialized:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(change: impl FnOnce(&mut Config)) -> Result<(), ConfigError> {
        let mut config = Config::default();
        change(&mut config);
        config.validate()
    }

    fn error(change: impl FnOnce(&mut Config)) -> String {
        with(change).unwrap_err().to_string()
    }

    #[test]
    fn the_defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn issuers_are_absolute_urls_without_query_or_fragment() {
        with(|c| c.issuer = Some("https://id.example/tenant".into())).unwrap();
        for bad in [
            "id.example",
            "https://id.example/?a=1",
            "https://id.example/#x",
            "ftp://id.example",
            "https://u:p@id.example",
        ] {
            let message = error(|c| c.issuer = Some(bad.into()));
            assert!(message.starts_with("issuer: "), "{bad}: {message}");
        }
    }

    #[test]
    fn features_not_implemented_stop_the_start() {
        assert!(error(|c| c.redis.url = Some("redis://localhost".into())).starts_with("redis.url: is not implemented"));
        assert!(error(|c| c.email.smtp_url = Some("smtp://mail".into())).starts_with("email.smtp_url: "));
        assert!(error(|c| c.sms.webhook_url = Some("https://sms".into())).starts_with("sms.webhook_url: "));
        assert!(error(|c| c.database.url = Some("postgres://db/tessera".into())).contains("PostgreSQL"));
        assert!(error(|c| c.database.url = Some("mysql://db".into())).starts_with("database.url: "));
    }

    #[test]
    fn lifetimes_and_limits_must_be_positive() {
        assert!(error(|c| c.tokens.access_ttl = Duration::ZERO).starts_with("tokens.access_ttl: "));
        assert!(error(|c| c.tokens.refresh_ttl = Duration::ZERO).starts_with("tokens.refresh_ttl: "));
        assert!(error(|c| c.rate_limit.login_per_account = 0).starts_with("rate_limit.login_per_account: "));
        assert!(error(|c| c.rate_limit.login_per_ip = 0).starts_with("rate_limit.login_per_ip: "));
        assert!(error(|c| c.rate_limit.window = Duration::ZERO).starts_with("rate_limit.window: "));
        assert!(error(|c| c.log.level = "info,[".into()).starts_with("log.level: "));
    }

    #[test]
    fn algorithms_must_be_asymmetric() {
        assert!(error(|c| c.tokens.signing_alg = "HS256".into()).starts_with("tokens.signing_alg: "));
        assert!(error(|c| c.tokens.id_token_alg = "none".into()).starts_with("tokens.id_token_alg: "));
    }

    #[test]
    fn prepublication_covers_the_jwks_cache_and_rotation_outlasts_it() {
        let message = error(|c| c.keys.prepublish = Duration::from_secs(60));
        assert!(message.starts_with("keys.prepublish: 60 s") && message.contains("300 s max-age"), "{message}");
        with(|c| c.keys.prepublish = Duration::from_secs(330)).unwrap();
        let message = error(|c| c.keys.rotate_every = Duration::from_secs(3600));
        assert!(message.starts_with("keys.rotate_every: 3600 s") && message.contains("86400 s"), "{message}");
        with(|c| c.keys.rotate_every = Duration::ZERO).unwrap();
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        with(|c| c.cors.allowed_origins = vec!["https://app.example".into(), "http://localhost:3000".into()]).unwrap();
        for bad in
            ["*", "https://app.example/", "https://App.example", "https://app.example:443", "app.example", "file:///x"]
        {
            let message = error(|c| c.cors.allowed_origins = vec!["https://ok.example".into(), bad.into()]);
            assert!(message.starts_with("cors.allowed_origins: ") && message.contains(bad), "{bad}: {message}");
        }
    }
}
