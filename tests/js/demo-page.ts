// Driving the demo page (web-demo/) from Playwright: wait until it is ready, ask a question.
import type { Page } from 'playwright-core';

/** Waits until the page takes questions (the embedder, the cache and a GPT-2 are loaded). */
export async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => !(document.getElementById('question') as HTMLTextAreaElement).disabled, null, { timeout: 120_000 });
}

/** Asks and waits for the answer's meta line: hit, miss or error, the answer's text, the meta. */
export async function ask(page: Page, question: string): Promise<{ result: string | null; text: string; meta: string }> {
  const before = await page.locator('.msg.bot').count();
  await page.fill('#question', question);
  await page.click('#send');
  const answer = page.locator('.msg.bot').nth(before);
  await answer.locator('.meta').waitFor({ timeout: 120_000 });
  return { result: await answer.getAttribute('data-result'), text: (await answer.locator('.text').textContent()) ?? '', meta: (await answer.locator('.meta').textContent()) ?? '' };
}
