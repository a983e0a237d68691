//! Tenant scoping in one place: a row found by id is the supplier's, or it is `NotFound`.
//!
//! A row of another supplier answers exactly as a row that does not exist, so an id guessed
//! across tenants tells nothing.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter, Select};

use crate::DomainError;
use crate::chat::agent_status;
use crate::entity::{account, buyer, conversation, purchase_order, upload};

/// A table whose rows belong to one supplier and are found by an `i64` id.
pub(crate) trait SupplierScoped:
    EntityTrait<PrimaryKey: PrimaryKeyTrait<ValueType = i64>>
{
    /// The column naming the row's supplier.
    const SUPPLIER_ID: Self::Column;
}

/// Each named entity module's `Entity` is scoped by its `SupplierId` column.
macro_rules! supplier_scoped {
    ($($table:ident),+) => {$(
        impl SupplierScoped for $table::Entity {
            const SUPPLIER_ID: $table::Column = $table::Column::SupplierId;
        }
    )+};
}

supplier_scoped!(
    account,
    agent_status,
    buyer,
    conversation,
    purchase_order,
    upload
);

/// The query for row `id` of `E` among the supplier's rows only (narrow it further with
/// `.filter`, then [`one_or_not_found`]).
pub(crate) fn of_supplier<E: SupplierScoped>(supplier_id: i64, id: i64) -> Select<E> {
    E::find_by_id(id).filter(E::SUPPLIER_ID.eq(supplier_id))
}

/// The row `select` finds, or `NotFound`.
pub(crate) async fn one_or_not_found<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    select: Select<E>,
) -> Result<E::Model, DomainError> {
    select.one(db).await?.ok_or(DomainError::NotFound)
}

/// Row `id` of `E` if it is the supplier's; `NotFound` when it does not exist or is another
/// supplier's.
pub(crate) async fn find_of_supplier<E: SupplierScoped, C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    id: i64,
) -> Result<E::Model, DomainError> {
    one_or_not_found(db, of_supplier::<E>(supplier_id, id)).await
}
