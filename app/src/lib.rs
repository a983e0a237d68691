//! The Leptos application shared by the server (SSR) and the browser (hydrate): pages,
//! components, server functions and the types that cross the wire.

#![recursion_limit = "256"]

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod chat;
pub mod components;
pub mod error;
pub mod logins;
pub mod orders;
pub mod realtime;
pub mod reports;
#[cfg(feature = "ssr")]
pub mod state;
pub mod workspace;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path,
};

/// Response header through which the page shell hands Leptos' per-response script nonce to the
/// server's security layer, which puts it into the Content-Security-Policy and drops the header.
pub const CSP_NONCE_HEADER: &str = "x-kefu-csp-nonce";

#[cfg(feature = "ssr")]
fn hand_nonce_to_csp() {
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&nonce)
    {
        response.insert_header(http::HeaderName::from_static(CSP_NONCE_HEADER), value);
    }
}

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    hand_nonce_to_csp();
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Whether the page has been hydrated. Buttons that need the browser code stay disabled
/// until then, so a click before hydration is never silently lost.
#[derive(Clone, Copy)]
pub struct Hydrated(pub ReadSignal<bool>);

/// `true` once this page runs in the browser with its event handlers attached.
pub fn use_hydrated() -> ReadSignal<bool> {
    use_context::<Hydrated>()
        .map(|h| h.0)
        .unwrap_or_else(|| signal(false).0)
}

/// The app: the login page, the admin backend, the agent workbench, the buyer chat widget.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let (hydrated, set_hydrated) = signal(false);
    provide_context(Hydrated(hydrated));
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/kefu.css" />
        <Title text="832 在线客服系统" />
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=logins::LoginPage />
                <ParentRoute path=path!("/admin") view=admin::AdminLayout>
                    <Route path=path!("") view=accounts::AccountsPage />
                    <Route path=path!("kick") view=logins::KickPage />
                    <Route path=path!("sessions") view=reports::SessionReportPage />
                    <Route path=path!("audit") view=audit::AuditPage />
                    <Route path=path!("api-key") view=orders::ApiKeyPage />
                    <Route path=path!("orders-import") view=orders::ImportPage />
                </ParentRoute>
                <Route path=path!("/agent") view=workspace::AgentPage />
                <Route path=path!("/chat") view=chat::BuyerChatPage />
                <Route path=path!("/demo") view=chat::DemoPage />
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
            resp.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <main class="not-found">
            <h1>"页面不存在"</h1>
            <p>
                <a href="/login">"返回登录页"</a>
            </p>
        </main>
    }
}
