use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The first demo supplier's buyers, as `domain::demo` seeds them (客户编号, name, unit).
#[cfg(feature = "ssr")]
const DEMO_BUYERS: [(&str, &str, &str); 3] = [
    ("CG1001", "王采购", "某县第一中学"),
    ("CG1002", "李老师", "某市人民医院"),
    ("CG1003", "赵科长", "某区农业农村局"),
];

/// How long a demo token is valid.
#[cfg(feature = "ssr")]
const DEMO_TOKEN_SECS: i64 = 2 * 60 * 60;

/// Supplier ids searched for the demo supplier (it is created first on a fresh database).
#[cfg(feature = "ssr")]
const DEMO_SUPPLIER_SCAN: i64 = 16;

/// The demo supplier's id: the supplier whose admin is the demo admin. `None` when the demo
/// data was never loaded, which is what keeps this page shut in production.
#[cfg(feature = "ssr")]
async fn demo_supplier_id(state: &crate::state::AppState) -> Result<Option<i64>, AppError> {
    for id in 1..=DEMO_SUPPLIER_SCAN {
        let rows = state
            .auth
            .search_logins(id, domain::demo::ADMIN_LOGIN)
            .await?;
        if rows
            .iter()
            .any(|r| r.account.login == domain::demo::ADMIN_LOGIN)
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Signs widget tokens for the demo buyers. Refused unless the demo data is switched on for
/// this process (`KEFU_DEMO_DATA`): a `demo_admin` account existing is not enough.
#[server(endpoint = "demo_buyers")]
pub async fn demo_buyers() -> Result<Vec<DemoBuyer>, AppError> {
    let state = crate::state::app_state()?;
    if !state.web.demo_data {
        return Err(AppError::invalid(None, "演示数据未启用"));
    }
    let Some(supplier_id) = demo_supplier_id(&state).await? else {
        return Err(AppError::invalid(None, "演示数据未启用"));
    };
    let exp = chrono::Utc::now().timestamp() + DEMO_TOKEN_SECS;
    Ok(DEMO_BUYERS
        .iter()
        .map(|(buyer_id, name, unit)| {
            let claims = domain::chat::BuyerClaims {
                v: 1,
                supplier_id,
                buyer_id: (*buyer_id).into(),
                name: (*name).into(),
                unit: (*unit).into(),
                exp,
            };
            DemoBuyer {
                buyer_id: (*buyer_id).into(),
                name: (*name).into(),
                unit: (*unit).into(),
                supplier_name: domain::demo::SUPPLIER_NAME.into(),
                token: domain::chat::sign(&state.chat.buyer_token_secret, &claims),
            }
        })
        .collect())
}

/// `/demo`: try the buyer widget as one of the sample buyers.
#[component]
pub fn DemoPage() -> impl IntoView {
    let buyers = Resource::new_blocking(|| (), |_| demo_buyers());
    view! {
        <main class="demo-page">
            <div class="demo-card card">
                <div class="login-brand">
                    <span class="logo-mark">"832"</span>
                    <div>
                        <h1>"在线客服 · 演示入口"</h1>
                        <p class="subtitle">"以示例采购人的身份体验买家咨询窗口"</p>
                    </div>
                </div>
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
