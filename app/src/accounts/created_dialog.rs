use leptos::prelude::*;

use super::NewAgent;
use crate::components::SecretDialog;

/// The new account's login and initial password, shown this once, with a copy button.
#[component]
pub fn CreatedDialog(agent: NewAgent, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let text = format!("登录账号：{}\n初始密码：{}", agent.login, agent.password);
    view! {
        <SecretDialog title="客服账号已创建" copy_text=text class="created" on_close>
            <p>"已为「" {agent.display_name} "」分配账号，初始密码只显示这一次，请复制后交给该客服："</p>
            <dl class="credentials">
                <dt>"登录账号"</dt>
                <dd class="mono" data-testid="new-login">{agent.login}</dd>
                <dt>"初始密码"</dt>
                <dd class="mono" data-testid="new-password">{agent.password}</dd>
            </dl>
        </SecretDialog>
    }
}
