import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { autostartEntryPath, desktopEntry, execArg } from './autostart.js';

test('the autostart entry lives in $XDG_CONFIG_HOME/autostart, default ~/.config/autostart (a relative XDG path is ignored, as the spec says)', () => {
  assert.equal(autostartEntryPath({ XDG_CONFIG_HOME: '/x/cfg', HOME: '/home/a' }), path.join('/x/cfg', 'autostart', 'pocketkube.desktop'));
  assert.equal(autostartEntryPath({ HOME: '/home/a' }), path.join('/home/a', '.config', 'autostart', 'pocketkube.desktop'));
  assert.equal(autostartEntryPath({ XDG_CONFIG_HOME: 'cfg', HOME: '/home/a' }), path.join('/home/a', '.config', 'autostart', 'pocketkube.desktop'));
});

test('Exec arguments are quoted and escaped as the Desktop Entry spec says', () => {
  assert.equal(execArg('/usr/bin/pocketkube'), '/usr/bin/pocketkube');
  assert.equal(execArg('/home/a/Apps/Pocket Kube.AppImage'), '"/home/a/Apps/Pocket Kube.AppImage"');
  assert.equal(execArg('/opt/a$b"c`d\\e'), '"/opt/a\\$b\\"c\\`d\\\\e"');
  assert.equal(execArg('/opt/100%'), '/opt/100%%');
  assert.match(desktopEntry(['/opt/x y/app', '/opt/x y/resources/app']), /^Exec="\/opt\/x y\/app" "\/opt\/x y\/resources\/app" --autostart$/m);
});
