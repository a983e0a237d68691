//! What both sides do in a conversation the same way: send a message, say they are typing, end
//! it. The agent workbench and the buyer widget differ only in who they are ([`Member`]) and in
//! their frames ([`Side`]).

use domain::DomainError;
use domain::chat::{EndReason, Member, NewMessage, StoredMessage};
use domain::db::now_ms;
use domain::entity::conversation;

use super::ChatState;
use super::hub::SocketId;
use super::notify::{Origin, chat_messages, text_message};
use super::socket::Side;

/// The frames a side answers these actions with, besides its `Error` ([`Side::refusal`]).
pub(super) trait Answers: Side {
    /// The message with this client id is stored as `seq`.
    fn ack(client_msg_id: String, seq: i32) -> Self::Out;
    /// The conversation had ended already, this way.
    fn ended(conversation_id: i64, reason: EndReason) -> Self::Out;
}

/// Implements [`Answers`] for a side whose server frames have the `Ack` and `Ended` variants
/// both sides' frames have (`answers_with!(AgentSocket, AgentServerFrame)`).
macro_rules! answers_with {
    ($side:ty, $frame:ident) => {
        impl $crate::chat::actions::Answers for $side {
            fn ack(client_msg_id: String, seq: i32) -> $frame {
                $frame::Ack(app::chat::protocol::MessageAck { client_msg_id, seq })
            }

            fn ended(conversation_id: i64, reason: domain::chat::EndReason) -> $frame {
                $frame::Ended(app::chat::protocol::ConversationEnded {
                    conversation_id,
                    reason,
                })
            }
        }
    };
}
pub(super) use answers_with;

/// The conversation if it is the member's ([`domain::chat::conversation_of`]).
async fn conversation_of(
    chat: &ChatState,
    member: Member,
    conversation_id: i64,
) -> Result<conversation::Model, DomainError> {
    domain::chat::conversation_of(&chat.db, member, conversation_id).await
}

fn origin(member: Member, socket: SocketId) -> Origin {
    match member {
        Member::Agent { .. } => Origin::Agent(socket),
        Member::Buyer { .. } => Origin::Buyer(socket),
    }
}

/// 结束方式 when this member ends the conversation.
fn end_reason(member: Member) -> EndReason {
    match member {
        Member::Agent { .. } => EndReason::Agent,
        Member::Buyer { .. } => EndReason::Buyer,
    }
}

/// Stores one message (text, picture or order card), tells the others, and answers with the
/// `Ack`, or the refusal naming the client id. The writer checks on the locked conversation row
/// that it is the member's and hands that row back, so a message costs its share of the group's
/// statements and nothing else. `name` is the sender's shown name when the socket knows it (the
/// buyer's); otherwise it is read.
pub(super) async fn send<S: Answers>(
    chat: &ChatState,
    (member, name): (Member, Option<&str>),
    socket: SocketId,
    conversation_id: i64,
    msg: &NewMessage<'_>,
) -> Vec<S::Out> {
    let stored = chat
        .writer
        .store(conversation_id, Some(member), msg, now_ms())
        .await;
    let client_msg_id = msg.client_msg_id.to_owned();
    match stored {
        Ok(stored) => {
            let seq = stored.message.seq;
            // Committed: from here on a failure is logged, never the sender's error (its Ack).
            if stored.created
                && let Err(err) = tell_stored(chat, origin(member, socket), name, stored).await
            {
                tracing::error!(error = %err, conversation_id, seq, "telling a stored message failed");
            }
            vec![S::ack(client_msg_id, seq)]
        }
        Err(err) => vec![S::error(&err, Some(client_msg_id))],
    }
}

/// Tells the others about a message just stored, to whom its conversation row (as the writer
/// left it, so with the agent assigned now) says.
async fn tell_stored(
    chat: &ChatState,
    origin: Origin,
    name: Option<&str>,
    stored: StoredMessage,
) -> Result<(), DomainError> {
    let StoredMessage {
        message,
        conversation,
        ..
    } = stored;
    let shown = match name {
        Some(name) if message.kind == domain::entity::message::KIND_TEXT => {
            Some(text_message(message, name))
        }
        _ => chat_messages(&chat.db, &conversation, vec![message])
            .await?
            .into_iter()
            .next(),
    };
    if let Some(m) = shown {
        chat.notifier.message_stored(&conversation, m, origin);
    }
    Ok(())
}

/// The member is typing: the other side hears it while the conversation is open.
pub(super) async fn typing<S: Answers>(
    chat: &ChatState,
    member: Member,
    conversation_id: i64,
) -> Vec<S::Out> {
    match conversation_of(chat, member, conversation_id).await {
        Ok(conversation) if conversation.ended_at.is_none() => {
            let by_agent = matches!(member, Member::Agent { .. });
            chat.notifier.typing(&conversation, by_agent);
            Vec::new()
        }
        Ok(_) => Vec::new(),
        Err(err) => vec![S::error(&err, None)],
    }
}

/// 结束对话 by the member. Every socket of both sides, this one included, hears it through the
/// hub; a conversation that had ended already is answered here with how it ended.
pub(super) async fn end<S: Answers>(
    chat: &ChatState,
    member: Member,
    conversation_id: i64,
) -> Vec<S::Out> {
    let reason = end_reason(member);
    let result = async {
        let before = conversation_of(chat, member, conversation_id).await?;
        let (conversation, ended) = domain::chat::end_conversation(
            &chat.db,
            before.supplier_id,
            conversation_id,
            reason,
            now_ms(),
        )
        .await?;
        Ok::<_, DomainError>((
            before.status == conversation::STATUS_QUEUED,
            conversation,
            ended,
        ))
    }
    .await;
    match result {
        Ok((was_queued, conversation, true)) => {
            chat.notifier.ended(&conversation, reason);
            // The buyers behind it move up.
            if was_queued {
                chat.notifier.queue_changed(conversation.supplier_id);
            }
            Vec::new()
        }
        Ok((_, conversation, false)) => vec![S::ended(
            conversation_id,
            domain::chat::end_reason_of(&conversation).unwrap_or(reason),
        )],
        Err(err) => vec![S::error(&err, None)],
    }
}
