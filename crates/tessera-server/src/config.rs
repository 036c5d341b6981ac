//! Configuration: one `Config`, read from an optional TOML file, then `TESSERA_<SECTION>_<KEY>`
//! environment variables, then command-line flags. Unknown keys stop the start, named.
//! Every field is listed in docs/CONFIG.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::{Table, Value};

pub mod validate;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed, a key is unknown or a value has the wrong type.
    #[error("{origin}: {message}")]
    Invalid {
        /// The file or the environment.
        origin: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A `TESSERA_*` variable names no configuration key.
    #[error("unknown configuration variable {0} (see docs/CONFIG.md)")]
    UnknownVariable(String),
    /// A value is well-formed but cannot be used ([`Config::validate`]).
    #[error("{key}: {message}")]
    Rejected {
        /// The key, as written in the file (`tokens.access_ttl`).
        key: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Environment variables under `TESSERA_` that are not configuration keys.
const NOT_CONFIGURATION: [&str; 2] = ["TESSERA_MASTER_KEY", "TESSERA_CONFIG"];

/// Sections, longest first so that `RATE_LIMIT_…` is not read as `RATE` + `LIMIT_…`.
const SECTIONS: [&str; 13] = [
    "rate_limit",
    "database",
    "session",
    "tokens",
    "pages",
    "redis",
    "email",
    "keys",
    "cors",
    "http",
    "tls",
    "sms",
    "log",
];

/// The whole configuration. Defaults are those of a zero-configuration start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The issuer (`iss`) of every token; default `http://{listen}`.
    pub issuer: Option<String>,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database, the master key file and the outboxes.
    pub data_dir: PathBuf,
    /// Storage.
    pub database: DatabaseConfig,
    /// Shared rate-limit counters (optional).
    pub redis: RedisConfig,
    /// Native TLS (optional).
    pub tls: TlsConfig,
    /// Token lifetimes and algorithms.
    pub tokens: TokensConfig,
    /// Signing-key rotation.
    pub keys: KeysConfig,
    /// Cross-origin requests.
    pub cors: CorsConfig,
    /// Browser sessions (single sign-on).
    pub session: SessionConfig,
    /// The HTML pages.
    pub pages: PagesConfig,
    /// Outgoing e-mail.
    pub email: EmailConfig,
    /// Outgoing SMS.
    pub sms: SmsConfig,
    /// Rate limits.
    pub rate_limit: RateLimitConfig,
    /// Connection limits and timeouts.
    pub http: HttpConfig,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers are believed (addresses or CIDRs);
    /// from any other peer those headers are ignored.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Logging.
    pub log: LogConfig,
}

/// `[database]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…` (default: `sqlite://{data_dir}/tessera.db`) or `postgres://…`.
    pub url: Option<String>,
}

/// `[redis]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://host:port`. Not implemented yet (counters stay in each process):
    /// [`Config::validate`] refuses it.
    pub url: Option<String>,
}

/// `[tls]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
}

impl TlsConfig {
    /// Whether native TLS is configured (both files named; one alone stops the start).
    pub fn enabled(&self) -> bool {
        self.cert.is_some() && self.key.is_some()
    }
}

/// `[tokens]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokensConfig {
    /// Access-token lifetime (default 900 s).
    #[serde(deserialize_with = "duration")]
    pub access_ttl: Duration,
    /// Refresh lifetime (default 7 days): absolute, counted from the login; rotations do not
    /// extend it, so a stolen token chain dies with its family.
    #[serde(deserialize_with = "duration")]
    pub refresh_ttl: Duration,
    /// How long a rotated refresh token may be presented again and rotate again instead of
    /// revoking its grant (default 0: strict). A benign retry racing a rotation (a mobile app
    /// losing a response) then keeps its session; the price is that a stolen token also works
    /// within it. See docs/SECURITY.md.
    #[serde(deserialize_with = "duration")]
    pub refresh_reuse_interval: Duration,
    /// Algorithm of access tokens (default ES256).
    pub signing_alg: String,
    /// Algorithm of ID tokens (default RS256, as OpenID Connect requires).
    pub id_token_alg: String,
}

impl Default for TokensConfig {
    fn default() -> Self {
        TokensConfig {
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(7 * 86_400),
            refresh_reuse_interval: Duration::ZERO,
            signing_alg: "ES256".into(),
            id_token_alg: "RS256".into(),
        }
    }
}

/// `[keys]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Rotate signing keys this often (default 30 days; `0s` turns automatic rotation off).
    #[serde(deserialize_with = "duration")]
    pub rotate_every: Duration,
    /// Publish the next key this long before it signs (default 1 day), so that caches
    /// of the JWKS have it before the first token it signs.
    #[serde(deserialize_with = "duration")]
    pub prepublish: Duration,
}

impl Default for KeysConfig {
    fn default() -> Self {
        KeysConfig { rotate_every: Duration::from_secs(30 * 86_400), prepublish: Duration::from_secs(86_400) }
    }
}

