use leptos::prelude::*;

use super::Frame;

/// Admin backend `/admin` (manual §三): menu 运营管理 › 人员管理 and WEBIM › 报表.
#[component]
pub fn AdminPage() -> impl IntoView {
    view! {
        <Frame area="客服管理后台">
            <div class="admin-layout">
                <nav class="sidebar" aria-label="功能菜单">
                    <div class="menu-group">
                        <div class="menu-title">"运营管理"</div>
                        <div class="menu-subtitle">"人员管理"</div>
                        <a class="menu-item active" href="/admin">"账号新增"</a>
                        <a class="menu-item" href="/admin">"剔除登录"</a>
                    </div>
                    <div class="menu-group">
                        <div class="menu-title">"WEBIM"</div>
                        <div class="menu-subtitle">"报表"</div>
                        <a class="menu-item" href="/admin">"在线会话清单"</a>
                    </div>
                </nav>
                <section class="content">
                    <h1 class="page-title">"账号新增"</h1>
                    <div class="card empty-state">
                        <p>"每个供应商最多可新增 2 个在线客服账号。"</p>
                        <p class="muted">"账号管理、剔除登录和在线会话清单即将开放。"</p>
                    </div>
                </section>
            </div>
        </Frame>
    }
}
