/**
 * A stand-in for a person at a browser, usable as BROWSER="node browser-bot.js": opens the URL in real
 * Chromium and presses "Sign in as Alice" (POCKETKUBE_BOT_USER picks another user).
 */
import { launchChromium, signInInBrowser } from './stack.js';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: browser-bot URL\n');
  process.exit(2);
}
const browser = await launchChromium();
try {
  const heading = await signInInBrowser(browser, url, process.env.POCKETKUBE_BOT_USER ?? 'alice');
  process.stderr.write(`browser-bot: ${heading}\n`);
} finally {
  await browser.close();
}
