use leptos::prelude::*;
use leptos_router::components::{A, Outlet};

use crate::workspace::Frame;

/// Admin backend frame: the menu of the manual (运营管理 › 人员管理, WEBIM › 报表) and the page.
#[component]
pub fn AdminLayout() -> impl IntoView {
    view! {
        <Frame area="客服管理后台">
            <div class="admin-layout">
                <nav class="sidebar" aria-label="功能菜单">
                    <div class="menu-group">
                        <div class="menu-title">"运营管理"</div>
                        <div class="menu-subtitle">"人员管理"</div>
                        <A href="/admin" exact=true attr:class="menu-item">"账号新增"</A>
                        <A href="/admin/kick" attr:class="menu-item">"剔除登录"</A>
                        <A href="/admin/audit" attr:class="menu-item">"操作日志"</A>
                    </div>
                    <div class="menu-group">
                        <div class="menu-title">"WEBIM"</div>
                        <div class="menu-subtitle">"报表"</div>
                        <A href="/admin/sessions" attr:class="menu-item">"在线会话清单"</A>
                    </div>
                    <div class="menu-group">
                        <div class="menu-title">"订单管理"</div>
                        <A href="/admin/orders-import" attr:class="menu-item">"订单导入"</A>
                        <A href="/admin/api-key" attr:class="menu-item">"接口密钥"</A>
                    </div>
                </nav>
                <section class="content">
                    <Outlet />
                </section>
            </div>
        </Frame>
    }
}
