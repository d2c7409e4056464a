// Renders the tray icons (every state, light and dark panels, 1x and 2x, macOS template images) and the app
// icon from SVG with Chromium. Run: node build/render-icons.mjs  (needs /usr/bin/chromium)
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const hex = (fill, stroke) =>
  `<path d="M8 1.2 14 4.6v6.8L8 14.8 2 11.4V4.6Z" fill="${fill}" stroke="${stroke}" stroke-width="1.4" stroke-linejoin="round"/>`;
const key = (color) => `<circle cx="8" cy="6.6" r="1.9" fill="none" stroke="${color}" stroke-width="1.3"/><path d="M8 8.5v3.2M8 10.4h1.4" stroke="${color}" stroke-width="1.3" stroke-linecap="round"/>`;

function glyph(state, ink, paper) {
  const badge = { 'signed-in': '#2fb36b', expiring: '#f0a020', 'signed-out': null }[state];
  const body = state === 'signed-out' ? hex('none', ink) + key(ink) : hex(ink, ink) + key(paper);
  const dot = badge ? `<circle cx="12.6" cy="12.6" r="3" fill="${badge}" stroke="${paper}" stroke-width="1"/>` : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">${body}${dot}</svg>`;
}

function template(state) {
  // macOS template images: black with alpha only; the system tints them for the menu bar.
  const body = state === 'signed-out' ? hex('none', '#000') + key('#000') : `<mask id="m"><rect width="16" height="16" fill="#fff"/>${key('#000')}</mask><g mask="url(#m)">${hex('#000', '#000')}</g>`;
  const mark = state === 'expiring' ? '<circle cx="12.6" cy="12.6" r="2.6" fill="#000"/>' : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">${body}${mark}</svg>`;
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
async function render(svg, size, file) {
  await page.setViewportSize({ width: size, height: size });
  await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${size}" height="${size}" `)}</body></html>`);
  await page.screenshot({ path: file, omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
}
const tray = path.join(root, 'resources', 'tray');
await mkdir(tray, { recursive: true });
for (const state of ['signed-in', 'expiring', 'signed-out']) {
  for (const [panel, ink, paper] of [['light', '#1d2330', '#ffffff'], ['dark', '#e6e9ef', '#15181f']]) {
    await render(glyph(state, ink, paper), 16, path.join(tray, `${state}-${panel}.png`));
    await render(glyph(state, ink, paper), 32, path.join(tray, `${state}-${panel}@2x.png`));
  }
  await render(template(state), 16, path.join(tray, `${state}Template.png`));
  await render(template(state), 32, path.join(tray, `${state}Template@2x.png`));
}
const app = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3.4" fill="#326ce5"/><g transform="translate(1.6 1.6) scale(0.8)">${hex('#ffffff', '#ffffff')}${key('#326ce5')}</g></svg>`;
await render(app, 512, path.join(root, 'build', 'icon.png'));
await render(app, 256, path.join(root, 'resources', 'icon.png'));
await browser.close();
console.log('icons written to resources/tray, resources/icon.png and build/icon.png');