/// `[cors]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// Origins allowed to call the API from a browser (exact match). Empty: none.
    #[serde(deserialize_with = "list")]
    pub allowed_origins: Vec<String>,
}

/// `[session]`: the browser session behind the login cookie.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session unused this long ends (default 1 day).
    #[serde(deserialize_with = "duration")]
    pub idle_ttl: Duration,
    /// A session ends this long after its login, however used (default 7 days).
    #[serde(deserialize_with = "duration")]
    pub absolute_ttl: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig { idle_ttl: Duration::from_secs(86_400), absolute_ttl: Duration::from_secs(7 * 86_400) }
    }
}

/// `[pages]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagesConfig {
    /// A folder of templates overriding the built-in ones by file name (`login.html`, …).
    pub templates: Option<PathBuf>,
}

/// `[email]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://…`. Not implemented yet: [`Config::validate`] refuses it until e-mail is sent.
    pub smtp_url: Option<String>,
}

/// `[sms]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// Webhook that sends SMS. Not implemented yet: [`Config::validate`] refuses it.
    pub webhook_url: Option<String>,
}

/// `[rate_limit]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Failed logins allowed per account from one client address per window (default 5).
    pub login_per_account: u32,
    /// Failed logins allowed per account from all addresses together per window (default 50):
    /// the ceiling against a distributed guesser, high enough that one address cannot lock
    /// the owner out.
    pub login_per_account_total: u32,
    /// Login attempts allowed per client address (IPv6: per /64) per window (default 30).
    pub login_per_ip: u32,
    /// The window (default 15 minutes).
    #[serde(deserialize_with = "duration")]
    pub window: Duration,
    /// Most keys each counter holds (default 100000); when full, expired windows are swept and
    /// a new key is then refused (`429`) rather than an old count forgotten.
    pub max_entries: usize,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            login_per_account: 5,
            login_per_account_total: 50,
            login_per_ip: 30,
            window: Duration::from_secs(900),
            max_entries: 100_000,
        }
    }
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// The whole request head must arrive within this, also the next one on a kept-alive
    /// connection (default 10 s).
    #[serde(deserialize_with = "duration")]
    pub header_read_timeout: Duration,
    /// The whole request body must arrive within this from the end of the head (default 10 s);
    /// later, `408`.
    #[serde(deserialize_with = "duration")]
    pub body_read_timeout: Duration,
    /// A connection that moves no byte either way this long is closed (default 60 s).
    #[serde(deserialize_with = "duration")]
    pub idle_timeout: Duration,
    /// Connections served at once (default 1024); further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// On shutdown, in-flight requests get this long to finish (default 10 s).
    #[serde(deserialize_with = "duration")]
    pub shutdown_grace: Duration,
    /// Password checks that may wait for a core (default 64); beyond, `503` with `Retry-After`.
    pub password_queue: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
            password_queue: 64,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A tracing filter (default `info`).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".into() }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("tessera-data"),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            tls: TlsConfig::default(),
            tokens: TokensConfig::default(),
            keys: KeysConfig::default(),
            cors: CorsConfig::default(),
            session: SessionConfig::default(),
            pages: PagesConfig::default(),
            email: EmailConfig::default(),
            sms: SmsConfig::default(),
            rate_limit: RateLimitConfig::default(),
            http: HttpConfig::default(),
            trusted_proxies: Vec::new(),
            log: LogConfig::default(),
        }
    }
}

impl Config {
    /// Loads the file (if any), then overlays `TESSERA_*` variables from `env`, then checks
    /// the result with [`Config::validate`].
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                text.parse::<Table>().map_err(|e| invalid(&path.display().to_string(), e.message()))?
            }
            None => Table::new(),
        };
        overlay_env(&mut table, env)?;
        let origin = file.map_or_else(|| "environment".to_owned(), |p| p.display().to_string());
        let config = Config::deserialize(Value::Table(table)).map_err(|e| invalid(&origin, e.message()))?;
        config.validate()?;
        Ok(config)
    }

    /// The issuer: configured, or `https://{listen}` with native TLS, else `http://{listen}`.
    pub fn issuer(&self) -> String {
        let scheme = if self.tls.enabled() { "https" } else { "http" };
        self.issuer.clone().unwrap_or_else(|| format!("{scheme}://{}", self.listen)).trim_end_matches('/').to_owned()
    }

    /// The database URL: configured, or the SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        self.database.url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("tessera.db").display()))
    }
}

fn invalid(origin: &str, message: &str) -> ConfigError {
    ConfigError::Invalid { origin: origin.to_owned(), message: message.trim().to_owned() }
}

