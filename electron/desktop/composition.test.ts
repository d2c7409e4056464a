import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { trayIcon, visibleBounds } from './composition.js';

const R = '/app/resources';
const screen = { x: 0, y: 0, width: 1920, height: 1050 };

test('the tray icon follows the panel: Windows asks its taskbar, Linux panels are dark, macOS uses template images', () => {
  assert.deepEqual(trayIcon(R, 'signed-in', 'win32', false), { file: path.join(R, 'tray', 'signed-in-light.png'), template: false });
  assert.deepEqual(trayIcon(R, 'signed-in', 'win32', true), { file: path.join(R, 'tray', 'signed-in-dark.png'), template: false });
  assert.deepEqual(trayIcon(R, 'expiring', 'linux', false), { file: path.join(R, 'tray', 'expiring-dark.png'), template: false });
  assert.deepEqual(trayIcon(R, 'signed-out', 'darwin', true), { file: path.join(R, 'tray', 'signed-outTemplate.png'), template: true });
});

test('saved window bounds are kept on an attached display and dropped (centred) when that display is gone', () => {
  assert.deepEqual(visibleBounds({ width: 420, height: 640, x: 100, y: 80 }, [screen]), { width: 420, height: 640, x: 100, y: 80 });
  assert.deepEqual(visibleBounds({ width: 420, height: 640, x: 2500, y: 80 }, [screen]), { width: 420, height: 640 });
  // The title bar above the top of every display cannot be grabbed: not visible.
  assert.deepEqual(visibleBounds({ width: 420, height: 640, x: 100, y: -300 }, [screen]), { width: 420, height: 640 });
  // A window bigger than the display it lands on is shrunk to fit.
  assert.deepEqual(visibleBounds({ width: 2400, height: 1400 }, [screen, { x: 1920, y: 0, width: 1280, height: 800 }]), { width: 1920, height: 1050 });
});
