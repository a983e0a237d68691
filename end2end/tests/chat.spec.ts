import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, test, type Browser, type Page } from '@playwright/test';
import {
  AGENT_XIAOLI,
  AGENT_XIAOTONG,
  REPO_ROOT,
  gotoSettled,
  kickLogin,
  loginAs,
  newPage,
  releaseUsedLogins,
  screenshot,
  settle,
} from './helpers';

// SPEC §3–§4: an agent and a buyer talk in real time (two browser contexts), with emoji,
// 字体 carried with the message, 结束对话; and the queue when nobody is serving.

test.afterEach(async () => {
  releaseUsedLogins();
});

/** The agent's workbench switched to a status, once the socket is connected. */
async function setStatus(page: Page, status: '示忙' | '服务中') {
  const button = page.getByRole('button', { name: status, exact: true });
  await expect(button).toBeEnabled();
  await button.click();
  await expect(button).toHaveAttribute('aria-pressed', 'true');
}

/** Opens /demo in a fresh context and starts the chat as a demo buyer. */
async function buyerChat(browser: Browser, name: string): Promise<Page> {
  const { page } = await newPage(browser);
  await gotoSettled(page, '/demo');
  await page.getByRole('link', { name: `${name} 开始咨询` }).click();
  await expect(page).toHaveURL(/\/chat\?token=/);
  await settle(page);
  return page;
}

async function send(page: Page, text: string) {
  const box = page.getByLabel('输入消息');
  await box.click();
  await box.fill(text);
  await box.press('Enter');
}

/** A delivered message bubble (not pending) containing `text`. */
function bubble(page: Page, text: string) {
  return page.locator('.msg:not(.pending) .msg-body', { hasText: text });
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
  await send(buyer, '你好，小米什么时候发货？<b>急</b>');
  await expect(bubble(page, '你好，小米什么时候发货？<b>急</b>')).toBeVisible();
  await send(page, '您好，今天下午发货。');
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
  await send(buyer, '请开发票');
  const onAgent = bubble(page, '请开发票');
  await expect(onAgent).toBeVisible();
  expect(await onAgent.evaluate((el) => getComputedStyle(el).fontSize)).toBe('20px');
  expect(await bubble(buyer, '请开发票').evaluate((el) => getComputedStyle(el).fontSize)).toBe('20px');

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
  await send(buyer, '在吗？想问一下大米的规格');
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

  await send(page, '在的，请讲');
  await expect(bubble(buyer, '在的，请讲')).toBeVisible();
  await setStatus(page, '示忙');
  // A busy agent keeps the buyers they have; end it so the next run starts from the queue.
  await page.getByRole('button', { name: '结束对话' }).click();
  await page.getByRole('dialog', { name: '结束对话' }).getByRole('button', { name: '确定' }).click();
  await expect(buyer.getByText('本次会话已结束')).toBeVisible();
  await buyer.context().close();
});
