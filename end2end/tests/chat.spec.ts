import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import {
  AGENT_XIAOLI, AGENT_XIAOTONG, BASE_URL, REPO_ROOT,
  kickLogin, loginAs, releaseUsedLogins, setStatus,
  bubble, buyerChat, newPage, screenshot, sendText, settle, signBuyerToken,
} from './helpers';

// SPEC §3–§4: an agent and a buyer talk in real time (two browser contexts), with emoji,
// 字体 carried with the message, 结束对话; and the queue when nobody is serving.

test.afterEach(releaseUsedLogins);

/** A real PNG drawn in the page's own canvas (a field of wheat-coloured stripes). */
async function drawnPng(page: Page, width: number, height: number): Promise<Buffer> {
  const dataUrl = await page.evaluate(
    ([w, h]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d')!;
      for (let i = 0; i < 8; i++) {
        g.fillStyle = i % 2 ? '#e9c46a' : '#2a9d8f';
        g.fillRect((i * w) / 8, 0, w / 8, h);
      }
      return c.toDataURL('image/png');
    },
    [width, height],
  );
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/** Chooses a file for 上传图片, checks the preview, and sends it. */
async function sendPicture(page: Page, name: string, mimeType: string, buffer: Buffer) {
  await page.getByTestId('picture-input').setInputFiles({ name, mimeType, buffer });
  const preview = page.getByRole('group', { name: '图片预览' });
  await expect(preview.locator('img')).toBeVisible();
  await preview.getByRole('button', { name: '发送图片' }).click();
  await expect(preview).toBeHidden();
}

/** The last delivered picture on the page, once it has really loaded from the server. */
async function expectPictureLoaded(page: Page) {
  const img = page.locator('.msg:not(.pending)[data-kind="image"] img').last();
  await expect(img).toBeVisible();
  await expect
    .poll(() => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth))
    .toBeGreaterThan(0);
  return img;
}

