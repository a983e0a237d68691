import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  ADMIN,
  AGENT_XIAOLI,
  AGENT_XIAOTONG,
  BASE_URL,
  REPO_ROOT,
  agentServing,
  buyerChat,
  downloadImportTemplate,
  endConversation,
  kickLogin,
  loginAs,
  releaseUsedLogins,
  screenshot,
  setStatus,
  settle,
} from './helpers';

// SPEC §3 采购人订单 and §7: the agent sees the buyer's orders beside the chat, pages with
// 加载更多, sends an order card; the buyer opens its detail (phone masked). Orders come in by
// the API (with the key the admin issues) and by .xlsx import.

test.afterEach(releaseUsedLogins);

test('采购人订单: panel pages to the end, 发送 puts a card in the chat, the detail masks the phone', async ({
  page,
  browser,
}) => {
  await agentServing(page);
  const buyer = await buyerChat(browser, '王采购');
  await buyer.getByLabel('输入消息').fill('想问一下我的订单');
  await buyer.getByLabel('输入消息').press('Enter');

  const panel = page.getByRole('complementary', { name: '采购人订单' });
  await expect(panel).toContainText('打开一个会话后');
  await page.locator('.conv-item', { hasText: '王采购' }).last().click();

  // The first page loads by itself: 5 orders, newest first.
  const cards = panel.locator('.orders-card');
  await expect(cards).toHaveCount(5);
  const times = await panel.locator('.orders-time').allTextContents();
  expect([...times].sort().reverse()).toEqual(times);
  await expect(cards.first()).toContainText(/¥[\d,]+\.\d\d/);
  await expect(cards.first()).toContainText(/共 \d+ 件/);
  await screenshot(page, 'orders-panel');

  // 加载更多 until 没有更多了, five at a time, no order twice.
  let shown = 5;
  while (await panel.getByRole('button', { name: '加载更多' }).isVisible()) {
    await panel.getByRole('button', { name: '加载更多' }).click();
    await expect(cards).not.toHaveCount(shown);
    const now = await cards.count();
    expect(now - shown).toBeGreaterThan(0);
    expect(now - shown).toBeLessThanOrEqual(5);
    shown = now;
  }
  await expect(panel.getByText('没有更多了')).toBeVisible();
  expect(shown).toBeGreaterThan(5);
  const numbers = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-order-no')));
  expect(new Set(numbers).size).toBe(numbers.length);

  // The picture opens the detail on the agent's side.
  const first = cards.first();
  const orderNo = (await first.getAttribute('data-order-no'))!;
  await first.getByRole('button', { name: `查看订单 ${orderNo} 的详情` }).click();
  const agentDetail = page.getByRole('dialog', { name: '订单详情' });
  await expect(agentDetail).toContainText(orderNo);
  await expect(agentDetail).toContainText(/\d{3}\*{4}\d{4}/);
  await agentDetail.getByRole('button', { name: '关闭' }).click();

  // 发送: the card arrives on both sides.
  await first.getByRole('button', { name: '发送' }).click();
  const agentCard = page.locator('.msg:not(.pending) [data-testid="order-card"]').last();
  await expect(agentCard).toContainText(orderNo);
  const buyerCard = buyer.locator('.msg:not(.pending) [data-testid="order-card"]').last();
  await expect(buyerCard).toContainText(orderNo);
  await expect(buyerCard).toContainText(/¥[\d,]+\.\d\d/);
  await screenshot(page, 'orders-card-agent');
  await buyer.setViewportSize({ width: 375, height: 812 });
  await buyer.screenshot({ path: path.join(REPO_ROOT, 'end2end', 'screenshots', 'orders-card-buyer-375.png') });

  // The buyer opens the detail of their own order: items, amounts, masked phone, logistics.
  await buyerCard.click();
  const detail = buyer.getByRole('dialog', { name: '订单详情' });
  await expect(detail).toContainText(orderNo);
  await expect(detail).toContainText(/\d{3}\*{4}\d{4}/);
  await expect(detail.locator('.orders-items tbody tr').first()).toBeVisible();
  expect(await detail.textContent()).not.toMatch(/138\d{8}/); // the demo phones, never in full
  await buyer.screenshot({ path: path.join(REPO_ROOT, 'end2end', 'screenshots', 'orders-detail-buyer-375.png') });
  await detail.getByRole('button', { name: '关闭' }).click();

  // Asking the server for every order id in turn, the buyer gets exactly their own orders (as
  // many as the agent's panel listed) and an error for each of the others.
  const token = new URL(buyer.url()).searchParams.get('token')!;
  let own = 0;
  let refused = 0;
  for (let id = 1; id <= 60; id++) {
    const res = await buyer.request.post(`${BASE_URL}/api/orders/buyer_order_detail`, {
      form: { token, order_id: String(id) },
    });
    if (res.ok()) {
      own++;
      const body = await res.json();
      expect(body.consignee_phone_masked).toMatch(/^\d{3}\*{4}\d{4}$/);
      expect(JSON.stringify(body)).not.toMatch(/138\d{8}/);
    } else {
      refused++;
    }
  }
  expect(own).toBe(shown);
  expect(refused).toBeGreaterThan(0);

  await endConversation(page);
  await buyer.context().close();
});

