//! The per-supplier key the mall uses for the order API. Only its SHA-256 (hex) is stored; the
//! key itself is shown to the admin once, when issued, and a new key ends the old one at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::DomainError;
use crate::audit;
use crate::db::{begin_write, now_ms};
use crate::entity::{audit_log, supplier};

/// Every key starts with this, so a leaked one is recognisable in logs and code.
pub const API_KEY_PREFIX: &str = "kf_";
/// Longest key looked up at all (a real key is 46 characters).
const MAX_API_KEY_LEN: usize = 128;

/// Whether a supplier has an API key, and since when (unix ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyStatus {
    pub issued: bool,
    pub issued_at: Option<i64>,
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Issues a new key for the supplier (`kf_` + 32 random bytes, base64url), stores only its hash,
/// and returns the key: the only time it is seen. The audit log says 生成接口密钥 for the
/// supplier's first key and 重置接口密钥 (the old key stops working) for every later one.
pub async fn rotate_api_key(
    db: &DatabaseConnection,
    supplier_id: i64,
    actor_account_id: i64,
) -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let key = format!("{API_KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let now = now_ms();
    let new_key = || supplier::ActiveModel {
        api_key_hash: Set(Some(hash_key(&key))),
        api_key_issued_at: Set(Some(now)),
        ..Default::default()
    };
    let txn = begin_write(db).await?;
    // The first key only where there is none: two admins issuing at once cannot both book a
    // 生成 (the second waits for the first's row lock, then finds a key and replaces it).
    let first = supplier::Entity::update_many()
        .set(new_key())
        .filter(supplier::Column::Id.eq(supplier_id))
        .filter(supplier::Column::ApiKeyHash.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        > 0;
    if !first {
        let updated = supplier::Entity::update_many()
            .set(new_key())
            .filter(supplier::Column::Id.eq(supplier_id))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Err(DomainError::NotFound);
        }
    }
    let (action, detail) = if first {
        (audit_log::ACTION_API_KEY_ISSUED, "生成了订单接口密钥")
    } else {
        (
            audit_log::ACTION_API_KEY_ROTATED,
            "重置了订单接口密钥，旧密钥已失效",
        )
    };
    audit::record(&txn, supplier_id, Some(actor_account_id), action, detail).await?;
    txn.commit().await?;
    Ok(key)
}

/// Whether the supplier has a key and when it was issued (never the key).
pub async fn api_key_status(
    db: &DatabaseConnection,
    supplier_id: i64,
) -> Result<ApiKeyStatus, DomainError> {
    let supplier = supplier::Entity::find_by_id(supplier_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    Ok(ApiKeyStatus {
        issued: supplier.api_key_hash.is_some(),
        issued_at: supplier.api_key_issued_at,
    })
}

/// The supplier a key belongs to; `BadCredentials` for a missing, malformed or unknown key.
///
/// The lookup is by the key's SHA-256 on a unique index: the database compares hashes, which an
/// attacker cannot steer byte by byte, so no timing leaks the key.
pub async fn supplier_for_api_key(db: &DatabaseConnection, key: &str) -> Result<i64, DomainError> {
    let key = key.trim();
    if !key.starts_with(API_KEY_PREFIX) || key.len() > MAX_API_KEY_LEN {
        return Err(DomainError::BadCredentials);
    }
    supplier::Entity::find()
        .filter(supplier::Column::ApiKeyHash.eq(hash_key(key)))
        .one(db)
        .await?
        .map(|s| s.id)
        .ok_or(DomainError::BadCredentials)
}
