use leptos::prelude::*;

use super::font_menu::DEFAULT_FONT_SIZE;
use super::message_text::linked_text;
use super::order_card::OrderCard;
use super::picture::Picture;
use super::protocol::{ChatContent, ChatMessage};

/// The bubble of a message: its picture, its order card, or its text in its font size.
/// `on_loaded` runs when a picture in it has loaded.
pub fn message_body(
    m: &ChatMessage,
    token: Option<String>,
    open_picture: Callback<String>,
    on_order: Option<Callback<i64>>,
    on_loaded: Callback<()>,
) -> AnyView {
    let font_size = match m.content {
        ChatContent::Text { font_size } => font_size,
        ChatContent::Image { .. } | ChatContent::Order { .. } => DEFAULT_FONT_SIZE,
    };
    match m.content.clone() {
        ChatContent::Image {
            picture: Some(image),
        } => view! {
            <div class="msg-body picture">
                <Picture image=image token=token on_open=open_picture on_loaded=on_loaded />
            </div>
        }
        .into_any(),
        ChatContent::Order { order: Some(order) } => view! {
            <div class="msg-body order">
                <OrderCard order=order on_open=on_order on_loaded=on_loaded />
            </div>
        }
        .into_any(),
        ChatContent::Order { order: None } => {
            view! { <div class="msg-body">"[订单已不可查看]"</div> }.into_any()
        }
        ChatContent::Text { .. } | ChatContent::Image { picture: None } => view! {
            <div class="msg-body" style=format!("font-size: {}px", font_size)>
                {linked_text(&m.body)}
            </div>
        }
        .into_any(),
    }
}
