use leptos::prelude::*;

use super::{ImportResponse, TEMPLATE_PATH};
use crate::components::{FormError, PageHead, Toast, head_row};
use crate::use_hydrated;

/// Largest file the page sends (the server enforces the same limit).
#[cfg(feature = "hydrate")]
const MAX_FILE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;

/// 订单导入: download the template, choose a filled-in .xlsx, 导入. A file with any bad row
/// imports nothing; every bad row is listed with its row number and reason.
#[component]
pub fn ImportPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let file_input = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<ImportResponse>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            let Some(input) = file_input.get_untracked() else {
                return;
            };
            match chosen_file(&input) {
                Err(message) => outcome.set(Some(rejected(message))),
                Ok(file) => {
                    busy.set(true);
                    outcome.set(None);
                    leptos::task::spawn_local(async move {
                        outcome.set(Some(upload(file).await));
                        busy.set(false);
                    });
                }
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = file_input;
    };

    view! {
        <PageHead
            title="订单导入"
            hint="每行一个商品，订单编号相同的行合并为一个订单；已存在的订单编号会被更新。任何一行有错误时整个文件都不会导入。文件最大 5 MB，最多 5000 行。"
        />
        <div class="card import-card">
            <p>
                <a class="btn" href=TEMPLATE_PATH download="订单导入模板.xlsx">"下载导入模板"</a>
            </p>
            <form class="form import-form" on:submit=submit>
                <label for="import-file">"选择文件（.xlsx）"</label>
                <input
                    id="import-file"
                    type="file"
                    accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                    node_ref=file_input
                />
                <div class="dialog-actions left">
                    <button type="submit" class="btn primary" disabled=move || !hydrated.get() || busy.get()>
                        {move || if busy.get() { "导入中…" } else { "导入" }}
                    </button>
                </div>
            </form>
        </div>
        {move || outcome.get().map(|o| view! { <ImportOutcome outcome=o /> })}
    }
}

#[cfg(feature = "hydrate")]
fn rejected(message: impl Into<String>) -> ImportResponse {
    ImportResponse::Rejected {
        message: message.into(),
        rows: Vec::new(),
    }
}

/// The file chosen in the input, checked for presence and size before it is sent.
#[cfg(feature = "hydrate")]
fn chosen_file(input: &web_sys::HtmlInputElement) -> Result<wasm_bindgen::JsValue, String> {
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;
    let files = Reflect::get(input, &JsValue::from_str("files"))
        .map_err(|_| "请选择要导入的文件".to_owned())?;
    let file = Reflect::get(&files, &JsValue::from_f64(0.0)).unwrap_or(JsValue::UNDEFINED);
    if file.is_undefined() || file.is_null() {
        return Err("请选择要导入的文件".to_owned());
    }
    let size = Reflect::get(&file, &JsValue::from_str("size"))
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0);
    if size > MAX_FILE_BYTES {
        return Err("文件过大，最大 5 MB".to_owned());
    }
    Ok(file)
}

/// POSTs the file as the raw body; the server answers an [`ImportResponse`] as JSON.
#[cfg(feature = "hydrate")]
async fn upload(file: wasm_bindgen::JsValue) -> ImportResponse {
    let request = gloo_net::http::Request::post(super::IMPORT_PATH)
        .header(
            "Content-Type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        .body(file);
    let response = match request {
        Ok(request) => request.send().await,
        Err(_) => return rejected("无法读取所选文件"),
    };
    match response {
        Ok(response) => match response.json::<ImportResponse>().await {
            Ok(outcome) => outcome,
            Err(_) if response.status() == 413 => rejected("文件过大，最大 5 MB"),
            Err(_) if response.status() == 401 => rejected("登录已失效，请重新登录"),
            Err(_) => rejected("服务器返回了无法识别的结果，请稍后再试"),
        },
        Err(_) => rejected("网络连接异常，请稍后再试"),
    }
}

/// The import's result: the counts, or the reason and the bad rows.
#[component]
fn ImportOutcome(outcome: ImportResponse) -> impl IntoView {
    match outcome {
        ImportResponse::Imported {
            orders_created,
            orders_updated,
            items,
        } => {
            let message = format!(
                "导入成功：新增订单 {orders_created} 个，更新订单 {orders_updated} 个，共 {items} 行商品"
            );
            view! { <Toast message=Signal::stored(Some(message)) class="import-ok" /> }.into_any()
        }
        ImportResponse::Rejected { message, rows } => {
            // The server lists at most 200 bad rows; a note with row 0 (no sheet row has that
            // number) says how many more there are.
            let (notes, rows): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.row == 0);
            let any = !rows.is_empty();
            view! {
                <div class="card import-errors">
                    <FormError message=Some(message) />
                    <Show when=move || any>
                        <table class="data-table import-error-table">
                            {head_row(&["行号", "列", "原因"])}
                            <tbody>
                                {rows
                                    .iter()
                                    .map(|r| view! {
                                        <tr>
                                            <td class="num">{r.row}</td>
                                            <td>{r.column.clone().unwrap_or_default()}</td>
                                            <td>{r.reason.clone()}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </Show>
                    {notes
                        .into_iter()
                        .map(|n| view! { <p class="import-errors-more">{n.reason}</p> })
                        .collect_view()}
                </div>
            }
            .into_any()
        }
    }
}
