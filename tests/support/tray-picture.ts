/**
 * Draws the tray menu model (what `buildTrayMenu` returns for a signed-in state) as a desktop menu would,
 * in Chromium, for the README: no desktop session can run here to screenshot the real one.
 * Run: node dist/tests/support/tray-picture.js  (writes tests/screenshots/tray-menu-{light,dark}.png)
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppState } from '../../electron/shared/ipc.js';
import { buildTrayMenu, tooltip, trayIconState, type MenuItemModel } from '../../electron/desktop/tray-menu.js';
import { launchChromium, REPO } from './stack.js';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const ctx = (name: string, cluster: string, current = false, ours = true) => ({ name, cluster, user: ours ? 'pocket-id' : `admin@${cluster}`, file: '~/.kube/config', current, ours });

export const trayFixture: AppState = {
  status: {
    apiVersion: 'pocketkube.dev/v1',
    kind: 'Status',
    agent: { running: true, pid: 4242, version: '0.1.0', mode: 'tray', startedAt: iso(NOW - 3_600_000), socket: '~/.pocketkube/agent.sock', secrets: { kind: 'os-keychain', where: 'OS keychain' } },
    providers: [
      {
        provider: 'pocket-id',
        issuer: 'https://id.example.com',
        clientId: 'a60960a8-c856-43b7-add7-50d83bf7eeab',
        confidential: false,
        scopes: ['openid', 'profile', 'email', 'groups'],
        redirectUri: 'http://localhost:8000',
        state: 'signed-in',
        identity: { sub: '6f1a2b3c-4d5e-4f60-8a71-9b8c7d6e5f40', name: 'Alice Anderson', email: 'alice@example.com', emailVerified: true, groups: ['kubernetes', 'developers'] },
        idToken: { issuedAt: iso(NOW - 18 * 60_000), expiresAt: iso(NOW + 42 * 60_000), credentialExpiresAt: iso(NOW + 41.5 * 60_000), state: 'valid', secondsLeft: 2520, expiresIn: 'in 42 min' },
        lastRefresh: { at: iso(NOW - 18 * 60_000), trigger: 'background', result: 'ok' },
      },
    ],
    kubeconfig: { files: ['~/.kube/config'], contexts: 4, errors: [] },
    recent: [],
  },
  contexts: { files: ['~/.kube/config'], currentContext: 'pocket-id@prod', errors: [], contexts: [ctx('pocket-id@prod', 'prod', true), ctx('admin@prod', 'prod', false, false), ctx('pocket-id@lab', 'lab'), ctx('admin@lab', 'lab', false, false)] },
  recent: [],
  owner: 'app',
  platform: 'linux',
  version: '0.1.0',
};

function html(items: MenuItemModel[], dark: boolean, icon: string, tip: string): string {
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const row = (m: MenuItemModel): string => {
    if (m.type === 'separator') return '<div class="sep"></div>';
    const mark = m.type === 'radio' ? (m.checked ? '●' : '') : m.type === 'checkbox' ? (m.checked ? '✓' : '') : '';
    const sub = m.type === 'submenu' ? '<span class="arrow">▸</span>' : '';
    return `<div class="item${m.enabled === false ? ' off' : ''}"><span class="mark">${mark}</span>${esc(m.label ?? '')}${sub}</div>`;
  };
  return `<!doctype html><html><head><style>
  body{margin:0;padding:16px;font:13px system-ui,'DejaVu Sans',sans-serif;background:${dark ? '#1e1f24' : '#dfe3ea'};color:${dark ? '#e6e9ef' : '#1d2330'};width:380px}
  .bar{display:flex;justify-content:flex-end;align-items:center;gap:8px;padding:4px 8px;background:${dark ? '#0d0e11' : '#f6f7f9'};border-radius:6px}
  .bar img{width:18px;height:18px}.tip{font-size:11px;opacity:.75;white-space:pre-line;flex:1;text-align:right}
  .menu{margin:6px 0 0 auto;width:330px;background:${dark ? '#2b2d33' : '#fff'};border-radius:8px;box-shadow:0 6px 24px #0005;padding:5px 0}
  .item{padding:4px 14px 4px 6px;display:flex;align-items:center}.item.off{opacity:.55}
  .mark{display:inline-block;width:18px;text-align:center;font-size:10px}.arrow{margin-left:auto}
  .sep{height:1px;margin:5px 0;background:${dark ? '#ffffff22' : '#0000001a'}}
  </style></head><body><div class="bar"><span class="tip">${esc(tip)}</span><img src="${icon}"></div><div class="menu">${items.map(row).join('')}</div></body></html>`;
}

const out = path.join(REPO, 'tests', 'screenshots');
await mkdir(out, { recursive: true });
const browser = await launchChromium();
try {
  for (const dark of [false, true]) {
    const state = trayIconState(trayFixture, NOW);
    const icon = `data:image/png;base64,${(await readFile(path.join(REPO, 'resources', 'tray', `${state}-${dark ? 'dark' : 'light'}@2x.png`))).toString('base64')}`;
    const page = await browser.newPage({ viewport: { width: 412, height: 100 }, deviceScaleFactor: 2 });
    await page.setContent(html(buildTrayMenu(trayFixture, NOW, { startAtLogin: true }), dark, icon, tooltip(trayFixture, NOW)));
    await page.screenshot({ path: path.join(out, `tray-menu-${dark ? 'dark' : 'light'}.png`), fullPage: true });
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(`tray menu pictures written to ${out}`);
