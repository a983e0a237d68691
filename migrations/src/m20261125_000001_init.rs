//! The whole first schema of the product.
//!
//! Portability rules followed here (SQLite and PostgreSQL):
//! - every timestamp is a BIGINT of unix milliseconds (UTC), so comparisons and durations are
//!   plain integer arithmetic on both databases;
//! - ids are BIGINT auto-increment (`integer primary key autoincrement` on SQLite);
//! - enumerations are short strings checked by the domain crate, not database enums;
//! - foreign keys are declared inside CREATE TABLE (SQLite cannot add them later).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // supplier: one tenant.
        manager
            .create_table(
                Table::create()
                    .table(Supplier::Table)
                    .col(big_pk_auto(Supplier::Id))
                    .col(string_len(Supplier::Name, 100))
                    .col(string_len_null(Supplier::ApiKeyHash, 128))
                    .col(integer(Supplier::NextAgentNo).default(1))
                    .col(big_integer(Supplier::CreatedAt))
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_supplier_name",
            Supplier::Table,
            &[Supplier::Name],
        )
        .await?;

        // account: admins and agents of a supplier.
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(big_pk_auto(Account::Id))
                    .col(big_integer(Account::SupplierId))
                    .col(string_len(Account::Role, 16))
                    .col(string_len(Account::Login, 32))
                    .col(string_len(Account::DisplayName, 32))
                    .col(string_len(Account::PasswordHash, 255))
                    .col(big_integer(Account::CreatedAt))
                    .col(big_integer(Account::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_account_supplier")
                            .from(Account::Table, Account::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_account_login",
            Account::Table,
            &[Account::Login],
        )
        .await?;
        plain_index(
            manager,
            "ix_account_supplier",
            Account::Table,
            &[Account::SupplierId],
        )
        .await?;

        // login_session: the live logins. UNIQUE(account_id) is what enforces single login.
        manager
            .create_table(
                Table::create()
                    .table(LoginSession::Table)
                    .col(big_pk_auto(LoginSession::Id))
                    .col(big_integer(LoginSession::AccountId))
                    .col(string_len(LoginSession::TokenHash, 64))
                    .col(string_len(LoginSession::ClientAddr, 64))
                    .col(string_len(LoginSession::UserAgent, 200))
                    .col(big_integer(LoginSession::CreatedAt))
                    .col(big_integer(LoginSession::LastSeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_login_session_account")
                            .from(LoginSession::Table, LoginSession::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_login_session_account",
            LoginSession::Table,
            &[LoginSession::AccountId],
        )
        .await?;
        unique_index(
            manager,
            "ux_login_session_token",
            LoginSession::Table,
            &[LoginSession::TokenHash],
        )
        .await?;

        // buyer: a procurement person of a budget unit, as the mall identifies them.
        manager
            .create_table(
                Table::create()
                    .table(Buyer::Table)
                    .col(big_pk_auto(Buyer::Id))
                    .col(big_integer(Buyer::SupplierId))
                    .col(string_len(Buyer::ExternalId, 64))
                    .col(string_len(Buyer::Name, 64))
                    .col(string_len(Buyer::Unit, 128))
                    .col(big_integer(Buyer::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_buyer_supplier")
                            .from(Buyer::Table, Buyer::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_buyer_supplier_external",
            Buyer::Table,
            &[Buyer::SupplierId, Buyer::ExternalId],
        )
        .await?;

        // conversation: one chat session between a buyer and (eventually) an agent.
        manager
            .create_table(
                Table::create()
                    .table(Conversation::Table)
                    .col(big_pk_auto(Conversation::Id))
                    .col(big_integer(Conversation::SupplierId))
                    .col(big_integer(Conversation::BuyerId))
                    .col(big_integer_null(Conversation::AgentId))
                    .col(string_len(Conversation::Status, 16))
                    .col(big_integer(Conversation::EnteredAt))
                    .col(big_integer_null(Conversation::AgentJoinedAt))
                    .col(big_integer_null(Conversation::FirstAgentReplyAt))
                    .col(big_integer_null(Conversation::EndedAt))
                    .col(string_len_null(Conversation::EndReason, 16))
                    .col(integer(Conversation::AgentMsgCount).default(0))
                    .col(integer(Conversation::BuyerMsgCount).default(0))
                    .col(integer(Conversation::LastSeq).default(0))
                    .col(big_integer(Conversation::LastMessageAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversation_supplier")
                            .from(Conversation::Table, Conversation::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversation_buyer")
                            .from(Conversation::Table, Conversation::BuyerId)
                            .to(Buyer::Table, Buyer::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conversation_agent")
                            .from(Conversation::Table, Conversation::AgentId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        plain_index(
            manager,
            "ix_conversation_supplier_entered",
            Conversation::Table,
            &[Conversation::SupplierId, Conversation::EnteredAt],
        )
        .await?;
        plain_index(
            manager,
            "ix_conversation_agent_status",
            Conversation::Table,
            &[Conversation::AgentId, Conversation::Status],
        )
        .await?;
        plain_index(
            manager,
            "ix_conversation_buyer",
            Conversation::Table,
            &[Conversation::BuyerId],
        )
        .await?;

        // upload: a picture sent in a chat; the file lives on disk under stored_name.
        manager
            .create_table(
                Table::create()
                    .table(Upload::Table)
                    .col(big_pk_auto(Upload::Id))
                    .col(big_integer(Upload::SupplierId))
                    .col(big_integer_null(Upload::ConversationId))
                    .col(string_len(Upload::StoredName, 100))
                    .col(string_len(Upload::ContentType, 100))
                    .col(big_integer(Upload::ByteSize))
                    .col(integer(Upload::Width))
                    .col(integer(Upload::Height))
                    .col(big_integer(Upload::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_upload_supplier")
                            .from(Upload::Table, Upload::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_upload_conversation")
                            .from(Upload::Table, Upload::ConversationId)
                            .to(Conversation::Table, Conversation::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_upload_stored_name",
            Upload::Table,
            &[Upload::StoredName],
        )
        .await?;

        // purchase_order: this system's copy of a mall order.
        manager
            .create_table(
                Table::create()
                    .table(PurchaseOrder::Table)
                    .col(big_pk_auto(PurchaseOrder::Id))
                    .col(big_integer(PurchaseOrder::SupplierId))
                    .col(big_integer(PurchaseOrder::BuyerId))
                    .col(string_len(PurchaseOrder::OrderNo, 64))
                    .col(string_len(PurchaseOrder::Status, 16))
                    .col(big_integer(PurchaseOrder::TotalFen))
                    .col(big_integer(PurchaseOrder::FreightFen).default(0))
                    .col(big_integer(PurchaseOrder::CreatedAt))
                    .col(big_integer_null(PurchaseOrder::PaidAt))
                    .col(string_len(PurchaseOrder::ConsigneeName, 64))
                    .col(string_len(PurchaseOrder::ConsigneePhone, 32))
                    .col(string_len(PurchaseOrder::ConsigneeAddress, 255))
                    .col(string_len_null(PurchaseOrder::LogisticsCompany, 64))
                    .col(string_len_null(PurchaseOrder::TrackingNo, 64))
                    .col(big_integer(PurchaseOrder::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_purchase_order_supplier")
                            .from(PurchaseOrder::Table, PurchaseOrder::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_purchase_order_buyer")
                            .from(PurchaseOrder::Table, PurchaseOrder::BuyerId)
                            .to(Buyer::Table, Buyer::Id),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_purchase_order_supplier_no",
            PurchaseOrder::Table,
            &[PurchaseOrder::SupplierId, PurchaseOrder::OrderNo],
        )
        .await?;
        plain_index(
            manager,
            "ix_purchase_order_buyer_created",
            PurchaseOrder::Table,
            &[
                PurchaseOrder::SupplierId,
                PurchaseOrder::BuyerId,
                PurchaseOrder::CreatedAt,
            ],
        )
        .await?;

        // order_item: a line of an order.
        manager
            .create_table(
                Table::create()
                    .table(OrderItem::Table)
                    .col(big_pk_auto(OrderItem::Id))
                    .col(big_integer(OrderItem::OrderId))
                    .col(string_len(OrderItem::Name, 200))
                    .col(string_len(OrderItem::Spec, 200))
                    .col(string_len(OrderItem::PictureUrl, 500))
                    .col(big_integer(OrderItem::UnitPriceFen))
                    .col(integer(OrderItem::Quantity))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_item_order")
                            .from(OrderItem::Table, OrderItem::OrderId)
                            .to(PurchaseOrder::Table, PurchaseOrder::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        plain_index(
            manager,
            "ix_order_item_order",
            OrderItem::Table,
            &[OrderItem::OrderId],
        )
        .await?;

        // message: one chat message; seq orders a conversation and drives reconnect catch-up.
        manager
            .create_table(
                Table::create()
                    .table(Message::Table)
                    .col(big_pk_auto(Message::Id))
                    .col(big_integer(Message::ConversationId))
                    .col(integer(Message::Seq))
                    .col(string_len(Message::Sender, 16))
                    .col(big_integer_null(Message::SenderAccountId))
                    .col(string_len(Message::ClientMsgId, 64))
                    .col(string_len(Message::Kind, 16))
                    .col(text(Message::Body))
                    .col(small_integer(Message::FontSize))
                    .col(big_integer_null(Message::UploadId))
                    .col(big_integer_null(Message::OrderId))
                    .col(big_integer(Message::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_conversation")
                            .from(Message::Table, Message::ConversationId)
                            .to(Conversation::Table, Conversation::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_sender_account")
                            .from(Message::Table, Message::SenderAccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_upload")
                            .from(Message::Table, Message::UploadId)
                            .to(Upload::Table, Upload::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_message_order")
                            .from(Message::Table, Message::OrderId)
                            .to(PurchaseOrder::Table, PurchaseOrder::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        unique_index(
            manager,
            "ux_message_conversation_seq",
            Message::Table,
            &[Message::ConversationId, Message::Seq],
        )
        .await?;
        unique_index(
            manager,
            "ux_message_conversation_client_msg",
            Message::Table,
            &[Message::ConversationId, Message::ClientMsgId],
        )
        .await?;

        // audit_log: admin actions a supplier's admin can read back.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_pk_auto(AuditLog::Id))
                    .col(big_integer(AuditLog::SupplierId))
                    .col(big_integer_null(AuditLog::ActorAccountId))
                    .col(string_len(AuditLog::Action, 32))
                    .col(text(AuditLog::Detail))
                    .col(big_integer(AuditLog::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_log_supplier")
                            .from(AuditLog::Table, AuditLog::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_log_actor")
                            .from(AuditLog::Table, AuditLog::ActorAccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        plain_index(
            manager,
            "ix_audit_log_supplier_created",
            AuditLog::Table,
            &[AuditLog::SupplierId, AuditLog::CreatedAt],
        )
        .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents, so foreign keys never block a drop.
        let tables: [DynIden; 10] = [
            AuditLog::Table.into_iden(),
            Message::Table.into_iden(),
            OrderItem::Table.into_iden(),
            PurchaseOrder::Table.into_iden(),
            Upload::Table.into_iden(),
            Conversation::Table.into_iden(),
            Buyer::Table.into_iden(),
            LoginSession::Table.into_iden(),
            Account::Table.into_iden(),
            Supplier::Table.into_iden(),
        ];
        for table in tables {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

async fn unique_index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden + Clone,
{
    let mut index = Index::create();
    index.name(name).table(table).unique();
    for col in cols {
        index.col(col.clone());
    }
    manager.create_index(index.to_owned()).await
}

async fn plain_index<T, C>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    cols: &[C],
) -> Result<(), DbErr>
where
    T: IntoIden,
    C: IntoIden + Clone,
{
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(col.clone());
    }
    manager.create_index(index.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Supplier {
    Table,
    Id,
    Name,
    ApiKeyHash,
    NextAgentNo,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Account {
    Table,
    Id,
    SupplierId,
    Role,
    Login,
    DisplayName,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginSession {
    Table,
    Id,
    AccountId,
    TokenHash,
    ClientAddr,
    UserAgent,
    CreatedAt,
    LastSeenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Buyer {
    Table,
    Id,
    SupplierId,
    ExternalId,
    Name,
    Unit,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conversation {
    Table,
    Id,
    SupplierId,
    BuyerId,
    AgentId,
    Status,
    EnteredAt,
    AgentJoinedAt,
    FirstAgentReplyAt,
    EndedAt,
    EndReason,
    AgentMsgCount,
    BuyerMsgCount,
    LastSeq,
    LastMessageAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Message {
    Table,
    Id,
    ConversationId,
    Seq,
    Sender,
    SenderAccountId,
    ClientMsgId,
    Kind,
    Body,
    FontSize,
    UploadId,
    OrderId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Upload {
    Table,
    Id,
    SupplierId,
    ConversationId,
    StoredName,
    ContentType,
    ByteSize,
    Width,
    Height,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PurchaseOrder {
    Table,
    Id,
    SupplierId,
    BuyerId,
    OrderNo,
    Status,
    TotalFen,
    FreightFen,
    CreatedAt,
    PaidAt,
    ConsigneeName,
    ConsigneePhone,
    ConsigneeAddress,
    LogisticsCompany,
    TrackingNo,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OrderItem {
    Table,
    Id,
    OrderId,
    Name,
    Spec,
    PictureUrl,
    UnitPriceFen,
    Quantity,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    SupplierId,
    ActorAccountId,
    Action,
    Detail,
    CreatedAt,
}
