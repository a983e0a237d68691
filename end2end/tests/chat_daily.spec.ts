import { expect, test, type Browser, type Locator, type Page } from '@playwright/test';
import {
  AGENT_XIAOLI, AGENT_XIAOTONG, BASE_URL, REPO_ROOT,
  agentServing, endConversation, kickLogin, loginAs, logout, releaseUsedLogins, setStatus,
  bubble, buyerChat, newPage, screenshot, sendText, settle, signBuyerToken,
} from './helpers';

// Issue 11: what a day of real use meets in the workbench and the widget. Each test starts with
// 客服小童 alone (客服小李's login ended) and a buyer of its own, so the tests stay apart.

test.afterEach(releaseUsedLogins);

/** `button` opens `popup`; a click outside it (the chat's head) closes it, and so does Escape. */
async function closesOnOutsideClickAndEscape(page: Page, button: Locator, popup: Locator): Promise<void> {
  await button.click();
  await expect(popup).toBeVisible();
  await page.locator('.chat-head').click();
  await expect(popup).toBeHidden();
  await button.click();
  await expect(popup).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(popup).toBeHidden();
}

/** A buyer of supplier 1 that no other test uses, in a fresh browser context. */
async function ownBuyer(browser: Browser, name: string): Promise<Page> {
  const token = signBuyerToken(`D-${Date.now()}`, name, '某县粮食局');
  const { page } = await newPage(browser);
  await page.goto(`${BASE_URL}/chat?token=${encodeURIComponent(token)}`);
  await settle(page);
  return page;
}

/** Sends and waits until the message is stored. The socket takes at most 10 frames a second,
 * and a test types faster than any buyer: a message refused as 发送过于频繁 shows 发送失败 with
 * 重发, which is pressed (as a person would) until the message goes through. */
