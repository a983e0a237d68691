//! `supplier.api_key_issued_at`: when the order-API key in `api_key_hash` was issued, so the
//! admin's 接口密钥 page can say since when a key is in use without ever showing the key again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .add_column(big_integer_null(Supplier::ApiKeyIssuedAt))
                    .to_owned(),
            )
            .await?;
        // The order API finds the supplier by the hash of the key it is given.
        manager
            .create_index(
                Index::create()
                    .name("ux_supplier_api_key_hash")
                    .table(Supplier::Table)
                    .col(Supplier::ApiKeyHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_supplier_api_key_hash")
                    .table(Supplier::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .drop_column(Supplier::ApiKeyIssuedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Supplier {
    Table,
    ApiKeyHash,
    ApiKeyIssuedAt,
}
