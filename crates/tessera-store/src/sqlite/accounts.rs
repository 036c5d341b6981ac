//! Accounts in SQLite.

use async_trait::async_trait;
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;
use tessera_core::CoreError;
use tessera_core::clock::Timestamp;
use tessera_core::model::account::{Account, AccountStore, Email, PasswordHash, Profile, UserId};

use super::{SqliteStore, storage_error, write_error};

const COLUMNS: &str = "id, email, name, profile, password_hash, disabled, created_at, updated_at";

fn account_from_row(row: &SqliteRow) -> Result<Account, CoreError> {
    let email: String = row.try_get("email").map_err(storage_error)?;
    Ok(Account {
        id: UserId::new(row.try_get::<String, _>("id").map_err(storage_error)?),
        email: Email::parse(&email).map_err(|_| CoreError::CorruptData("stored e-mail".into()))?,
        name: row.try_get("name").map_err(storage_error)?,
        profile: serde_json::from_str(&row.try_get::<String, _>("profile").map_err(storage_error)?)
            .map_err(|e| CoreError::CorruptData(format!("account profile: {e}")))?,
        password_hash: row.try_get::<Option<String>, _>("password_hash").map_err(storage_error)?.map(PasswordHash::new),
        disabled: row.try_get("disabled").map_err(storage_error)?,
        created_at: Timestamp::from_unix(row.try_get("created_at").map_err(storage_error)?),
        updated_at: Timestamp::from_unix(row.try_get("updated_at").map_err(storage_error)?),
    })
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &Account) -> Result<(), CoreError> {
        sqlx::query(
            "INSERT INTO accounts (id, email, name, profile, password_hash, disabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(account.id.as_str())
        .bind(account.email.as_str())
        .bind(account.name.as_deref())
        .bind(serde_json::to_string(&account.profile).map_err(|e| CoreError::CorruptData(e.to_string()))?)
        .bind(account.password_hash.as_ref().map(PasswordHash::expose))
        .bind(account.disabled)
        .bind(account.created_at.unix())
        .bind(account.updated_at.unix())
        .execute(&self.pool)
        .await
        .map_err(write_error("account", "account"))?;
        Ok(())
    }

    async fn account(&self, id: &UserId) -> Result<Option<Account>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"));
        let row = sqlx::query(sql).bind(id.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account_by_email(&self, email: &Email) -> Result<Option<Account>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM accounts WHERE email = ?"));
        let row = sqlx::query(sql).bind(email.as_str()).fetch_optional(&self.pool).await.map_err(storage_error)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn list_accounts(&self) -> Result<Vec<Account>, CoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM accounts ORDER BY email"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(storage_error)?;
        rows.iter().map(account_from_row).collect()
    }

    async fn set_account_disabled(&self, id: &UserId, disabled: bool, now: Timestamp) -> Result<bool, CoreError> {
        let result = sqlx::query("UPDATE accounts SET disabled = ?, updated_at = ? WHERE id = ?")
            .bind(disabled)
            .bind(now.unix())
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn update_profile(
        &self,
        id: &UserId,
        name: Option<&str>,
        profile: &Profile,
        now: Timestamp,
    ) -> Result<bool, CoreError> {
        let profile = serde_json::to_string(profile).map_err(|e| CoreError::CorruptData(e.to_string()))?;
        let result = sqlx::query("UPDATE accounts SET name = ?, profile = ?, updated_at = ? WHERE id = ?")
            .bind(name)
            .bind(profile)
            .bind(now.unix())
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn set_password_hash(&self, id: &UserId, hash: &PasswordHash, now: Timestamp) -> Result<bool, CoreError> {
        let result = sqlx::query("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash.expose())
            .bind(now.unix())
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }

    async fn remove_account(&self, id: &UserId) -> Result<bool, CoreError> {
        // Sessions, grants and their tokens go with it: ON DELETE CASCADE.
        let result = sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(storage_error)?;
        Ok(result.rows_affected() == 1)
    }
}
