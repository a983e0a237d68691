//! The mall's buyer token: `base64url(json) + "." + base64url(HMAC-SHA256(secret, base64url(json)))`.
//!
//! The mall signs it with a secret shared with this system; the widget presents it and gets a
//! buyer identity only if the signature is right, the token has not expired and every field is
//! within its limits. Unknown fields are refused so a typo on the mall's side fails loudly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::DomainError;
use crate::db::now_ms;
use crate::entity::{buyer, supplier};

type HmacSha256 = Hmac<Sha256>;

/// The only payload version understood.
pub const TOKEN_VERSION: u32 = 1;
/// Longest token accepted at all (refuses garbage before any work).
pub const MAX_TOKEN_LEN: usize = 4096;
/// Longest 客户编号.
pub const MAX_BUYER_ID_CHARS: usize = 64;
/// Longest buyer name.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest budget unit (单位).
pub const MAX_UNIT_CHARS: usize = 64;
/// Default of the longest a token may still be valid for when presented
/// (`KEFU_BUYER_TOKEN_MAX_LIFETIME_SECS`): a token that never expires is a password in a URL.
pub const DEFAULT_MAX_LIFETIME_SECS: i64 = 24 * 60 * 60;

/// Who the mall says the buyer is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyerClaims {
    /// Payload version, [`TOKEN_VERSION`].
    pub v: u32,
    pub supplier_id: i64,
    /// The mall's 客户编号.
    pub buyer_id: String,
    pub name: String,
    /// The budget unit (单位).
    pub unit: String,
    /// Expiry, unix seconds.
    pub exp: i64,
}

fn token_error(reason: &str) -> DomainError {
    DomainError::validation("token", reason)
}

fn mac(secret: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// Signs `claims` as the mall does (used by the demo entry and by tests).
pub fn sign(secret: &[u8], claims: &BuyerClaims) -> String {
    // Serialising a struct of strings and integers cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mut mac = mac(secret);
    mac.update(payload.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{signature}")
}

/// Checks a token and returns its claims. The signature is checked (in constant time) before
/// the payload is even parsed; then the expiry against `now_secs` and the field limits.
pub fn verify(secret: &[u8], token: &str, now_secs: i64) -> Result<BuyerClaims, DomainError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(token_error("缺少买家身份令牌，请从商城重新进入在线客服"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(token_error("买家身份令牌格式错误"));
    }
    let Some((payload, signature)) = token.split_once('.') else {
        return Err(token_error("买家身份令牌格式错误"));
    };
    if payload.is_empty() || signature.contains('.') {
        return Err(token_error("买家身份令牌格式错误"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| token_error("买家身份令牌格式错误"))?;
    let mut mac = mac(secret);
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| token_error("买家身份令牌签名无效"))?;
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| token_error("买家身份令牌格式错误"))?;
    let claims: BuyerClaims =
        serde_json::from_slice(&json).map_err(|_| token_error("买家身份令牌内容格式错误"))?;
    if claims.v != TOKEN_VERSION {
        return Err(token_error("买家身份令牌版本不受支持"));
    }
    if claims.exp < now_secs {
        return Err(token_error("买家身份令牌已过期，请从商城重新进入在线客服"));
    }
    check_len(&claims.buyer_id, 1, MAX_BUYER_ID_CHARS, "客户编号")?;
    check_len(&claims.name, 1, MAX_NAME_CHARS, "采购人姓名")?;
    check_len(&claims.unit, 0, MAX_UNIT_CHARS, "单位名称")?;
    Ok(claims)
}

/// [`verify`], and the token must expire within `max_lifetime_secs` of `now_secs`: a token
/// whose expiry is further away is refused (what the server checks on every buyer entry).
pub fn verify_within(
    secret: &[u8],
    token: &str,
    now_secs: i64,
    max_lifetime_secs: i64,
) -> Result<BuyerClaims, DomainError> {
    let claims = verify(secret, token, now_secs)?;
    if claims.exp.saturating_sub(now_secs) > max_lifetime_secs {
        let hours = (max_lifetime_secs / 3600).max(1);
        return Err(token_error(&format!(
            "买家身份令牌有效期过长（最长 {hours} 小时），请从商城重新进入在线客服"
        )));
    }
    Ok(claims)
}

fn check_len(value: &str, min: usize, max: usize, what: &str) -> Result<(), DomainError> {
    let chars = value.trim().chars().count();
    if chars < min {
        return Err(token_error(&format!("买家身份令牌缺少{what}")));
    }
    if value.chars().count() > max {
        return Err(token_error(&format!("{what}不能超过 {max} 个字符")));
    }
    Ok(())
}

/// Creates the buyer of `claims` for its supplier, or updates the name and unit of the one
/// already known under the same 客户编号. `NotFound` when the supplier does not exist.
pub async fn upsert_buyer<C: ConnectionTrait>(
    db: &C,
    claims: &BuyerClaims,
) -> Result<buyer::Model, DomainError> {
    supplier::Entity::find_by_id(claims.supplier_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let row = buyer::ActiveModel {
        supplier_id: Set(claims.supplier_id),
        external_id: Set(claims.buyer_id.trim().to_owned()),
        name: Set(claims.name.trim().to_owned()),
        unit: Set(claims.unit.trim().to_owned()),
        created_at: Set(now_ms()),
        ..Default::default()
    };
    buyer::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([buyer::Column::SupplierId, buyer::Column::ExternalId])
                .update_columns([buyer::Column::Name, buyer::Column::Unit])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    buyer::Entity::find()
        .filter(buyer::Column::SupplierId.eq(claims.supplier_id))
        .filter(buyer::Column::ExternalId.eq(claims.buyer_id.trim()))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}