/// `TESSERA_TOKENS_ACCESS_TTL=600` sets `tokens.access_ttl`; `TESSERA_LISTEN` sets `listen`.
/// A value is read as TOML when it parses as one (numbers, booleans, arrays), else as a string.
fn overlay_env(table: &mut Table, env: impl IntoIterator<Item = (String, String)>) -> Result<(), ConfigError> {
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix("TESSERA_") else { continue };
        if NOT_CONFIGURATION.contains(&name.as_str()) {
            continue;
        }
        let key = rest.to_ascii_lowercase();
        let value =
            format!("v = {raw}").parse::<Table>().ok().and_then(|mut t| t.remove("v")).unwrap_or(Value::String(raw));
        let target = match SECTIONS.iter().find(|s| key.strip_prefix(*s).is_some_and(|k| k.starts_with('_'))) {
            Some(section) => {
                let entry = table.entry(section.to_string()).or_insert_with(|| Value::Table(Table::new()));
                let Value::Table(section_table) = entry else {
                    return Err(invalid("environment", &format!("{section} must be a table")));
                };
                (section_table, key[section.len() + 1..].to_owned())
            }
            None if ["issuer", "listen", "data_dir", "trusted_proxies"].contains(&key.as_str()) => (&mut *table, key),
            None => return Err(ConfigError::UnknownVariable(name)),
        };
        target.0.insert(target.1, value);
    }
    Ok(())
}

/// A duration as whole seconds (`900`) or in humantime form (`15m`, `7d`).
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Seconds(seconds) => Ok(Duration::from_secs(seconds)),
        Raw::Text(text) => humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration such as 900 or 15m: {e}"))),
    }
}

/// A list as an array or a comma-separated string (handy in an environment variable).
fn list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Many(Vec<String>),
        One(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Many(items) => items,
        Raw::One(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
    })
}

/// Addresses or CIDRs (`10.0.0.1`, `10.0.0.0/8`, `::1`), as a list or comma-separated text.
fn networks<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    list(deserializer)?
        .iter()
        .map(|text| {
            text.parse::<ipnet::IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an IP address or CIDR")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn zero_configuration_defaults() {
        let config = Config::load(None, env(&[])).unwrap();
        assert_eq!(config.issuer(), "http://127.0.0.1:8080");
        assert_eq!(config.database_url(), "sqlite://tessera-data/tessera.db");
        assert_eq!(config.tokens.access_ttl, Duration::from_secs(900));
        assert_eq!(config.tokens.signing_alg, "ES256");
        assert!(config.trusted_proxies.is_empty());
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let config = Config::load(None, env(&[("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8, ::1")])).unwrap();
        let names: Vec<String> = config.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["10.0.0.0/8", "::1/128"]);
        let error =
            Config::load(None, env(&[("TESSERA_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")])).unwrap_err().to_string();
        assert!(error.contains("proxy.local"), "{error}");
    }

    #[test]
    fn tls_makes_the_default_issuer_https() {
        let mut config = Config::load(None, env(&[("TESSERA_TLS_CERT", "c.pem")])).unwrap();
        assert_eq!(config.issuer(), "http://127.0.0.1:8080", "one file alone is not TLS (the start refuses it)");
        config.tls.key = Some("k.pem".into());
        assert_eq!(config.issuer(), "https://127.0.0.1:8080");
    }

    #[test]
    fn file_then_environment() {
        let dir = std::env::temp_dir().join(format!("tessera-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tessera.toml");
        std::fs::write(
            &path,
            "issuer = \"https://id.example\"\n[tokens]\naccess_ttl = \"5m\"\n[rate_limit]\nlogin_per_ip = 7\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&path),
            env(&[
                ("TESSERA_TOKENS_ACCESS_TTL", "600"),
                ("TESSERA_RATE_LIMIT_WINDOW", "1h"),
                ("TESSERA_CORS_ALLOWED_ORIGINS", "https://a.example, https://b.example"),
                ("TESSERA_MASTER_KEY", "not configuration"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(config.issuer(), "https://id.example");
        assert_eq!(config.tokens.access_ttl, Duration::from_secs(600));
        assert_eq!(config.rate_limit.login_per_ip, 7);
        assert_eq!(config.rate_limit.window, Duration::from_secs(3600));
        assert_eq!(config.cors.allowed_origins, ["https://a.example", "https://b.example"]);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn unknown_keys_are_named() {
        let error = Config::load(None, env(&[("TESSERA_TOKENS_ACESS_TTL", "1")])).unwrap_err().to_string();
        assert!(error.contains("acess_ttl"), "{error}");
        let error = Config::load(None, env(&[("TESSERA_NOPE", "1")])).unwrap_err().to_string();
        assert!(error.contains("TESSERA_NOPE"), "{error}");
        let dir = std::env::temp_dir().join(format!("tessera-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tessera.toml");
        std::fs::write(&path, "[tokens]\nsigning_algo = \"ES256\"\n").unwrap();
        let error = Config::load(Some(&path), env(&[])).unwrap_err().to_string();
        assert!(error.contains("signing_algo") && error.contains("tessera.toml"), "{error}");
        let error = Config::load(None, env(&[("TESSERA_TOKENS_ACCESS_TTL", "soon")])).unwrap_err().to_string();
        assert!(error.contains("soon"), "{error}");
        std::fs::remove_dir_all(dir).ok();
    }
}
