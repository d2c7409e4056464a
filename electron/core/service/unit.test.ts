import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launchdPlist, serviceFile, systemdUnit } from './unit.js';

const cmd = { argv: ['/usr/bin/node', '/opt/Pocket Kube/dist/electron/cli/main.js', 'agent'], env: { POCKETKUBE_HOME: '/home/a/100%/pk' } };

test('the systemd unit runs the agent with absolute, quoted paths, restarts only after a crash, and starts with the session', () => {
  assert.equal(
    systemdUnit(cmd),
    '[Unit]\nDescription=PocketKube agent: keeps the Pocket ID session and answers kubectl\n\n[Service]\n' +
      'ExecStart=/usr/bin/node "/opt/Pocket Kube/dist/electron/cli/main.js" agent\n' +
      'Environment=POCKETKUBE_HOME=/home/a/100%%/pk\n' +
      'Restart=on-failure\nRestartSec=5\n\n[Install]\nWantedBy=default.target\n',
  );
});

test('the launchd plist runs at load, keeps alive only after a failure, and escapes XML', () => {
  const plist = launchdPlist({ argv: ['/Applications/PocketKube.app/Contents/MacOS/PocketKube', '/Users/a/.pocketkube/bin/pocketkube-cli.mjs', 'agent'], env: { ELECTRON_RUN_AS_NODE: '1', POCKETKUBE_HOME: '/Users/a/<pk>&' } }, '/Users/a/.pocketkube/agent.log');
  assert.match(plist, /<key>Label<\/key>\n {2}<string>dev\.pocketkube\.agent<\/string>/);
  assert.match(plist, /<array>\n {4}<string>\/Applications\/PocketKube\.app\/Contents\/MacOS\/PocketKube<\/string>\n {4}<string>\/Users\/a\/\.pocketkube\/bin\/pocketkube-cli\.mjs<\/string>\n {4}<string>agent<\/string>\n {2}<\/array>/);
  assert.match(plist, /<key>ELECTRON_RUN_AS_NODE<\/key>\n {4}<string>1<\/string>/);
  assert.match(plist, /<string>\/Users\/a\/&lt;pk&gt;&amp;<\/string>/);
  assert.match(plist, /<key>RunAtLoad<\/key>\n {2}<true\/>/);
  assert.match(plist, /<key>KeepAlive<\/key>\n {2}<dict>\n {4}<key>SuccessfulExit<\/key>\n {4}<false\/>/);
  assert.ok(plist.endsWith('</plist>\n'));
});

test('the unit goes under XDG_CONFIG_HOME when set (absolute), else ~/.config; the plist under ~/Library/LaunchAgents', () => {
  assert.equal(serviceFile('linux', '/home/a'), '/home/a/.config/systemd/user/pocketkube-agent.service');
  assert.equal(serviceFile('linux', '/home/a', { XDG_CONFIG_HOME: '/home/a/cfg' }), '/home/a/cfg/systemd/user/pocketkube-agent.service');
  assert.equal(serviceFile('linux', '/home/a', { XDG_CONFIG_HOME: 'relative' }), '/home/a/.config/systemd/user/pocketkube-agent.service');
  assert.equal(serviceFile('darwin', '/Users/a'), '/Users/a/Library/LaunchAgents/dev.pocketkube.agent.plist');
});
