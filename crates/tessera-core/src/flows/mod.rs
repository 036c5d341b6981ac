//! The flows: one module per grant or endpoint concern, each readable top to bottom as the
//! RFC's steps (node-oidc-provider's `lib/actions/grants/`). Handlers in the server only parse
//! and map; every decision is here, over the storage ports.

pub mod account_admin;
pub mod authorization_code;
pub mod authorize;
pub mod bearer;
pub mod browser_session;
pub mod client_authentication;
pub mod client_credentials;
pub mod introspection;
pub mod issuance;
pub mod login;
pub mod logout;
pub mod refresh_token;
pub mod revocation;
