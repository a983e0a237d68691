use leptos::prelude::*;

use super::workbench::Workbench;
use crate::chat::ChatHandle;
use crate::chat::protocol::AgentFrame;
use crate::components::Modal;

/// 结束对话's confirmation, while `open`: 确定 ends the open conversation.
#[component]
pub fn EndConversationDialog(bench: ChatHandle<Workbench>, open: RwSignal<bool>) -> impl IntoView {
    let end_current = move || {
        if let Some(conversation_id) = bench.state.with_untracked(|s| s.selected) {
            bench.send(&AgentFrame::End { conversation_id });
        }
        open.set(false);
    };
    move || {
        open.get().then(|| view! {
            <Modal title="结束对话" on_close=move || open.set(false)>
                <p>"确定要结束与该采购人的对话吗？结束后双方都不能再发送消息。"</p>
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=move |_| open.set(false)>"取消"</button>
                    <button type="button" class="btn primary" on:click=move |_| end_current()>"确定"</button>
                </div>
            </Modal>
        })
    }
}
