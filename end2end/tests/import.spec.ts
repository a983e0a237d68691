import { expect, test } from '@playwright/test';
import {
  ADMIN,
  downloadImportTemplate,
  gotoSettled,
  loginAs,
  logout,
  releaseUsedLogins,
  screenshot,
} from './helpers';

// 订单导入 with many bad rows: the first 200 are listed (row, column, reason) and a note says how
// many more there are; nothing is imported.

test.afterEach(releaseUsedLogins);

test('订单导入: 250 bad rows list the first 200 and say 另有 50 行错误未列出', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await gotoSettled(page, '/admin/orders-import');
  const { badOrderAt, saveAs } = await downloadImportTemplate(page, 'import-template.xlsx');

  // The template's example order (rows 2–3) stays; rows 4–253 are orders with a made-up status.
  const stamp = Date.now();
  for (let i = 0; i < 250; i++) {
    badOrderAt(4 + i, `E2E-MANY-${stamp}-${i}`);
  }
  const badPath = await saveAs('import-many-bad.xlsx');

  await page.locator('#import-file').setInputFiles(badPath);
  await page.getByRole('button', { name: '导入', exact: true }).click();
  const result = page.locator('.import-errors');
  await expect(result.getByRole('alert')).toContainText('超过 200 行有错误，未导入任何订单');
  const rows = result.locator('.import-error-table tbody tr');
  await expect(rows).toHaveCount(200);
  await expect(rows.first().locator('td')).toHaveText(['4', '订单状态', /订单状态须为以下之一/]);
  await expect(rows.last().locator('td').first()).toHaveText('203');
  const more = result.locator('.import-errors-more');
  await expect(more).toHaveText('另有 50 行错误未列出');
  await screenshot(page, 'orders-import-errors-capped');
  await more.scrollIntoViewIfNeeded();
  await screenshot(page, 'orders-import-errors-capped-note');
  await logout(page);
});