test('接口密钥 and the order API; 订单导入 reports bad rows and imports a good file', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await page.getByRole('link', { name: '接口密钥' }).click();
  await settle(page);
  await page.getByRole('button', { name: '生成新密钥' }).click();
  await page.getByRole('dialog', { name: '生成新密钥' }).getByRole('button', { name: '确定' }).click();
  const key = (await page.getByTestId('new-api-key').textContent())!.trim();
  expect(key).toMatch(/^kf_/);
  await screenshot(page, 'orders-api-key');
  await page.getByRole('dialog', { name: '新的接口密钥' }).getByRole('button', { name: '确定' }).click();
  await expect(page.getByTestId('api-key-status')).toContainText('已签发');
  await expect(page.getByTestId('new-api-key')).toHaveCount(0); // shown once only

  // The mall pushes an order with the key; a wrong key is refused; a bad field is named.
  const order = {
    order_no: `E2E${Date.now()}`,
    buyer_id: 'CG1003',
    buyer_name: '赵科长',
    status: '待发货',
    created_at: Date.now(),
    consignee_name: '赵科长',
    consignee_phone: '13912345678',
    consignee_address: '某县政府大院 1 号',
    items: [{ name: '有机大米', spec: '5kg/袋', unit_price_fen: 8800, quantity: 2 }],
  };
  const api = page.request;
  const created = await api.post(`${BASE_URL}/api/v1/orders`, {
    headers: { Authorization: `Bearer ${key}` },
    data: order,
  });
  expect(created.status()).toBe(201);
  const again = await api.post(`${BASE_URL}/api/v1/orders`, {
    headers: { Authorization: `Bearer ${key}` },
    data: order,
  });
  expect(again.status()).toBe(200);
  expect((await again.json()).order_id).toBe((await created.json()).order_id);
  const wrongKey = await api.post(`${BASE_URL}/api/v1/orders`, {
    headers: { Authorization: 'Bearer kf_wrong' },
    data: order,
  });
  expect(wrongKey.status()).toBe(401);
  const bad = await api.post(`${BASE_URL}/api/v1/orders`, {
    headers: { Authorization: `Bearer ${key}` },
    data: { ...order, items: [{ ...order.items[0], quantity: 0 }] },
  });
  expect(bad.status()).toBe(422);
  expect((await bad.json()).field).toBe('items[0].quantity');
  const spec = await api.get(`${BASE_URL}/api/v1/openapi.json`);
  expect((await spec.json()).openapi).toMatch(/^3\./);

  // 订单导入: the template, with one bad row, is refused as a whole with the row number.
  await page.getByRole('link', { name: '订单导入' }).click();
  await settle(page);
  const { templatePath, badOrderAt, saveAs } = await downloadImportTemplate(page, 'orders-template.xlsx');
  badOrderAt(3, `E2E-BAD-${Date.now()}`);
  const badPath = await saveAs('orders-bad.xlsx');

  await page.locator('#import-file').setInputFiles(badPath);
  await page.getByRole('button', { name: '导入', exact: true }).click();
  const errors = page.locator('.import-error-table tbody tr');
  await expect(errors.first()).toBeVisible();
  await expect(errors.first().locator('td').first()).toHaveText('3');
  await expect(page.getByRole('alert').first()).toBeVisible();
  await screenshot(page, 'orders-import-errors');

  // The template as it comes imports its example order.
  await page.locator('#import-file').setInputFiles(templatePath);
  await page.getByRole('button', { name: '导入', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: '导入成功' })).toBeVisible();
  await screenshot(page, 'orders-import-ok');

  // Both actions are in 操作日志.
  await page.getByRole('link', { name: '操作日志' }).click();
  // (The first key of a supplier is booked 生成接口密钥, a later one 重置接口密钥; the 操作
  // filter lists the same words as hidden options, so look in the table's cells.)
  const actions = page.locator('.audit-table tbody .tag');
  await expect(actions.filter({ hasText: /^(生成|重置)接口密钥$/ }).first()).toBeVisible();
  await expect(actions.filter({ hasText: /^导入订单$/ }).first()).toBeVisible();
});
