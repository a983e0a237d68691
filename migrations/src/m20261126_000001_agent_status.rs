//! `agent_status`: whether an agent is 服务中 (serving) or 示忙 (busy), and when they were last
//! given a buyer (the routing tie-break "idle longest").
//!
//! One row per agent account, created on first use; a missing row means 示忙.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AgentStatus::Table)
                    .col(big_integer(AgentStatus::AccountId).primary_key())
                    .col(big_integer(AgentStatus::SupplierId))
                    .col(boolean(AgentStatus::Serving).default(false))
                    .col(big_integer_null(AgentStatus::ServingSince))
                    .col(big_integer_null(AgentStatus::LastAssignedAt))
                    .col(big_integer(AgentStatus::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_status_account")
                            .from(AgentStatus::Table, AgentStatus::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_status_supplier")
                            .from(AgentStatus::Table, AgentStatus::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_status_supplier_serving")
                    .table(AgentStatus::Table)
                    .col(AgentStatus::SupplierId)
                    .col(AgentStatus::Serving)
                    .to_owned(),
            )
            .await?;
        // The queue of a supplier and the idle sweep read conversations by status.
        manager
            .create_index(
                Index::create()
                    .name("ix_conversation_supplier_status_entered")
                    .table(Conversation::Table)
                    .col(Conversation::SupplierId)
                    .col(Conversation::Status)
                    .col(Conversation::EnteredAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_conversation_supplier_status_entered")
                    .table(Conversation::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(AgentStatus::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum AgentStatus {
    Table,
    AccountId,
    SupplierId,
    Serving,
    ServingSince,
    LastAssignedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Supplier {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversation {
    Table,
    SupplierId,
    Status,
    EnteredAt,
}
