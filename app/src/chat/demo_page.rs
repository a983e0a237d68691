use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::Brand;
use crate::error::AppError;

/// A sample buyer on `/demo`, with a freshly signed widget token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoBuyer {
    pub buyer_id: String,
    pub name: String,
    pub unit: String,
    pub supplier_name: String,
    pub token: String,
}

#[cfg(feature = "ssr")]
impl From<domain::demo::DemoBuyerToken> for DemoBuyer {
    fn from(b: domain::demo::DemoBuyerToken) -> Self {
        DemoBuyer {
            buyer_id: b.buyer_id,
            name: b.name,
            unit: b.unit,
            supplier_name: domain::demo::SUPPLIER_NAME.into(),
            token: b.token,
        }
    }
}

/// Signs widget tokens for the demo buyers. Refused unless the demo data is switched on for
/// this process (`KEFU_DEMO_DATA`): a `demo_admin` account existing is not enough.
#[server(endpoint = "demo_buyers")]
pub async fn demo_buyers() -> Result<Vec<DemoBuyer>, AppError> {
    let state = crate::state::app_state()?;
    let now = chrono::Utc::now().timestamp();
    let secret = &state.chat.buyer_token_secret;
    let buyers = match state.web.demo_data {
        true => domain::demo::buyer_tokens(&state.auth.db, secret, now).await?,
        false => None,
    };
    let buyers = buyers.ok_or_else(|| AppError::invalid(None, "演示数据未启用"))?;
    Ok(buyers.into_iter().map(DemoBuyer::from).collect())
}

/// `/demo`: try the buyer widget as one of the sample buyers.
#[component]
pub fn DemoPage() -> impl IntoView {
    let buyers = Resource::new_blocking(|| (), |_| demo_buyers());
    view! {
        <main class="demo-page">
            <div class="demo-card card">
                <Brand
                    title="在线客服 · 演示入口"
                    subtitle="以示例采购人的身份体验买家咨询窗口"
                    inline_mark=true
                />
                <Suspense fallback=|| view! { <p class="muted">"加载中…"</p> }>
                    {move || Suspend::new(async move {
                        match buyers.await {
                            Ok(list) => view! {
                                <ul class="demo-buyers">
                                    {list.into_iter().map(|b| {
                                        let href = format!(
                                            "/chat?token={}",
                                            percent_encoding::utf8_percent_encode(&b.token, percent_encoding::NON_ALPHANUMERIC)
                                        );
                                        view! {
                                            <li class="demo-buyer">
                                                <div>
                                                    <div class="demo-name">{b.name.clone()} <span class="mono muted">{b.buyer_id.clone()}</span></div>
                                                    <div class="muted">{b.unit.clone()} " · 咨询 " {b.supplier_name.clone()}</div>
                                                </div>
                                                <a class="btn primary" href=href aria-label=format!("{} 开始咨询", b.name)>"开始咨询"</a>
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any(),
                            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <p class="hint">"客服请在 " <a href="/login">"登录页"</a> " 登录后进入客服前台，切换到「服务中」接待。"</p>
            </div>
        </main>
    }
    .into_any()
}
