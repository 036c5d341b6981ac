//! The configuration and the files of a start: an invalid configuration stops the start naming
//! its key and creates nothing; the data folder, the database and the master key file are
//! readable by their owner only, and a master key file others can read is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::{TestServer, config};
use tessera_server::app::prepare;
use tessera_server::config::Config;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn load_error(pairs: &[(&str, &str)]) -> String {
    Config::load(None, env(pairs)).unwrap_err().to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn values_that_cannot_be_honoured_stop_the_load_naming_the_key() {
    let cases: [(&str, &str, &[&str]); 7] = [
        ("TESSERA_REDIS_URL", "redis://127.0.0.1", &["redis.url", "not implemented"]),
        ("TESSERA_EMAIL_SMTP_URL", "smtp://mail.example", &["email.smtp_url", "not implemented"]),
        ("TESSERA_SMS_WEBHOOK_URL", "https://sms.example", &["sms.webhook_url", "not implemented"]),
        (
            "TESSERA_CORS_ALLOWED_ORIGINS",
            "https://a.example, https://b.example/",
            &["cors.allowed_origins", "https://b.example/"],
        ),
        ("TESSERA_ISSUER", "https://id.example/?tenant=1", &["issuer", "query"]),
        ("TESSERA_TOKENS_ACCESS_TTL", "0", &["tokens.access_ttl"]),
        ("TESSERA_RATE_LIMIT_LOGIN_PER_IP", "0", &["rate_limit.login_per_ip"]),
    ];
    for (variable, value, expected) in cases {
        let message = load_error(&[(variable, value)]);
        for part in expected {
            assert!(message.contains(part), "{variable}={value}: {message}");
        }
    }
}

#[test]
fn a_prepublication_shorter_than_the_jwks_cache_names_both_numbers() {
    let message = load_error(&[("TESSERA_KEYS_PREPUBLISH", "2m")]);
    assert!(message.contains("keys.prepublish") && message.contains("120 s") && message.contains("300 s"), "{message}");
}

#[tokio::test]
async fn an_invalid_configuration_creates_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let mut invalid = config(&data_dir);
    invalid.cors.allowed_origins = vec!["*".into()];
    let error = prepare(invalid, None).await.err().expect("refused").to_string();
    assert!(error.contains("cors.allowed_origins") && error.contains('*'), "{error}");
    assert!(!data_dir.exists(), "nothing is created for a configuration that cannot start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_database_files_are_private() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("fresh").join("data");
    let server = TestServer::start_with(config(&data_dir)).await;
    // Some writes, so the WAL and its index exist.
    server.add_user("files@example.com", "correct horse battery").await;
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&temp.path().join("fresh")), 0o700, "parents created on the way too");
    for name in ["tessera.db", "tessera.db-wal", "tessera.db-shm", "master.key"] {
        assert_eq!(mode(&data_dir.join(name)), 0o600, "{name}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_key_file_others_can_read_is_refused_with_the_fix() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().to_owned();
    let server = TestServer::start_with(config(&data_dir)).await;
    server.stop().await;
    let key_file = data_dir.join("master.key");
    let before = std::fs::read(&key_file).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let error = prepare(config(&data_dir), None).await.err().expect("refused").to_string();
    let fix = format!("chmod 600 {}", key_file.display());
    assert!(error.contains(&fix) && error.contains("640"), "{error}");
    assert_eq!(std::fs::read(&key_file).unwrap(), before, "the key file is not replaced");

    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let again = TestServer::start_with(config(&data_dir)).await;
    again.stop().await;
}