async function widgetShot(page: Page, name: string) {
  const dir = path.join(REPO_ROOT, 'end2end', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

test('agent and buyer chat: text both ways, typing indicator, emoji, 字体, 结束对话', async ({ page, browser }) => {
  // The other agent must not take the buyer.
  kickLogin(AGENT_XIAOLI.login);
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  await expect(page.getByRole('button', { name: '示忙', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await setStatus(page, '服务中');

  const buyer = await buyerChat(browser, '王采购');
  await expect(buyer.getByTestId('serving-status')).toContainText('客服在线');
  await expect(buyer.locator('.widget-supplier')).toHaveText('示例农产品供应商');

  // The buyer appears in the agent's list, with the title badge.
  const item = page.locator('.conv-item', { hasText: '王采购' }).last();
  await expect(item).toBeVisible();
  await expect(item).toContainText('某县第一中学');
  await expect(item).toContainText(/等待 \d+ 分钟/);
  await expect(page).toHaveTitle(/^\(\d+\) 832 在线客服系统$/);
  await item.click();
  await expect(page.locator('.chat-head')).toContainText('王采购');

  // Text both ways; user text stays text.
  await sendText(buyer, '你好，小米什么时候发货？<b>急</b>');
  await expect(bubble(page, '你好，小米什么时候发货？<b>急</b>')).toBeVisible();
  await sendText(page, '您好，今天下午发货。');
  await expect(bubble(buyer, '您好，今天下午发货。')).toBeVisible();
  await expect(buyer.locator('.msg.theirs .msg-time').last()).toHaveText(/^\d\d:\d\d$/);

  // Typing indicator both ways; it goes away when the message arrives.
  await buyer.getByLabel('输入消息').pressSequentially('请问');
  await expect(page.getByText('对方正在输入…')).toBeVisible();
  await buyer.getByLabel('输入消息').press('Enter');
  await expect(bubble(page, '请问')).toBeVisible();
  await expect(page.getByText('对方正在输入…')).toBeHidden();
  await page.getByLabel('输入消息').pressSequentially('稍等');
  await expect(buyer.getByText('客服正在输入…')).toBeVisible();
  await page.getByLabel('输入消息').press('Enter');
  await expect(bubble(buyer, '稍等')).toBeVisible();
  await expect(buyer.getByText('客服正在输入…')).toBeHidden();

  // Emoji from the palette.
  await page.getByRole('button', { name: /表情/ }).click();
  await page.getByRole('option', { name: '👍' }).click();
  await page.getByLabel('输入消息').press('Enter');
  await expect(bubble(buyer, '👍')).toBeVisible();

  // 字体 20px travels with the message.
  await buyer.getByRole('button', { name: /字体/ }).click();
  await buyer.getByRole('option', { name: '20px' }).click();
  await sendText(buyer, '请开发票');
  const onAgent = bubble(page, '请开发票');
  await expect(onAgent).toBeVisible();
  expect(await onAgent.evaluate((el) => getComputedStyle(el).fontSize)).toBe('20px');
  expect(await bubble(buyer, '请开发票').evaluate((el) => getComputedStyle(el).fontSize)).toBe('20px');

  // 上传图片: the buyer sends a picture, the agent sees it and opens it large; and back.
  await sendPicture(buyer, 'wheat.png', 'image/png', await drawnPng(buyer, 320, 200));
  const onAgentPicture = await expectPictureLoaded(page);
  await expect(page.locator('.conv-item.active .conv-last')).toHaveText('[图片]');
  await onAgentPicture.click();
  const lightbox = page.getByRole('dialog', { name: '查看大图' });
  await expect(lightbox.locator('img')).toBeVisible();
  await screenshot(page, 'chat-agent-picture-large');
  await lightbox.click();
  await expect(lightbox).toBeHidden();
  await sendPicture(page, 'reply.png', 'image/png', await drawnPng(page, 200, 300));
  await expectPictureLoaded(buyer);
  // A file that only claims to be a picture is refused before a preview (the browser cannot
  // decode it); the server refuses it too when sent past the page (st/chat_pictures.rs).
  await buyer.getByTestId('picture-input').setInputFiles({
    name: 'fake.png',
    mimeType: 'image/png',
    buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
  });
  await expect(buyer.getByRole('alert').filter({ hasText: '不是有效的图片文件' })).toBeVisible();
  await expect(buyer.getByRole('group', { name: '图片预览' })).toHaveCount(0);
  await expect(buyer.locator('.msg.pending')).toHaveCount(0);
  // The browser refuses a type it knows is wrong before uploading.
  await buyer.getByTestId('picture-input').setInputFiles({ name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from('hi') });
  await expect(buyer.locator('.composer').getByRole('alert')).toHaveText('只能发送 JPEG、PNG、GIF 或 WebP 格式的图片');
  await expect(buyer.getByRole('group', { name: '图片预览' })).toBeHidden();

  await screenshot(page, 'chat-agent-workbench');
  await screenshot(buyer, 'chat-widget-desktop');
  await buyer.setViewportSize({ width: 375, height: 812 });
  await widgetShot(buyer, 'chat-widget-375');

  // 结束对话 with confirmation.
  await page.getByRole('button', { name: '结束对话' }).click();
  const dialog = page.getByRole('dialog', { name: '结束对话' });
  await dialog.getByRole('button', { name: '确定' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('.chat-head')).toContainText('已结束');
  await expect(page.getByLabel('输入消息')).toBeDisabled();
  await expect(buyer.getByText('本次会话已结束')).toBeVisible();
  await expect(buyer.getByRole('button', { name: '重新咨询' })).toBeVisible();
  await widgetShot(buyer, 'chat-widget-375-ended');
  await buyer.context().close();
});

test('nobody serving: the buyer waits in the queue and is assigned when the agent goes 服务中', async ({
  page,
  browser,
}) => {
  kickLogin(AGENT_XIAOLI.login);
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  // After login the agent is 示忙.
  await expect(page.getByRole('button', { name: '示忙', exact: true })).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('button', { name: '示忙', exact: true })).toBeEnabled();

  const buyer = await buyerChat(browser, '李老师');
  await expect(buyer.getByTestId('serving-status')).toContainText('暂无客服在线，您可以先留言');
  await expect(buyer.getByTestId('queue')).toContainText('您前面还有');
  await sendText(buyer, '在吗？想问一下大米的规格');
  await expect(bubble(buyer, '在吗？想问一下大米的规格')).toBeVisible();
  await buyer.setViewportSize({ width: 375, height: 812 });
  await widgetShot(buyer, 'chat-widget-375-queued');

  await setStatus(page, '服务中');
  const item = page.locator('.conv-item', { hasText: '李老师' }).last();
  await expect(item).toBeVisible();
  await item.click();
  await expect(bubble(page, '在吗？想问一下大米的规格')).toBeVisible();
  await expect(buyer.getByTestId('serving-status')).toContainText('客服在线');
  await expect(buyer.getByTestId('queue')).toBeHidden();

  await sendText(page, '在的，请讲');
  await expect(bubble(buyer, '在的，请讲')).toBeVisible();
  await setStatus(page, '示忙');
  // A busy agent keeps the buyers they have; end it so the next run starts from the queue.
  await page.getByRole('button', { name: '结束对话' }).click();
  await page.getByRole('dialog', { name: '结束对话' }).getByRole('button', { name: '确定' }).click();
  await expect(buyer.getByText('本次会话已结束')).toBeVisible();
  await buyer.context().close();
});

test('widget.js on a mall page: the 在线客服 button opens the chat in an iframe', async ({ page, browser }) => {
  kickLogin(AGENT_XIAOLI.login);
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  await setStatus(page, '服务中');

  // A buyer token signed with the development secret the test server runs with.
  const token = signBuyerToken('CG2001', '周主任', '某乡卫生院');

  // The mall's own page, on the mall's origin, with the one-line snippet from the README.
  const { context, page: mall } = await newPage(browser);
  // The test's "mall" is routed inside Chromium, which counts it as a public site reaching into
  // the loopback address of the test server: allow it, as a real public server needs no such grant.
  await context.grantPermissions(['local-network-access']);
  await context.route('http://localhost:3999/**', (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>832 商城 · 商品</title></head>
        <body style="font-family: sans-serif"><h1>高原小米 5kg</h1><p>商城的商品页。</p>
        <script src="${BASE_URL}/widget.js" data-token="${token}" async></script></body></html>`,
    }),
  );
  await mall.goto('http://localhost:3999/product/1');
  const open = mall.getByRole('button', { name: '💬 在线客服', exact: true });
  await expect(open).toBeVisible();
  await expect(mall.locator('iframe')).toHaveCount(0); // nothing loads before the buyer asks
  await open.click();
  await expect(open).toHaveAttribute('aria-expanded', 'true');
  const chat = mall.frameLocator('iframe[title="在线客服"]');
  await expect(chat.locator('.widget-supplier')).toHaveText('示例农产品供应商');
  await expect(chat.getByTestId('serving-status')).toContainText('客服在线');
  const box = chat.getByLabel('输入消息');
  await expect(box).toBeEnabled();
  await expect(chat.getByRole('button', { name: '发送' })).toBeEnabled();
  await box.fill('从商城页面来的咨询');
  await box.press('Enter');
  const item = page.locator('.conv-item', { hasText: '周主任' }).last();
  await expect(item).toBeVisible();
  await item.click();
  await expect(bubble(page, '从商城页面来的咨询')).toBeVisible();
  await screenshot(mall, 'widget-js-on-mall-page');
  await mall.setViewportSize({ width: 375, height: 812 });
  await widgetShot(mall, 'widget-js-on-mall-page-375');

  // × closes the panel; the page is the mall's again.
  await mall.getByRole('button', { name: '关闭在线客服' }).click();
  await expect(open).toHaveAttribute('aria-expanded', 'false');
  await page.getByRole('button', { name: '结束对话' }).click();
  await page.getByRole('dialog', { name: '结束对话' }).getByRole('button', { name: '确定' }).click();
  await context.close();
});

test('a buyer name, unit and message full of HTML are shown as text on both sides, never run', async ({
  page,
  browser,
}) => {
  kickLogin(AGENT_XIAOLI.login);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await loginAs(page, AGENT_XIAOTONG, '/agent');
  await setStatus(page, '服务中');

  // The mall signs whatever its buyer typed as their name and unit.
  const name = '<img src=x onerror=alert(1)>';
  const unit = '<b>某县</b>中学';
  const token = signBuyerToken('XSS-1', name, unit);

  const { page: buyer } = await newPage(browser);
  buyer.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await buyer.goto(`${BASE_URL}/chat?token=${encodeURIComponent(token)}`);
  await settle(buyer);
  const text = '<script>alert(2)</script> 请问 <a href="javascript:alert(3)">链接</a>';
  await sendText(buyer, text);
  await expect(bubble(buyer, text)).toBeVisible();

  const item = page.locator('.conv-item', { hasText: name }).last();
  await expect(item).toBeVisible();
  await expect(item).toContainText(unit);
  await item.click();
  await expect(bubble(page, text)).toBeVisible();

  // Nothing of it became markup: no such image, bold text or link anywhere, no alert ran.
  for (const p of [page, buyer]) {
    await expect(p.locator('img[src="x"]')).toHaveCount(0);
    await expect(p.locator('b', { hasText: '某县' })).toHaveCount(0);
    await expect(p.locator('script', { hasText: 'alert(2)' })).toHaveCount(0);
    await expect(p.locator('a[href^="javascript:"]')).toHaveCount(0);
  }
  expect(dialogs).toEqual([]);

  await setStatus(page, '示忙');
  await page.getByRole('button', { name: '结束对话' }).click();
  await page.getByRole('dialog', { name: '结束对话' }).getByRole('button', { name: '确定' }).click();
  await expect(buyer.getByText('本次会话已结束')).toBeVisible();
  await buyer.context().close();
});
