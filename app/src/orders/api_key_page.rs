use leptos::prelude::*;

use super::{OPENAPI_PATH, RotateApiKey, api_key_info};
use crate::components::{
    ActionStatus, ConfirmDialog, FormError, PageHead, SecretDialog, on_success,
};
use crate::use_hydrated;

/// 接口密钥: whether the supplier has a key for the mall's order API and since when; 重置
/// (after confirmation) issues a new one, shown this once with a copy button. The old key stops
/// working at once.
#[component]
pub fn ApiKeyPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let rotate = ServerAction::<RotateApiKey>::new();
    let info = Resource::new(move || rotate.version().get(), |_| api_key_info());
    let confirming = RwSignal::new(false);
    let new_key = RwSignal::new(None::<String>);

    on_success(rotate, move |key| {
        confirming.set(false);
        new_key.set(Some(key));
    });
    let ask = move |_| {
        rotate.clear();
        confirming.set(true);
    };

    view! {
        <PageHead
            title="接口密钥"
            hint="商城通过订单接口推送本供应商的订单，调用时在请求头中携带 Authorization: Bearer 密钥。密钥只在生成时显示一次，系统只保存其摘要。"
        />
        <div class="card import-card">
            <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) if info.issued => view! {
                            <p data-testid="api-key-status">
                                <span class="tag ok">"已签发"</span>
                                " 签发时间：" {info.issued_at.unwrap_or_default()}
                            </p>
                        }.into_any(),
                        Ok(_) => view! {
                            <p data-testid="api-key-status"><span class="tag">"未签发"</span> " 尚未生成接口密钥，商城暂时无法推送订单"</p>
                        }.into_any(),
                        Err(e) => view! { <FormError message=Some(e.to_string()) /> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="dialog-actions left">
                <button type="button" class="btn primary" disabled=move || !hydrated.get() on:click=ask>
                    "生成新密钥"
                </button>
                <a class="btn" href=OPENAPI_PATH target="_blank" rel="noopener">"接口文档（OpenAPI）"</a>
            </div>
        </div>
        <Show when=move || confirming.get()>
            <ConfirmDialog
                title="生成新密钥"
                status=ActionStatus::of(rotate)
                on_close=move || confirming.set(false)
                on_confirm=move || {
                    rotate.dispatch(RotateApiKey {});
                }
            >
                <p>"生成新密钥后，旧密钥立即失效，商城需要改用新密钥才能继续推送订单。确定生成吗？"</p>
            </ConfirmDialog>
        </Show>
        {move || new_key.get().map(|key| view! { <NewKeyDialog key on_close=move || new_key.set(None) /> })}
    }
}

/// The new key, shown this once, with a copy button.
#[component]
fn NewKeyDialog(key: String, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    view! {
        <SecretDialog title="新的接口密钥" copy_text=key.clone() on_close>
            <p>"密钥只显示这一次，关闭后无法再查看，请复制后交给商城对接人员妥善保存："</p>
            <p class="mono import-key" data-testid="new-api-key">{key}</p>
        </SecretDialog>
    }
}
