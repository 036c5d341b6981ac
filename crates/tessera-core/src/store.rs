//! Every storage port together: what a backend implements and what the server holds.

use crate::account::AccountStore;
use crate::audit::AuditStore;
use crate::client::ClientStore;
use crate::refresh::RefreshStore;
use crate::revocation::RevocationStore;
use crate::session::SessionStore;
use crate::signing_key::SigningKeyStore;

/// A complete storage backend. Implemented automatically for any type with every port.
pub trait Store:
    AccountStore + ClientStore + SessionStore + RefreshStore + SigningKeyStore + RevocationStore + AuditStore + Send + Sync
{
}

impl<T> Store for T where
    T: AccountStore
        + ClientStore
        + SessionStore
        + RefreshStore
        + SigningKeyStore
        + RevocationStore
        + AuditStore
        + Send
        + Sync
{
}
