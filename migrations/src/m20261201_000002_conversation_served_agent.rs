//! `conversation.served_agent_id`: the agent who served the conversation, i.e. whose opening
//! or first answer set 客服进入时间 (t1). Unlike `agent_id` (the agent the conversation is
//! assigned to right now, cleared when that agent's login is kicked and the buyer goes back to
//! routing) it never changes once set, so the session report keeps naming the agent who served.
//!
//! Existing rows with a t1 are filled from what is known: the sender of the conversation's first
//! agent message, else the agent it is assigned to now.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // No foreign key: SQLite cannot add one to an existing table; the column is only ever
        // written from an account id the chat checked, and the report scopes it by supplier.
        manager
            .alter_table(
                Table::alter()
                    .table(Conversation::Table)
                    .add_column(big_integer_null(Conversation::ServedAgentId))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE conversation SET served_agent_id = (\
                 SELECT m.sender_account_id FROM message m \
                 WHERE m.conversation_id = conversation.id AND m.sender_account_id IS NOT NULL \
                 ORDER BY m.seq LIMIT 1) \
             WHERE served_agent_id IS NULL AND agent_joined_at IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE conversation SET served_agent_id = agent_id \
             WHERE served_agent_id IS NULL AND agent_joined_at IS NOT NULL AND agent_id IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversation::Table)
                    .drop_column(Conversation::ServedAgentId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Conversation {
    Table,
    ServedAgentId,
}
