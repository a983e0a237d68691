use leptos::prelude::*;

use crate::use_hydrated;

/// Where a paged table stands: page `page` of `pages`, `total` rows in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageSpan {
    pub total: u64,
    /// The page shown, 1 first.
    pub page: u64,
    /// How many pages there are; at least 1, also when there are no rows.
    pub pages: u64,
}

impl PageSpan {
    /// The span of page `page` (1 first; 0 counts as 1) of `total` rows, `page_size` a page.
    pub fn new(total: u64, page: u64, page_size: u64) -> Self {
        PageSpan {
            total,
            page: page.max(1),
            pages: total.div_ceil(page_size.max(1)).max(1),
        }
    }

    /// The page 上一页 goes to, if any.
    pub fn previous(&self) -> Option<u64> {
        (self.page > 1).then(|| self.page - 1)
    }

    /// The page 下一页 goes to, if any.
    pub fn next(&self) -> Option<u64> {
        (self.page < self.pages).then(|| self.page + 1)
    }

    /// `共 41 条，第 2 / 3 页`.
    pub fn summary(&self) -> String {
        format!("共 {} 条，第 {} / {} 页", self.total, self.page, self.pages)
    }
}

/// The line under a paged table: how many rows and which page, 上一页 and 下一页 (disabled
/// where there is no such page, and until the page is hydrated).
#[component]
pub fn Pager(
    span: PageSpan,
    /// Shows another page (1 first).
    #[prop(into)]
    go_page: Callback<u64>,
) -> impl IntoView {
    view! {
        <div class="pager">
            <span class="muted">{span.summary()}</span>
            {page_button("上一页", span.previous(), go_page)}
            {page_button("下一页", span.next(), go_page)}
        </div>
    }
}

/// 上一页 or 下一页: goes to `target`; disabled when there is none, and until hydrated.
fn page_button(label: &'static str, target: Option<u64>, go_page: Callback<u64>) -> impl IntoView {
    let hydrated = use_hydrated();
    let go = move |_| {
        if let Some(page) = target {
            go_page.run(page);
        }
    };
    view! {
        <button
            type="button"
            class="btn small"
            disabled=move || !hydrated.get() || target.is_none()
            on:click=go
        >
            {label}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_is_one_page_with_nowhere_to_go() {
        let span = PageSpan::new(0, 1, 20);
        assert_eq!(span.pages, 1);
        assert_eq!((span.previous(), span.next()), (None, None));
        assert_eq!(span.summary(), "共 0 条，第 1 / 1 页");
    }

    #[test]
    fn a_middle_page_goes_both_ways() {
        let span = PageSpan::new(41, 2, 20);
        assert_eq!(span.pages, 3);
        assert_eq!((span.previous(), span.next()), (Some(1), Some(3)));
        assert_eq!(span.summary(), "共 41 条，第 2 / 3 页");
    }

    #[test]
    fn a_full_last_page_has_no_next() {
        let span = PageSpan::new(40, 2, 20);
        assert_eq!(span.pages, 2);
        assert_eq!((span.previous(), span.next()), (Some(1), None));
    }

    #[test]
    fn page_zero_counts_as_the_first() {
        let span = PageSpan::new(25, 0, 20);
        assert_eq!(span.page, 1);
        assert_eq!((span.previous(), span.next()), (None, Some(2)));
    }

    #[test]
    fn a_page_past_the_end_still_goes_back() {
        let span = PageSpan::new(5, 4, 20);
        assert_eq!((span.previous(), span.next()), (Some(3), None));
    }
}
