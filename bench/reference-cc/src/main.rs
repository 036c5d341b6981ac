//! The bare reference for `client_credentials` issuance (issue: "close to the limit on the hot
//! read paths"): axum and aws-lc-rs as Tessera uses them, checking an HTTP Basic secret in
//! constant time, building the same RFC 9068 claims and signing them with ES256 — and nothing
//! else: no database, no client cache, no audit, no metrics, no rate limit. `bench/cc-reference.sh`
//! measures `tessera serve` against it in one run, alternating.
//!
//! Usage: `reference-cc PORT` prints the client secret of client `bench`, then serves
//! `POST /oauth/token` on 127.0.0.1:PORT until killed.

use std::net::SocketAddr;
use std::sync::Arc;

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

const ISSUER: &str = "http://127.0.0.1";
const CLIENT_ID: &str = "bench";
const ACCESS_TTL: u64 = 900;

struct Reference {
    key: EcdsaKeyPair,
    random: SystemRandom,
    secret: Vec<u8>,
    header: String,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: [&'a str; 1],
    exp: u64,
    iat: u64,
    jti: String,
    client_id: &'a str,
}

fn unix_now() -> u64 {
    #[allow(clippy::disallowed_methods)] // a benchmark reference, outside Tessera's clock
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

async fn token(State(reference): State<Arc<Reference>>, headers: HeaderMap, Form(form): Form<TokenForm>) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let authenticated = presented.as_deref().and_then(|text| text.split_once(':')).is_some_and(|(id, secret)| {
        id == CLIENT_ID
            && aws_lc_rs::constant_time::verify_slices_are_equal(secret.as_bytes(), &reference.secret).is_ok()
    });
    if !authenticated {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({ "error": "invalid_client" }))).into_response();
    }
    if form.grant_type != "client_credentials" {
        return (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "unsupported_grant_type" })))
            .into_response();
    }
    let mut jti = [0u8; 16];
    if reference.random.fill(&mut jti).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let now = unix_now();
    let claims = Claims {
        iss: ISSUER,
        sub: CLIENT_ID,
        aud: ["api://bench"],
        exp: now + ACCESS_TTL,
        iat: now,
        jti: URL_SAFE_NO_PAD.encode(jti),
        client_id: CLIENT_ID,
    };
    let Ok(payload) = serde_json::to_vec(&claims) else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let signing_input = format!("{}.{}", reference.header, URL_SAFE_NO_PAD.encode(payload));
    let Ok(signature) = reference.key.sign(&reference.random, signing_input.as_bytes()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let access_token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
    let body = serde_json::json!({
        "access_token": access_token, "token_type": "Bearer", "expires_in": ACCESS_TTL, "scope": "",
    });
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).ok_or("usage: reference-cc PORT")?.parse()?;
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())?;
    let mut secret = [0u8; 32];
    random.fill(&mut secret)?;
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","typ":"at+jwt","kid":"reference"}"#);
    let reference = Arc::new(Reference { key, random, secret: secret.clone().into_bytes(), header });
    println!("{secret}");
    let app = Router::new().route("/oauth/token", post(token)).with_state(reference);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