async function sendDelivered(page: Page, text: string) {
  await sendText(page, text);
  const failed = page.locator('.msg.pending.failed', { hasText: text });
  await expect(async () => {
    if (await failed.count()) {
      await failed.getByRole('button', { name: '重发' }).click();
    }
    await expect(bubble(page, text)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
}

/** Opens the buyer's conversation in the agent's list. */
async function openConversation(page: Page, name: string): Promise<Locator> {
  const item = page.locator('.conv-item', { hasText: name }).last();
  await expect(item).toBeVisible();
  await item.click();
  await expect(page.locator('.chat-head')).toContainText(name);
  return item;
}

/** Scrolls a page's message list to the top and waits until the page has seen the scroll. */
async function scrollUp(page: Page) {
  await page.locator('.messages').evaluate(
    (el) =>
      new Promise<void>((done) => {
        el.addEventListener('scroll', () => done(), { once: true });
        el.scrollTop = 0;
      }),
  );
}

test('a long chat follows new messages at the bottom; scrolled up it stays with N 条新消息 ↓; a reload opens at the newest and still says 我', async ({
  page,
  browser,
}) => {
  await agentServing(page);
  const buyer = await ownBuyer(browser, '钱会计');
  await buyer.setViewportSize({ width: 375, height: 700 });
  await sendDelivered(buyer, '第 1 条：想订一批小米');
  await openConversation(page, '钱会计');

  // A history longer than both lists, in few long messages (the socket takes at most 10
  // frames a second: a test typing faster than any buyer would be refused).
  for (let i = 2; i <= 5; i++) {
    await sendDelivered(buyer, `第 ${i} 条：${'规格、价格和发货时间请再说明一下，'.repeat(24)}`);
    await expect(bubble(buyer, `第 ${i} 条：`)).toBeVisible();
  }
  await expect(bubble(page, '第 5 条：')).toBeInViewport();
  expect(await page.locator('.messages').evaluate((el) => el.scrollHeight > 2 * el.clientHeight)).toBe(true);
  expect(await buyer.locator('.messages').evaluate((el) => el.scrollHeight > 2 * el.clientHeight)).toBe(true);

  // At the bottom, both sides follow what the other side writes.
  await sendText(page, '好的，我来逐条回复');
  await expect(bubble(buyer, '好的，我来逐条回复')).toBeInViewport();
  await sendDelivered(buyer, '第 6 条：谢谢');
  await expect(bubble(page, '第 6 条：谢谢')).toBeInViewport();

  // The agent scrolls up to read: new messages do not pull the list down, a pill counts them.
  await scrollUp(page);
  await sendDelivered(buyer, '第 7 条：还有一个问题');
  await sendDelivered(buyer, '第 8 条：发货时间？');
  const pill = page.getByRole('button', { name: '2 条新消息 ↓' });
  await expect(pill).toBeVisible();
  await expect(bubble(page, '第 8 条：发货时间？')).not.toBeInViewport();
  await screenshot(page, 'chat-new-messages-pill');
  await pill.click();
  await expect(bubble(page, '第 8 条：发货时间？')).toBeInViewport();
  await expect(pill).toBeHidden();

  // The buyer scrolled up too: same rule on the phone.
  await scrollUp(buyer);
  await sendText(page, '明天发货');
  await expect(buyer.getByRole('button', { name: '1 条新消息 ↓' })).toBeVisible();
  await buyer.screenshot({ path: `${REPO_ROOT}/end2end/screenshots/chat-widget-375-new-messages-pill.png` });

  // A reload opens at the newest message, and the buyer's own messages still read 我.
  await buyer.reload();
  await settle(buyer);
  await expect(bubble(buyer, '明天发货')).toBeInViewport();
  const ownNames = buyer.locator('.msg.mine .msg-sender');
  await expect(ownNames.first()).toBeVisible();
  expect(new Set(await ownNames.allTextContents())).toEqual(new Set(['我']));
  await expect(buyer.locator('.msg.theirs .msg-sender').last()).toHaveText(AGENT_XIAOTONG.name);
  await buyer.screenshot({ path: `${REPO_ROOT}/end2end/screenshots/chat-widget-375-long-history.png` });
  await screenshot(page, 'chat-agent-long-history');

  await endConversation(page);
  await buyer.context().close();
});

test('the buyer header and queue banner agree when the serving agent logs out', async ({ page, browser }) => {
  await agentServing(page);
  const buyer = await ownBuyer(browser, '孔站长');
  await sendText(buyer, '你好');
  await openConversation(page, '孔站长');
  const status = buyer.getByTestId('serving-status');
  await expect(status).toContainText(`${AGENT_XIAOTONG.name} 为您服务`);
  await expect(buyer.getByTestId('queue')).toBeHidden();

  // The agent's login ends: the buyer goes back to the queue, and the header says so too.
  await logout(page);
  await expect(buyer.getByTestId('queue')).toContainText('正在排队');
  await expect(status).not.toContainText(AGENT_XIAOTONG.name);
  await expect(status).not.toContainText('为您服务');

  // The agent is back and takes the buyer: one state again.
  await agentServing(page);
  await expect(status).toContainText(`${AGENT_XIAOTONG.name} 为您服务`);
  await expect(buyer.getByTestId('queue')).toBeHidden();
  await openConversation(page, '孔站长');
  await endConversation(page);
  await buyer.context().close();
});

test('messages left while queued are unread when the buyer is assigned; 等待 counts only while the buyer waits for an answer', async ({
  page,
  browser,
}) => {
  kickLogin(AGENT_XIAOLI.login);
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  const buyer = await ownBuyer(browser, '冯书记');
  await expect(buyer.getByTestId('queue')).toBeVisible();
  await sendText(buyer, '在吗');
  await sendText(buyer, '想问问蜂蜜');
  await expect(bubble(buyer, '想问问蜂蜜')).toBeVisible();

  await setStatus(page, '服务中');
  const item = page.locator('.conv-item', { hasText: '冯书记' }).last();
  await expect(item.locator('.unread')).toHaveText('2');
  await expect(item.locator('.conv-wait')).toHaveText(/^等待 \d+ 分钟$/);

  await item.click();
  await expect(item.locator('.unread')).toHaveCount(0);
  await sendText(page, '在的，您请说');
  await expect(bubble(buyer, '在的，您请说')).toBeVisible();
  await expect(item.locator('.conv-wait')).toHaveText('');

  // The buyer asks again: the clock runs again until the next answer.
  await sendText(buyer, '蜂蜜几瓶起订？');
  await expect(bubble(page, '蜂蜜几瓶起订？')).toBeVisible();
  await expect(item.locator('.conv-wait')).toHaveText(/^等待 \d+ 分钟$/);
  await sendText(page, '两瓶起订');
  await expect(item.locator('.conv-wait')).toHaveText('');

  await endConversation(page);
  await buyer.context().close();
});

test('表情, 字体, the picture viewer and 订单详情 close on Escape and outside clicks; links open in a new tab; a fake .png is refused', async ({
  page,
  browser,
}) => {
  await agentServing(page);
  const buyer = await buyerChat(browser, '王采购');
  await sendText(buyer, '我想看看订单');
  await openConversation(page, '王采购');

  // 表情 palette: outside click, Escape, and sending close it.
  const emoji = page.getByRole('button', { name: '表情' });
  const palette = page.locator('.emoji-palette');
  await closesOnOutsideClickAndEscape(page, emoji, palette);
  await emoji.click();
  await palette.getByRole('option').first().click();
  await page.getByLabel('输入消息').press('Enter');
  await expect(palette).toBeHidden();

  // 字体 menu: outside click and Escape.
  const font = page.getByRole('button', { name: '字体' });
  const menu = page.locator('.font-menu');
  await closesOnOutsideClickAndEscape(page, font, menu);

  // Links: http/https only, in a new tab without opener or referrer.
  await sendText(page, '详情见 https://example.com/p?id=1。其他 javascript:alert(1) 不是链接');
  const link = buyer.locator('.msg-body a', { hasText: 'https://example.com/p?id=1' });
  await expect(link).toHaveAttribute('href', 'https://example.com/p?id=1');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(buyer.locator('a[href^="javascript:"]')).toHaveCount(0);

  // A text file named .png gets an error, never a preview with 发送图片.
  await buyer.getByTestId('picture-input').setInputFiles({
    name: 'not-a-picture.png',
    mimeType: 'image/png',
    buffer: Buffer.from('这不是图片'),
  });
  await expect(buyer.getByRole('alert').filter({ hasText: '不是有效的图片文件' })).toBeVisible();
  await expect(buyer.getByRole('group', { name: '图片预览' })).toHaveCount(0);

  // A real picture opens large; Escape and a click on it close the viewer.
  const png = await buyer.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 120;
    c.height = 80;
    const g = c.getContext('2d')!;
    g.fillStyle = '#e9c46a';
    g.fillRect(0, 0, 120, 80);
    return c.toDataURL('image/png').split(',')[1];
  });
  await buyer.getByTestId('picture-input').setInputFiles({
    name: 'wheat.png',
    mimeType: 'image/png',
    buffer: Buffer.from(png, 'base64'),
  });
  await buyer.getByRole('group', { name: '图片预览' }).getByRole('button', { name: '发送图片' }).click();
  const thumb = page.locator('.msg:not(.pending)[data-kind="image"] .msg-picture').last();
  await thumb.click();
  const viewer = page.getByRole('dialog', { name: '查看大图' });
  await expect(viewer).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(viewer).toBeHidden();
  await thumb.click();
  await expect(viewer).toBeVisible();
  await viewer.click({ position: { x: 5, y: 5 } });
  await expect(viewer).toBeHidden();

  // 订单详情: Escape, and a click on the dimmed page around it.
  const card = page.locator('.orders-card').first();
  await card.getByRole('button', { name: '详情', exact: true }).click();
  const detail = page.getByRole('dialog', { name: '订单详情' });
  await expect(detail).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(detail).toBeHidden();
  await card.getByRole('button', { name: '详情', exact: true }).click();
  await expect(detail).toBeVisible();
  await page.locator('.modal-backdrop').click({ position: { x: 5, y: 5 } });
  await expect(detail).toBeHidden();

  // Ended: the orders panel says why 发送 no longer works.
  await endConversation(page);
  await expect(page.locator('.orders-hint')).toContainText('已结束');
  await expect(card.getByRole('button', { name: '发送', exact: true })).toBeDisabled();
  await screenshot(page, 'chat-ended-orders-panel');
  await buyer.context().close();
});
