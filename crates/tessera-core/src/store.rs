//! Every storage port together: what a backend implements and what the server holds.

use crate::keys::signing_key::SigningKeyStore;
use crate::model::account::AccountStore;
use crate::model::artifact::ArtifactStore;
use crate::model::audit::AuditStore;
use crate::model::client::ClientStore;
use crate::model::consent::ConsentStore;
use crate::model::grant::GrantStore;
use crate::model::refresh::RefreshStore;
use crate::model::retention::RetentionStore;
use crate::model::revocation::RevocationStore;
use crate::model::session::SessionStore;

/// A complete storage backend. Implemented automatically for any type with every port.
pub trait Store:
    AccountStore
    + ClientStore
    + ConsentStore
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
        + ConsentStore
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
