//! Every storage port together: what a backend implements and what the server holds.

use crate::account::AccountStore;
use crate::artifact::ArtifactStore;
use crate::audit::AuditStore;
use crate::client::ClientStore;
use crate::grant::GrantStore;
use crate::refresh::RefreshStore;
use crate::retention::RetentionStore;
use crate::revocation::RevocationStore;
use crate::session::SessionStore;
use crate::signing_key::SigningKeyStore;

/// A complete storage backend. Implemented automatically for any type with every port.
pub trait Store:
    AccountStore
    + ClientStore
    + SessionStore
    + GrantStore
    + RefreshStore
    + ArtifactStore
    + SigningKeyStore
    + RevocationStore
    + RetentionStore
    + AuditStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: AccountStore
        + ClientStore
        + SessionStore
        + GrantStore
        + RefreshStore
        + ArtifactStore
        + SigningKeyStore
        + RevocationStore
        + RetentionStore
        + AuditStore
        + Send
        + Sync
{
}
