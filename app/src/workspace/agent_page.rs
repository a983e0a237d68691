use leptos::prelude::*;

use super::Frame;

/// Agent workbench `/agent` (manual §2.3): conversations left, chat middle, orders right.
#[component]
pub fn AgentPage() -> impl IntoView {
    view! {
        <Frame area="客服前台">
            <div class="workbench">
                <section class="panel conversations">
                    <h2 class="panel-title">"会话列表"</h2>
                    <p class="empty">"暂无采购人接入"</p>
                </section>
                <section class="panel chat">
                    <h2 class="panel-title">"对话"</h2>
                    <div class="empty chat-empty">
                        <p>"请在左侧选择采购人开始对话"</p>
                    </div>
                </section>
                <section class="panel orders">
                    <h2 class="panel-title">"采购人订单"</h2>
                    <p class="empty">"选择会话后自动加载该采购人的订单"</p>
                </section>
            </div>
        </Frame>
    }
}
