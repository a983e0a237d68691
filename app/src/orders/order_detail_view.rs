use leptos::prelude::*;

use super::{OrderDetail, format_fen, format_time, status_class};

/// 订单详情: the lines (picture, name, spec, unit price, quantity, subtotal), amounts, status,
/// times, consignee with the masked phone, and logistics. The caller puts it in a
/// [`Modal`](crate::components::Modal).
#[component]
pub fn OrderDetailView(detail: OrderDetail) -> impl IntoView {
    let dash = || "—".to_owned();
    view! {
        <div class="orders-detail" data-order-no=detail.order_no.clone()>
            <dl class="orders-detail-head">
                <dt>"订单编号"</dt>
                <dd class="mono">{detail.order_no.clone()}</dd>
                <dt>"订单状态"</dt>
                <dd>
                    <span class=status_class(&detail.status)>{detail.status.clone()}</span>
                </dd>
                <dt>"下单时间"</dt>
                <dd>{format_time(detail.created_at)}</dd>
                <dt>"付款时间"</dt>
                <dd>{detail.paid_at.map(format_time).unwrap_or_else(dash)}</dd>
                <dt>"更新时间"</dt>
                <dd>{format_time(detail.updated_at)}</dd>
            </dl>
            <table class="data-table orders-items">
                <thead>
                    <tr>
                        <th>"商品"</th>
                        <th>"规格"</th>
                        <th class="num">"单价"</th>
                        <th class="num">"数量"</th>
                        <th class="num">"小计"</th>
                    </tr>
                </thead>
                <tbody>
                    {detail
                        .items
                        .iter()
                        .map(|item| {
                            view! {
                                <tr>
                                    <td class="orders-item-name">
                                        {match item.picture_url.clone() {
                                            Some(src) => {
                                                view! { <img class="orders-item-picture" src=src alt="" loading="lazy" /> }
                                                    .into_any()
                                            }
                                            None => view! { <span class="orders-no-picture small">"无图"</span> }.into_any(),
                                        }}
                                        <span>{item.name.clone()}</span>
                                    </td>
                                    <td>{item.spec.clone()}</td>
                                    <td class="num">{format_fen(item.unit_price_fen)}</td>
                                    <td class="num">{item.quantity}</td>
                                    <td class="num">{format_fen(item.subtotal_fen)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <dl class="orders-amounts">
                <dt>"商品金额"</dt>
                <dd>{format_fen(detail.goods_fen)}</dd>
                <dt>"运费"</dt>
                <dd>{format_fen(detail.freight_fen)}</dd>
                <dt>"订单总额"</dt>
                <dd class="orders-amount">{format_fen(detail.total_fen)}</dd>
            </dl>
            <h3 class="orders-detail-title">"收货信息"</h3>
            <dl class="orders-detail-grid">
                <dt>"收货人"</dt>
                <dd>{detail.consignee_name.clone()}</dd>
                <dt>"联系电话"</dt>
                <dd class="mono" data-testid="masked-phone">{detail.consignee_phone_masked.clone()}</dd>
                <dt>"收货地址"</dt>
                <dd>{detail.consignee_address.clone()}</dd>
            </dl>
            <h3 class="orders-detail-title">"物流信息"</h3>
            <dl class="orders-detail-grid">
                <dt>"物流公司"</dt>
                <dd>{detail.logistics_company.clone().unwrap_or_else(dash)}</dd>
                <dt>"物流单号"</dt>
                <dd class="mono">{detail.tracking_no.clone().unwrap_or_else(dash)}</dd>
            </dl>
        </div>
    }
}
