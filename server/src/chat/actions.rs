//! What both sides do in a conversation the same way: send a message, say they are typing, end
//! it. The agent workbench and the buyer widget differ only in who they are ([`Member`]) and in
//! their frames ([`Side`]).

use domain::DomainError;
use domain::chat::{EndReason, NewMessage};
use domain::db::now_ms;
use domain::entity::conversation;

use super::ChatState;
use super::hub::SocketId;
use super::notify::{Origin, chat_messages};
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

/// Who acts in a conversation: the assigned agent or the conversation's buyer.
#[derive(Clone, Copy, Debug)]
pub(super) enum Member {
    Agent { supplier_id: i64, agent_id: i64 },
    Buyer { supplier_id: i64, buyer_id: i64 },
}

impl Member {
    /// The conversation if it is this member's ([`domain::chat::conversation_for_agent`] /
    /// [`domain::chat::conversation_for_buyer`]).
    async fn conversation(
        self,
        chat: &ChatState,
        conversation_id: i64,
    ) -> Result<conversation::Model, DomainError> {
        match self {
            Member::Agent {
                supplier_id,
                agent_id,
            } => {
                domain::chat::conversation_for_agent(
                    &chat.db,
                    supplier_id,
                    agent_id,
                    conversation_id,
                )
                .await
            }
            Member::Buyer {
                supplier_id,
                buyer_id,
            } => {
                domain::chat::conversation_for_buyer(
                    &chat.db,
                    supplier_id,
                    buyer_id,
                    conversation_id,
                )
                .await
            }
        }
    }

    fn origin(self, socket: SocketId) -> Origin {
        match self {
            Member::Agent { .. } => Origin::Agent(socket),
            Member::Buyer { .. } => Origin::Buyer(socket),
        }
    }

    /// 结束方式 when this member ends the conversation.
    fn end_reason(self) -> EndReason {
        match self {
            Member::Agent { .. } => EndReason::Agent,
            Member::Buyer { .. } => EndReason::Buyer,
        }
    }
}

/// Stores one message (text, picture or order card), tells the others, and answers with the
/// `Ack`, or the refusal naming the client id.
pub(super) async fn send<S: Answers>(
    chat: &ChatState,
    member: Member,
    socket: SocketId,
    conversation_id: i64,
    msg: &NewMessage<'_>,
) -> Vec<S::Out> {
    let result = async {
        let conversation = member.conversation(chat, conversation_id).await?;
        let (stored, new) = chat.writer.store(conversation_id, msg, now_ms()).await?;
        let seq = stored.seq;
        if new {
            // Committed: from here on a failure is logged, never the sender's error (its Ack).
            if let Err(err) = tell_stored(chat, member, socket, conversation, stored).await {
                tracing::error!(error = %err, conversation_id, seq, "telling a stored message failed");
            }
        }
        Ok::<_, DomainError>(seq)
    }
    .await;
    let client_msg_id = msg.client_msg_id.to_owned();
    match result {
        Ok(seq) => vec![S::ack(client_msg_id, seq)],
        Err(err) => vec![S::error(&err, Some(client_msg_id))],
    }
}

/// Tells the others about a message just stored.
async fn tell_stored(
    chat: &ChatState,
    member: Member,
    socket: SocketId,
    conversation: conversation::Model,
    stored: domain::entity::message::Model,
) -> Result<(), DomainError> {
    let conversation = match member {
        // Re-read: an agent may have been assigned since this socket connected.
        Member::Buyer { .. } => member.conversation(chat, conversation.id).await?,
        Member::Agent { .. } => conversation,
    };
    if let Some(m) = chat_messages(&chat.db, &conversation, vec![stored])
        .await?
        .into_iter()
        .next()
    {
        chat.notifier
            .message_stored(&conversation, m, member.origin(socket));
    }
    Ok(())
}

/// The member is typing: the other side hears it while the conversation is open.
pub(super) async fn typing<S: Answers>(
    chat: &ChatState,
    member: Member,
    conversation_id: i64,
) -> Vec<S::Out> {
    match member.conversation(chat, conversation_id).await {
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
    let reason = member.end_reason();
    let result = async {
        let before = member.conversation(chat, conversation_id).await?;
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
