//! Indexes for the 在线会话清单 over a million conversations: every query of the report (its page,
//! its totals aggregate, the export's keyset walk) is one range of one index, already in
//! report order (newest entry, then newest id), so the first pages need no sort.
//!
//! - `(supplier_id, entered_at, id)` replaces `(supplier_id, entered_at)`: SQLite keeps the id
//!   (the rowid) in every index anyway, PostgreSQL needs it spelled out to walk `entered_at DESC,
//!   id DESC` without sorting the rows of one instant.
//! - `(supplier_id, COALESCE(served_agent_id, agent_id), entered_at, id)`: the agent filter. The
//!   agent of a line is the one who served it, else the one it is assigned to; the report
//!   filters on exactly this expression, which both databases then find in the index.
//! - `(buyer_id, entered_at, id)` replaces `(buyer_id)`: the 客户编号 filter selects the buyers
//!   first, then reads each one's conversations of the range in order.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        replace_index(
            manager,
            "ix_conversation_supplier_entered",
            "ix_conversation_supplier_entered_id",
            &[
                Conversation::SupplierId,
                Conversation::EnteredAt,
                Conversation::Id,
            ],
        )
        .await?;
        replace_index(
            manager,
            "ix_conversation_buyer",
            "ix_conversation_buyer_entered",
            &[
                Conversation::BuyerId,
                Conversation::EnteredAt,
                Conversation::Id,
            ],
        )
        .await?;
        // sea-query writes no expression index for SQLite; this statement is the same on both.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX ix_conversation_supplier_agent_entered ON conversation \
                 (supplier_id, (COALESCE(served_agent_id, agent_id)), entered_at, id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_conversation_supplier_agent_entered")
                    .table(Conversation::Table)
                    .to_owned(),
            )
            .await?;
        replace_index(
            manager,
            "ix_conversation_buyer_entered",
            "ix_conversation_buyer",
            &[Conversation::BuyerId],
        )
        .await?;
        replace_index(
            manager,
            "ix_conversation_supplier_entered_id",
            "ix_conversation_supplier_entered",
            &[Conversation::SupplierId, Conversation::EnteredAt],
        )
        .await
    }
}

/// Creates `new` on `columns` of `conversation`, then drops `old` (in that order, so a query
/// running meanwhile always has one of them).
async fn replace_index(
    manager: &SchemaManager<'_>,
    old: &str,
    new: &str,
    columns: &[Conversation],
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(new).table(Conversation::Table);
    for column in columns {
        index.col(*column);
    }
    manager.create_index(index.to_owned()).await?;
    manager
        .drop_index(
            Index::drop()
                .name(old)
                .table(Conversation::Table)
                .to_owned(),
        )
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversation {
    Table,
    Id,
    SupplierId,
    BuyerId,
    EnteredAt,
}
